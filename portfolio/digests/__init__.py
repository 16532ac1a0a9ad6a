"""The weekly digests of DESIGN section 6: who gets one, what it says, and delivering it exactly once.

``recipients`` decides who, ``facts`` loads what the digests need, ``content`` decides
what each one says, ``chart`` draws the executive chart, ``render`` turns content into
HTML and text, ``plan`` puts them together for a week, and ``delivery`` claims, sends
and records each one. ``archive`` decides who may read which digest afterwards.
"""

from __future__ import annotations
