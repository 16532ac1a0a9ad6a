"""Two health scans at once on PostgreSQL: serialised by the advisory lock, never duplicating a flag."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count

from portfolio.models import Flag, ScanRun
from portfolio.scan import SCAN_LOCK_KEY, scan_portfolio
from tests.factories import TODAY, KpiFactory, KpiReadingFactory, PilotFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
    # Real commits from several connections; the serialised rollback puts back the
    # rows of data migrations (groups, gate criteria) that the flush would drop.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PILOTS = 6
FLAGS_PER_PILOT = 3  # no_owner, no_sponsor and drifting


@pytest.fixture
def portfolio_with_problems() -> None:
    for number in range(PILOTS):
        pilot = PilotFactory(key=f"ownerless-{number}", owner=None, sponsor=None)
        kpi = KpiFactory(pilot=pilot, key="accuracy", baseline=50.0, target=80.0)
        for days_ago, value in [(2, 45.0), (1, 44.0)]:
            KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=days_ago), value=value)


def in_thread(target: Callable[[], object], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            # Each thread has its own connection; leave none open for the flush.
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def duplicated_open_subjects() -> list[dict]:
    return list(
        Flag.objects.filter(resolved_at__isnull=True)
        .values("pilot_id", "kind", "kpi_id", "kill_criterion_id")
        .annotate(copies=Count("id"))
        .filter(copies__gt=1)
    )


def test_two_scans_in_parallel_leave_no_duplicate_open_flag(portfolio_with_problems):
    for _round in range(5):
        Flag.objects.all().delete()
        ScanRun.objects.all().delete()
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def scan(barrier: threading.Barrier = barrier) -> None:
            barrier.wait(timeout=10)
            scan_portfolio(as_of=TODAY)

        threads = [in_thread(scan, errors) for _ in range(2)]
        for thread in threads:
            thread.join(timeout=30)

        assert errors == []
        assert duplicated_open_subjects() == []
        assert Flag.objects.filter(resolved_at__isnull=True).count() == PILOTS * FLAGS_PER_PILOT
        # Serialised: whichever scan went second found every flag already raised. (Which one
        # records its finish first is a race after the lock is released, so compare as a set.)
        runs = sorted(ScanRun.objects.values_list("flags_raised", "error"))
        assert runs == [(0, ""), (PILOTS * FLAGS_PER_PILOT, "")]


def test_a_scan_waits_for_the_lock_held_by_another(portfolio_with_problems):
    errors: list[BaseException] = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCAN_LOCK_KEY])
        waiting = in_thread(lambda: scan_portfolio(as_of=TODAY), errors)
        time.sleep(1)
        assert waiting.is_alive()
        assert not Flag.objects.exists()

    waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert errors == []
    assert Flag.objects.filter(resolved_at__isnull=True).count() == PILOTS * FLAGS_PER_PILOT
