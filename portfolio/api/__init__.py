"""The JSON API under /api/: personal tokens, the same permissions as the pages, JSON errors only.

``auth`` checks the bearer token and its rate limit, ``schemas`` says what goes in and out,
``errors`` turns every failure into JSON with a fitting status, ``endpoints`` holds the
operations and ``urls`` mounts them.
"""

from __future__ import annotations
