"""Pilots at a gate, for the gate tests: one ready for approval, one ready for production."""

from __future__ import annotations

import datetime as dt

import pytest

from gates.models import GateCriterion
from portfolio.models import Phase, Pilot
from tests.factories import (
    TODAY,
    AttestationFactory,
    CheckInFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
)

PRODUCTION_EVIDENCE = ("data_pipeline", "integration_plan", "monitoring", "change_management", "governance")


@pytest.fixture
def ready_for_approval(pilot: Pilot) -> Pilot:
    """The persona pilot in proof of concept with every criterion of the first gate met."""
    KpiFactory(pilot=pilot, key="match-rate", name="Match rate", baseline=40.0, target=80.0)
    KillCriterionFactory(pilot=pilot, key="floor")
    return pilot


@pytest.fixture
def ready_for_production(pilot: Pilot) -> Pilot:
    """The persona pilot in the pilot phase with every criterion of production readiness met."""
    Pilot.objects.filter(pk=pilot.pk).update(phase=Phase.PILOT, phase_entered_on=TODAY - dt.timedelta(days=20))
    pilot.refresh_from_db()
    kpi = KpiFactory(pilot=pilot, key="match-rate", name="Match rate", baseline=40.0, target=80.0)
    for days_ago, value in [(15, 50.0), (8, 55.0), (1, 60.0)]:
        KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=days_ago), value=value)
    KillCriterionFactory(pilot=pilot, key="floor")
    CheckInFactory(pilot=pilot, on=TODAY - dt.timedelta(days=5))
    for code in PRODUCTION_EVIDENCE:
        AttestationFactory(
            pilot=pilot, criterion=GateCriterion.objects.get(code=code), attested_on=TODAY - dt.timedelta(days=10)
        )
    return pilot
