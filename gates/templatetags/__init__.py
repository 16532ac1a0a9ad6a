"""Template tags of the phase gates, for the pilot page's sections (portfolio never imports gates)."""

from __future__ import annotations
