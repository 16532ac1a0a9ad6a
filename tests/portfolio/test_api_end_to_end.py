"""Issue 8 end to end: a token pushes a week of readings, a real worker raises the flag, a receiver gets it signed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from conftest import use_broker
from portfolio.models import Flag, FlagKind, KpiReading, WebhookEndpoint
from tests.factories import KpiFactory, PilotFactory, UserFactory
from tests.portfolio.api_support import READ, WRITE, TokenClient, token_for
from tests.portfolio.webhook_receiver import receiving
from tests.workers import integration_broker_url, require_postgresql, running_worker, wait_for

# serialized_rollback: the flush after a transactional test would take the role groups and gate criteria
# the migrations load with it, and the tests after this one need them.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

SECRET = "end-to-end-secret"


@pytest.fixture
def broker_url():
    url = integration_broker_url()
    require_postgresql()
    use_broker(url, settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    return url


def test_a_week_pushed_with_a_token_raises_the_flag_and_a_receiver_gets_it_signed(broker_url, tmp_path):
    today = timezone.localdate()
    owner = UserFactory(username="olivia")
    pilot = PilotFactory(
        key="ticket-triage", name="Ticket triage", owner=owner, started_on=today - dt.timedelta(days=40)
    )
    KpiFactory(pilot=pilot, key="auto-resolved", name="Auto-resolved", baseline=50.0, target=80.0)
    rival = UserFactory(username="rita")
    PilotFactory(key="rivals-pilot", owner=rival)
    week = [{"on": (today - dt.timedelta(days=6 - n)).isoformat(), "value": 46.0 - n} for n in range(7)]
    url = "/api/pilots/ticket-triage/kpis/auto-resolved/readings"

    with receiving() as receiver, running_worker(broker_url, tmp_path / "worker.log"):
        WebhookEndpoint.objects.create(url=receiver.url, secret=SECRET, business_unit=pilot.business_unit)

        refused = [
            TokenClient(token_for(rival, WRITE)).post(url, {"readings": week}).status_code,
            TokenClient(token_for(owner, READ)).post(url, {"readings": week}).status_code,
        ]
        pushed = TokenClient(token_for(owner, WRITE)).post(url, {"readings": week})

        def drifting() -> bool:
            return Flag.objects.filter(pilot=pilot, kind=FlagKind.DRIFTING, resolved_at=None).exists()

        log = (tmp_path / "worker.log").read_text
        assert wait_for(drifting, timeout=30), log()
        assert receiver.wait_for(1, timeout=30), log()

    assert refused == [403, 403]
    assert pushed.status_code == 200
    assert KpiReading.objects.filter(kpi__pilot=pilot, source="api").count() == 7
    drift = [r for r in receiver.received if r.json["data"]["flag"]["kind"] == "drifting"]
    assert drift, [r.json["event"] for r in receiver.received]
    assert drift[0].signed_with(SECRET)
    assert drift[0].json["event"] == "flag.raised"
    assert drift[0].json["text"].startswith("Flag raised on Ticket triage: Drifting (warning)")
