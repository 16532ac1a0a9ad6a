"""Gate reads: readiness from the database, the dashboard's blockers, decisions, overrides, the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gates.models import GateCriterion
from gates.selectors import gate_blockers, gate_decisions, gate_overrides, pilot_readiness, pilot_timeline
from portfolio import extensions
from portfolio.models import Phase, Pilot, Status
from tests.factories import (
    TODAY,
    AttestationFactory,
    CheckInFactory,
    FlagFactory,
    GateReviewFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def days_ago(count: int) -> dt.date:
    return TODAY - dt.timedelta(days=count)


def states_by_code(pilot: Pilot, as_of: dt.date = TODAY) -> dict[str, tuple[bool, str]]:
    gate = pilot_readiness(pilot, as_of=as_of)
    assert gate is not None
    return {state.criterion.code: (state.met, state.reason) for state in gate.states}


# Readiness from the database


def test_a_pilot_with_everything_in_place_is_ready_for_production(ready_for_production):
    gate = pilot_readiness(ready_for_production, as_of=TODAY)
    assert (gate.gate, gate.from_phase, gate.to_phase, gate.label) == (
        "pilot",
        "pilot",
        "production",
        "Production readiness",
    )
    assert gate.is_ready, [s.reason for s in gate.unmet]
    assert gate.met_count == len(gate.states) == 8


def test_the_first_gate_of_a_bare_pilot_lists_what_is_missing(pilot):
    states = states_by_code(pilot)
    assert states["owner_assigned"] == (True, "Olivia Owner is the owner")
    assert states["metrics_defined"] == (False, "No KPI defined")
    assert states["kill_criteria_set"] == (False, "No kill criteria set")


def test_evidence_recorded_180_days_before_counts_and_181_days_before_does_not(ready_for_production):
    monitoring = GateCriterion.objects.get(code="monitoring")
    ready_for_production.attestations.filter(criterion=monitoring).update(attested_on=days_ago(180))
    assert states_by_code(ready_for_production)["monitoring"][0] is True

    ready_for_production.attestations.filter(criterion=monitoring).update(attested_on=days_ago(181))
    met, reason = states_by_code(ready_for_production)["monitoring"]
    assert not met
    assert reason.startswith("Evidence expired 1 day ago")


def test_the_latest_evidence_of_a_criterion_is_the_one_that_counts(ready_for_production, owner):
    monitoring = GateCriterion.objects.get(code="monitoring")
    ready_for_production.attestations.filter(criterion=monitoring).update(attested_on=days_ago(400))
    AttestationFactory(pilot=ready_for_production, criterion=monitoring, attested_on=days_ago(2), evidence="New")
    gate = pilot_readiness(ready_for_production, as_of=TODAY)
    state = next(s for s in gate.states if s.criterion.code == "monitoring")
    assert (state.met, state.evidence.text) == (True, "New")


def test_readiness_as_of_a_past_date_ignores_later_readings_check_ins_and_evidence(ready_for_production):
    states = states_by_code(ready_for_production, as_of=days_ago(12))
    assert states["value_demonstrated"][0] is False  # one reading by then
    assert states["sponsor_engaged"] == (False, "No sponsor check-in recorded")
    assert states["monitoring"] == (False, "No evidence recorded")


def test_an_open_critical_flag_blocks_the_scale_decision(ready_for_production):
    Pilot.objects.filter(pk=ready_for_production.pk).update(phase=Phase.PRODUCTION)
    ready_for_production.refresh_from_db()
    FlagFactory(pilot=ready_for_production, kind="no_owner", severity="critical", detail="No owner named")
    FlagFactory(pilot=ready_for_production, kind="stale", severity="warning")
    assert states_by_code(ready_for_production)["no_critical_flags"] == (
        False,
        "A critical flag is open: No owner named",
    )


def test_killed_and_scaled_pilots_have_no_gate_ahead(pilot):
    Pilot.objects.filter(pk=pilot.pk).update(status=Status.KILLED)
    pilot.refresh_from_db()
    assert pilot_readiness(pilot) is None
    scaled = PilotFactory(phase=Phase.SCALED)
    assert pilot_readiness(scaled) is None


# Criteria the portfolio office tunes


def test_a_deactivated_criterion_no_longer_blocks_the_gate(ready_for_production):
    GateCriterion.objects.filter(code="monitoring").update(active=False)
    ready_for_production.attestations.all().delete()
    codes = states_by_code(ready_for_production)
    assert "monitoring" not in codes
    assert (
        "Monitoring and alerting in place"
        not in gate_blockers([ready_for_production.pk], TODAY)[ready_for_production.pk]
    )


def test_criteria_are_listed_in_the_order_the_office_gives_them(pilot):
    GateCriterion.objects.filter(code="kill_criteria_set").update(order=1)
    gate = pilot_readiness(pilot, as_of=TODAY)
    assert gate.states[0].criterion.code == "kill_criteria_set"


def test_a_reworded_criterion_shows_its_new_wording(pilot):
    GateCriterion.objects.filter(code="kill_criteria_set").update(label="Kill criteria agreed with Finance")
    assert "Kill criteria agreed with Finance" in gate_blockers([pilot.pk], TODAY)[pilot.pk]


def test_a_new_criterion_blocks_until_it_is_met(ready_for_approval):
    GateCriterion.objects.create(gate="poc", code="security", label="Security reviewed", kind="attested", order=5)
    assert gate_blockers([ready_for_approval.pk], TODAY) == {ready_for_approval.pk: ["Security reviewed"]}


# The dashboard's provider


def test_gate_blockers_lists_the_unmet_labels_of_each_pilots_next_gate(ready_for_production):
    bare = PilotFactory(owner=None)
    killed = PilotFactory(status=Status.KILLED)
    scaled = PilotFactory(phase=Phase.SCALED)
    blockers = gate_blockers([ready_for_production.pk, bare.pk, killed.pk, scaled.pk], TODAY)
    assert blockers[ready_for_production.pk] == []
    assert blockers[bare.pk] == [
        "Business owner assigned",
        "Success metrics defined",
        "Baseline measured",
        "Kill criteria set",
    ]
    assert killed.pk not in blockers
    assert scaled.pk not in blockers


def test_gate_blockers_is_what_the_portfolio_gets_through_its_extension_registry(pilot):
    assert extensions.gate_blockers([pilot.pk], TODAY) == gate_blockers([pilot.pk], TODAY)


def make_pilots(count: int) -> list[int]:
    owner, sponsor = UserFactory(), UserFactory()
    ids = []
    for number in range(count):
        phase = [Phase.POC, Phase.PILOT, Phase.PRODUCTION][number % 3]
        pilot = PilotFactory(owner=owner, sponsor=sponsor, phase=phase)
        kpi = KpiFactory(pilot=pilot)
        KpiReadingFactory(kpi=kpi, measured_on=days_ago(1), value=55.0)
        KillCriterionFactory(pilot=pilot)
        CheckInFactory(pilot=pilot, on=days_ago(3))
        AttestationFactory(pilot=pilot)
        ids.append(pilot.pk)
    return ids


def queries_of(pilot_ids: list[int]) -> int:
    with CaptureQueriesContext(connection) as captured:
        found = gate_blockers(pilot_ids, TODAY)
    assert len(found) == len(pilot_ids)
    return len(captured.captured_queries)


def test_gate_blockers_takes_as_many_queries_for_100_pilots_as_for_10():
    ids = make_pilots(100)
    # Eight queries; on PostgreSQL the readings' one also switches JIT off in a savepoint.
    assert queries_of(ids[:10]) == queries_of(ids) <= 11


# Decisions and overrides for the dashboard and the digest


def test_gate_decisions_lists_the_decisions_of_a_period_oldest_first(pilot, sponsor):
    GateReviewFactory(pilot=pilot, decided_on=days_ago(10))
    inside = GateReviewFactory(
        pilot=pilot, decided_on=days_ago(3), decision="hold", next_review_on=TODAY, override_justification=""
    )
    GateReviewFactory(pilot=pilot, decided_on=days_ago(1), decision="advance", override_justification="Urgent.")
    decisions = gate_decisions(days_ago(7), days_ago(1))
    assert [(d.decided_on, d.decision) for d in decisions] == [(inside.decided_on, "hold"), (days_ago(1), "advance")]
    assert (decisions[1].pilot_key, decisions[1].decided_by, decisions[1].override_justification) == (
        "invoice-matching",
        "Sam Sponsor",
        "Urgent.",
    )


def test_gate_overrides_are_the_pilots_whose_latest_advance_was_an_override(pilot):
    overridden = PilotFactory()
    GateReviewFactory(pilot=overridden, decided_on=days_ago(20), override_justification="Cannot wait for Legal.")
    later_clean = PilotFactory(phase=Phase.PRODUCTION)
    GateReviewFactory(pilot=later_clean, decided_on=days_ago(20), override_justification="Cannot wait.")
    GateReviewFactory(pilot=later_clean, decided_on=days_ago(5), from_phase="pilot", to_phase="production")
    GateReviewFactory(pilot=pilot, decided_on=days_ago(5))
    assert gate_overrides() == {overridden.pk}


# The timeline of the pilot page


def test_the_timeline_dates_each_phase_by_the_advances_and_lists_each_review_in_its_phase(pilot):
    Pilot.objects.filter(pk=pilot.pk).update(
        phase=Phase.PRODUCTION, started_on=days_ago(300), phase_entered_on=days_ago(40)
    )
    pilot.refresh_from_db()
    approval = GateReviewFactory(pilot=pilot, decided_on=days_ago(200))
    hold = GateReviewFactory(
        pilot=pilot, decided_on=days_ago(90), from_phase="pilot", to_phase="production", decision="hold"
    )
    ready = GateReviewFactory(
        pilot=pilot, decided_on=days_ago(40), from_phase="pilot", to_phase="production", override_justification="Go."
    )

    timeline = pilot_timeline(pilot, today=TODAY)

    assert [(t.phase, t.state, t.entered_on, t.left_on, t.days) for t in timeline] == [
        ("poc", "passed", days_ago(300), days_ago(200), 100),
        ("pilot", "passed", days_ago(200), days_ago(40), 160),
        ("production", "current", days_ago(40), None, 40),
        ("scaled", "upcoming", None, None, None),
    ]
    assert [t.reviews for t in timeline] == [[approval], [hold, ready], [], []]
    assert ready.is_override


def test_a_killed_pilots_timeline_ends_where_it_was_killed(pilot):
    Pilot.objects.filter(pk=pilot.pk).update(
        status=Status.KILLED, started_on=days_ago(50), phase_entered_on=days_ago(50)
    )
    pilot.refresh_from_db()
    kill = GateReviewFactory(pilot=pilot, decided_on=days_ago(10), decision="kill", lessons="Measure first.")
    timeline = pilot_timeline(pilot, today=TODAY)
    assert [(t.phase, t.state, t.left_on, t.days, t.reviews) for t in timeline] == [
        ("poc", "killed", days_ago(10), 40, [kill])
    ]


def test_a_pilot_imported_past_a_phase_without_its_reviews_shows_no_invented_dates(pilot):
    Pilot.objects.filter(pk=pilot.pk).update(phase=Phase.PRODUCTION, phase_entered_on=days_ago(5))
    pilot.refresh_from_db()
    timeline = pilot_timeline(pilot, today=TODAY)
    assert [(t.phase, t.entered_on, t.left_on) for t in timeline[:3]] == [
        ("poc", pilot.started_on, None),
        ("pilot", None, days_ago(5)),
        ("production", days_ago(5), None),
    ]


def test_without_reviews_the_dates_come_from_the_pilots_history():
    pilot = PilotFactory(phase=Phase.PILOT, started_on=days_ago(100), phase_entered_on=days_ago(40))
    pilot.phase, pilot.phase_entered_on = Phase.PRODUCTION, days_ago(5)
    pilot.save()
    timeline = pilot_timeline(pilot, today=TODAY)
    assert [(t.phase, t.entered_on, t.left_on, t.days) for t in timeline[:3]] == [
        ("poc", days_ago(100), days_ago(40), 60),
        ("pilot", days_ago(40), days_ago(5), 35),
        ("production", days_ago(5), None, 5),
    ]
