"""Template filters of the portfolio app."""

from __future__ import annotations
