"""Template context every page shares: the freshness of the last health scan."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from portfolio import monitoring


def scan_status(request: HttpRequest) -> dict[str, object]:
    # Lazy: one indexed query, and only on pages that show it.
    return {"last_scan": SimpleLazyObject(lambda: monitoring.last_scan_freshness(timezone.now()))}
