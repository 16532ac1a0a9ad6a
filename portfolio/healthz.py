"""/healthz: JSON status of the database, the broker and the last scan; no login."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portfolio import monitoring


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = monitoring.database_ok()
    broker = monitoring.broker_ok()
    scan = monitoring.last_scan_freshness(timezone.now()) if database else None
    scan_ok = scan is not None and not scan.overdue
    body = {
        "status": "ok" if database and broker and scan_ok else "unhealthy",
        "database": "ok" if database else "unreachable",
        "broker": "ok" if broker else "unreachable",
        "last_scan": {
            "finished_at": scan.finished_at.isoformat() if scan and scan.finished_at else None,
            "age_seconds": scan.age_seconds if scan else None,
            "status": "ok" if scan_ok else "overdue",
        },
    }
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
