"""Routes of the phase gates (included at the site root by portfolio/urls.py)."""

from __future__ import annotations

urlpatterns: list = []
