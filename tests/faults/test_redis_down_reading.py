"""Redis is down while an owner records a reading: the reading is saved at once, the flag follows Redis back.

A real gunicorn process and a real worker share the test's database and a redis-server of
the test's own. With Redis stopped the owner posts a reading through the KPI row's form
(htmx, as the browser sends it); once Redis is back the periodic scan, queued as beat
queues it, raises the flag the lost rescan would have raised.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from portfolio.celery import app
from portfolio.models import Flag, FlagKind, KpiReading, ScanRun
from tests.factories import KpiFactory, PilotFactory, UserFactory
from tests.faults.servers import Browser, pbkdf2_password, web_process
from tests.workers import running_worker, shared_database_url, wait_for

pytestmark = pytest.mark.integration

# The user's wait with the broker down. A refused connection fails the publish at once
# (0.06-0.3 s measured for the whole request); a broker that does not answer at all
# costs its 2 s connection timeout. The write is committed before either.
QUICK_SECONDS = 5.0


def owner_with_a_password(username: str):
    owner = UserFactory(username=username)
    get_user_model().objects.filter(pk=owner.pk).update(password=pbkdf2_password("a-long-pass-phrase"))
    return owner


def drifting_kpi(owner, key: str):
    """A KPI with one reading below its baseline: one more below it makes the pilot drift."""
    today = timezone.localdate()
    pilot = PilotFactory(key=key, owner=owner, started_on=today - dt.timedelta(days=50))
    kpi = KpiFactory(pilot=pilot, key="auto-match", name="Auto-match rate", baseline=50.0, target=80.0)
    KpiReading.objects.create(kpi=kpi, measured_on=today - dt.timedelta(days=7), value=45.0)
    return kpi


def record_reading(browser: Browser, kpi, value: str):
    """POST the KPI row's form, as htmx does: the CSRF header, the row's prefix, today's date."""
    prefix = f"kpi-{kpi.pk}"
    browser.get(f"/pilots/{kpi.pilot.key}/")
    return browser.request(
        f"/pilots/{kpi.pilot.key}/kpis/{kpi.key}/readings/",
        {f"{prefix}-measured_on": timezone.localdate().isoformat(), f"{prefix}-value": value, f"{prefix}-note": ""},
        headers={"HX-Request": "true"},
    )


def drifting(kpi) -> bool:
    return Flag.objects.filter(kpi=kpi, kind=FlagKind.DRIFTING, resolved_at=None).exists()


def queue_the_periodic_scan() -> None:
    """What beat sends each period: the scheduled task with the entry's options."""
    entry = settings.CELERY_BEAT_SCHEDULE["scan-portfolio-health"]
    app.send_task(entry["task"], **entry["options"])


def test_a_reading_recorded_while_redis_is_down_is_saved_quickly_and_flagged_once_redis_returns(
    own_redis, shared_database, tmp_path, record_property
):
    owner = owner_with_a_password("olivia")
    while_down = drifting_kpi(owner, "invoice-matching")
    once_back = drifting_kpi(owner, "ticket-triage")
    worker_log = tmp_path / "worker.log"

    with (
        running_worker(own_redis.url(), worker_log),
        web_process(tmp_path / "web", DATABASE_URL=shared_database_url(), REDIS_URL=own_redis.url()) as base_url,
    ):
        assert wait_for(lambda: ScanRun.objects.filter(finished_at__isnull=False).exists(), timeout=30)
        browser = Browser(base_url)
        browser.sign_in("olivia", "a-long-pass-phrase")

        own_redis.stop()
        answer = record_reading(browser, while_down, "41")
        health = browser.get("/healthz")

        record_property("reading_post_seconds_with_redis_down", round(answer.seconds, 3))
        record_property("healthz_seconds_with_redis_down", round(health.seconds, 3))
        print(f"\nreading POST with Redis down: {answer.status} in {answer.seconds:.3f} s")
        print(f"/healthz with Redis down: {health.status} in {health.seconds:.3f} s")
        assert answer.status == 200, answer.text[:2000]
        assert "Recorded 41" in answer.text
        assert answer.seconds < QUICK_SECONDS
        assert KpiReading.objects.filter(kpi=while_down, measured_on=timezone.localdate(), value=41.0).exists()
        assert health.status == 503
        assert json.loads(health.text)["broker"] == "unreachable"
        assert health.seconds < QUICK_SECONDS
        assert not drifting(while_down)

        own_redis.start()
        # The web process's broker connection comes back by itself: the next write's
        # rescan reaches the worker.
        assert record_reading(browser, once_back, "41").status == 200
        assert wait_for(lambda: drifting(once_back), timeout=30), worker_log.read_text()
        # The rescan lost while Redis was down stays lost; the periodic scan makes up for it.
        assert not drifting(while_down)
        queue_the_periodic_scan()
        assert wait_for(lambda: drifting(while_down), timeout=30), worker_log.read_text()
