"""The digests' benchmark section measures a full run and leaves the database as it found it."""

from __future__ import annotations

import pytest
from django.core import mail

from portfolio.benchmarks import BenchContext
from portfolio.benchmarks.digests import DIGESTS_BUDGET_SECONDS, measure
from portfolio.models import DigestDelivery
from tests.factories import TODAY, FlagFactory, PilotFactory, UserFactory


@pytest.mark.usefixtures("frozen_today")
def test_it_times_every_digest_and_leaves_no_trace(executive):
    for _ in range(3):
        FlagFactory(pilot=PilotFactory(owner=UserFactory(), sponsor=UserFactory()), kind="stale")

    full, planning = measure(BenchContext(as_of=TODAY, pilot_count=3, repeat=1))

    assert full.budget_seconds == DIGESTS_BUDGET_SECONDS
    assert full.floor_seconds is not None
    assert full.queries and full.queries > 0
    assert "6 owner + 1 executive digests" in full.note
    assert planning.seconds > 0
    assert not DigestDelivery.objects.exists()
    assert mail.outbox == []


@pytest.mark.usefixtures("frozen_today")
def test_a_portfolio_never_scanned_is_scanned_first(owner, sponsor, executive):
    PilotFactory(owner=owner, sponsor=sponsor)  # no KPI: the scan flags it

    full, _ = measure(BenchContext(as_of=TODAY, pilot_count=1, repeat=1))

    assert "2 owner + 1 executive digests" in full.note
