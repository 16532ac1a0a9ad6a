"""Views, one module per area of the application."""

from __future__ import annotations
