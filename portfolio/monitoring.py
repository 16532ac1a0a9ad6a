"""Is the monitor itself alive? Database, broker and the age of the last health scan.

The staleness rule is a pure function so the dashboard, the pilot list and /healthz
say the same thing about the same scan.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanFreshness:
    finished_at: dt.datetime | None
    age: dt.timedelta | None
    overdue: bool

    @property
    def age_seconds(self) -> int | None:
        return None if self.age is None else int(self.age.total_seconds())


def scan_freshness(finished_at: dt.datetime | None, now: dt.datetime, period_minutes: int) -> ScanFreshness:
    """A scan is overdue when none has finished or the last is older than twice its period."""
    if finished_at is None:
        return ScanFreshness(finished_at=None, age=None, overdue=True)
    age = now - finished_at
    return ScanFreshness(finished_at=finished_at, age=age, overdue=age > dt.timedelta(minutes=2 * period_minutes))


def last_scan_freshness(now: dt.datetime) -> ScanFreshness:
    """The freshness of the last finished scan, from the database."""
    from portfolio.models import ScanRun

    finished_at = (
        ScanRun.objects.filter(finished_at__isnull=False, error="")
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return scan_freshness(finished_at, now, settings.HEALTH_THRESHOLDS["scan_period_minutes"])


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("healthz: database check failed")
        return False


def broker_ok(timeout: float = 2.0) -> bool:
    from portfolio.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
        return True
    except Exception:
        logger.warning("healthz: broker check failed", exc_info=True)
        return False
