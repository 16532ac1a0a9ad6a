"""A real worker, a real Redis and PostgreSQL: flags appear after a write without a manual scan."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from conftest import use_broker
from portfolio.models import Flag, FlagKind, KpiReading, ScanRun
from portfolio.services import reading_record
from tests.factories import KpiFactory, PilotFactory, UserFactory
from tests.workers import integration_broker_url, require_postgresql, running_worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def broker_url():
    url = integration_broker_url()
    require_postgresql()
    use_broker(url, settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    return url


def test_a_drifting_reading_raises_the_flag_through_the_worker(broker_url, tmp_path):
    today = timezone.localdate()
    owner = UserFactory(username="olivia")
    pilot = PilotFactory(key="ticket-triage", owner=owner, started_on=today - dt.timedelta(days=40))
    kpi = KpiFactory(pilot=pilot, key="auto-resolved", name="Auto-resolved", baseline=50.0, target=80.0)
    KpiReading.objects.create(kpi=kpi, measured_on=today - dt.timedelta(days=7), value=45.0)

    with running_worker(broker_url, tmp_path / "worker.log"):
        reading_record(kpi=kpi, measured_on=today, value=41.0, recorded_by=owner)

        def drifting() -> bool:
            return Flag.objects.filter(pilot=pilot, kind=FlagKind.DRIFTING, kpi=kpi, resolved_at=None).exists()

        assert wait_for(drifting, timeout=30), (tmp_path / "worker.log").read_text()
    flag = Flag.objects.get(pilot=pilot, kind=FlagKind.DRIFTING)
    assert "Auto-resolved" in flag.detail


def test_a_worker_that_starts_scans_the_portfolio_at_once(broker_url, tmp_path):
    pilot = PilotFactory(key="no-owner-yet", owner=None)

    with running_worker(broker_url, tmp_path / "worker.log"):

        def scanned() -> bool:
            return ScanRun.objects.filter(finished_at__isnull=False, error="").exists()

        assert wait_for(scanned, timeout=30), (tmp_path / "worker.log").read_text()
    assert Flag.objects.filter(pilot=pilot, kind=FlagKind.NO_OWNER, resolved_at=None).exists()
