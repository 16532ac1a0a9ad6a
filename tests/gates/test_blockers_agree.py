"""The dashboard's blockers and the gate page judge every pilot alike, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest

from gates.models import GateCriterion
from gates.selectors import gate_blockers, pilot_readiness
from portfolio.models import Direction, Phase, Pilot, Status
from tests.factories import (
    TODAY,
    AttestationFactory,
    CheckInFactory,
    FlagFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PRODUCTION_EVIDENCE = ("data_pipeline", "integration_plan", "monitoring", "change_management", "governance")
SCALE_EVIDENCE = ("runbook", "drift_monitoring")
MONITORING = "Monitoring and alerting in place"
# Eight reads; on PostgreSQL the readings' one runs in a savepoint that switches JIT off.
MOST_QUERIES = 11


def days_ago(count: int) -> dt.date:
    return TODAY - dt.timedelta(days=count)


def at_gate(phase: str, **fields: object) -> Pilot:
    return PilotFactory(phase=phase, phase_entered_on=days_ago(60), started_on=days_ago(200), **fields)


def attest(pilot: Pilot, codes: tuple[str, ...], *, days: int = 10) -> None:
    for code in codes:
        AttestationFactory(pilot=pilot, criterion=GateCriterion.objects.get(code=code), attested_on=days_ago(days))


def read(pilot: Pilot, values_by_days_ago: dict[int, float], **kpi_fields: object) -> None:
    kpi = KpiFactory(pilot=pilot, **kpi_fields)
    for days, value in values_by_days_ago.items():
        KpiReadingFactory(kpi=kpi, measured_on=days_ago(days), value=value)


def in_pilot_phase(*, evidence_days: int = 10, checkin_days: int = 5, **fields: object) -> Pilot:
    """A pilot-phase pilot with every production criterion met unless told otherwise."""
    pilot = at_gate(Phase.PILOT, **fields)
    KillCriterionFactory(pilot=pilot)
    CheckInFactory(pilot=pilot, on=days_ago(checkin_days))
    attest(pilot, PRODUCTION_EVIDENCE, days=evidence_days)
    return pilot


@pytest.fixture
def portfolio() -> dict[str, Pilot]:
    """Pilots at each gate on either side of its boundaries (baseline 50, target 80, higher is better)."""
    pilots: dict[str, Pilot] = {}

    pilots["bare proof of concept"] = at_gate(Phase.POC, owner=None)
    ready = pilots["proof of concept ready"] = at_gate(Phase.POC)
    KpiFactory(pilot=ready)
    KillCriterionFactory(pilot=ready)
    no_baseline = pilots["a KPI without a baseline"] = at_gate(Phase.POC, outcome="")
    KpiFactory(pilot=no_baseline, baseline=None, baseline_on=None)
    future_baseline = pilots["a baseline dated after the day judged"] = at_gate(
        Phase.POC, sponsor=UserFactory(is_active=False)
    )
    KpiFactory(pilot=future_baseline, baseline_on=days_ago(3))

    shown = pilots["value shown, evidence 180 days old"] = in_pilot_phase(evidence_days=180, checkin_days=30)
    read(shown, {1: 60.0, 2: 61.0, 3: 62.0})
    expired = pilots["evidence 181 days old"] = in_pilot_phase(evidence_days=181, checkin_days=31)
    read(expired, {1: 60.0, 2: 61.0, 3: 62.0})
    older_miss = pilots["an older miss not counted"] = in_pilot_phase()
    read(older_miss, {1: 60.0, 2: 61.0, 3: 62.0, 4: 40.0})
    lately = pilots["value shown only in the last week"] = in_pilot_phase()
    read(lately, {1: 60.0, 2: 61.0, 3: 62.0, 10: 45.0, 11: 46.0, 12: 47.0})
    read(lately, {1: 60.0, 8: 40.0, 9: 55.0, 10: 45.0})  # a second KPI, never three beats in a row
    two = pilots["two readings only"] = in_pilot_phase(status=Status.ON_HOLD)
    read(two, {1: 60.0, 2: 61.0})
    pilots["attested yesterday, nothing read"] = in_pilot_phase(evidence_days=1)

    met = pilots["targets met, an older miss"] = at_gate(Phase.PRODUCTION)
    attest(met, SCALE_EVIDENCE)
    read(met, {1: 81.0, 2: 85.0, 3: 80.0, 4: 70.0})
    read(met, {1: 1.0, 2: 2.0, 3: 2.0}, direction=Direction.DECREASE, baseline=9.0, target=2.0)
    missed = pilots["target missed lately, a critical flag"] = at_gate(Phase.PRODUCTION)
    attest(missed, SCALE_EVIDENCE, days=200)
    read(missed, {1: 79.0, 2: 85.0, 3: 90.0, 8: 90.0, 9: 90.0, 10: 90.0})
    FlagFactory(pilot=missed, kind="no_owner", severity="critical", detail="No owner named")
    FlagFactory(pilot=missed, kind="stale", severity="warning")

    pilots["killed"] = at_gate(Phase.PILOT, status=Status.KILLED)
    pilots["scaled"] = at_gate(Phase.SCALED)
    return pilots


@pytest.mark.parametrize("as_of", [TODAY, days_ago(7)], ids=["today", "a week ago"])
def test_the_blockers_of_each_pilot_are_the_unmet_criteria_its_gate_page_shows(portfolio, as_of):
    blockers = gate_blockers([pilot.pk for pilot in portfolio.values()], as_of)
    for story, pilot in portfolio.items():
        gate = pilot_readiness(pilot, as_of=as_of)
        if gate is None:
            assert pilot.pk not in blockers, story
        else:
            assert blockers[pilot.pk] == [state.criterion.label for state in gate.unmet], story


def test_the_portfolio_falls_on_both_sides_of_each_boundary(portfolio):
    today = gate_blockers([pilot.pk for pilot in portfolio.values()], TODAY)
    week_ago = gate_blockers([pilot.pk for pilot in portfolio.values()], days_ago(7))

    def blocks(story: str, label: str, found: dict[int, list[str]] = today) -> bool:
        return label in found[portfolio[story].pk]

    assert today[portfolio["proof of concept ready"].pk] == []
    assert blocks("a KPI without a baseline", "Baseline measured")
    assert blocks("a baseline dated after the day judged", "Baseline measured", week_ago)
    assert not blocks("a baseline dated after the day judged", "Baseline measured")
    assert today[portfolio["value shown, evidence 180 days old"].pk] == []
    assert blocks("evidence 181 days old", MONITORING)
    assert blocks("evidence 181 days old", "Sponsor engaged")
    assert today[portfolio["an older miss not counted"].pk] == []
    assert not blocks("value shown only in the last week", "Value demonstrated")
    assert blocks("value shown only in the last week", "Value demonstrated", week_ago)
    assert blocks("two readings only", "Value demonstrated")
    assert blocks("attested yesterday, nothing read", MONITORING, week_ago)
    assert today[portfolio["targets met, an older miss"].pk] == []
    assert today[portfolio["target missed lately, a critical flag"].pk] == [
        "Targets met and stable",
        "No critical flags open",
        "Runbook, support and escalation path documented",
        "Drift monitoring and retraining owned",
    ]
    assert not blocks("target missed lately, a critical flag", "Targets met and stable", week_ago)


def test_the_blockers_of_many_pilots_take_no_more_queries_than_of_a_few(portfolio, django_assert_max_num_queries):
    for number in range(30):
        pilot = in_pilot_phase() if number % 2 else at_gate(Phase.PRODUCTION)
        read(pilot, {1: 85.0, 2: 86.0, 3: 87.0})
    ids = list(Pilot.objects.values_list("id", flat=True))
    with django_assert_max_num_queries(MOST_QUERIES):
        blockers = gate_blockers(ids, TODAY)
    assert len(blockers) == len(ids) - 2  # the killed and the scaled pilots have no gate ahead
