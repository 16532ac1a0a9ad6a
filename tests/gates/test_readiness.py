"""The readiness rules: each criterion met and unmet at its boundary, with its reason (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from gates.readiness import (
    Criterion,
    Evidence,
    KpiFacts,
    PilotFacts,
    criterion_state,
    next_gate,
    readiness,
    unmet_labels,
)
from portfolio.health import Reading

TODAY = dt.date(2026, 11, 16)
VALID_DAYS = 180


def days_ago(count: int) -> dt.date:
    return TODAY - dt.timedelta(days=count)


def auto(rule: str, label: str = "A criterion") -> Criterion:
    return Criterion(id=1, code=rule, label=label, kind="auto", rule=rule)


MONITORING = Criterion(id=12, code="monitoring", label="Monitoring and alerting in place", kind="attested")


def kpi(**overrides: object) -> KpiFacts:
    values: dict[str, object] = {
        "id": 1,
        "name": "Handling time",
        "unit": "min",
        "direction": "decrease",
        "baseline": 10.0,
        "baseline_on": days_ago(60),
        "target": 6.0,
    }
    return KpiFacts(**(values | overrides))


def pilot(**overrides: object) -> PilotFacts:
    values: dict[str, object] = {
        "id": 1,
        "phase": "pilot",
        "problem": "Agents wait for answers.",
        "outcome": "Shorter calls.",
        "owner_name": "Olivia Owner",
        "owner_active": True,
        "sponsor_name": "Sam Sponsor",
        "sponsor_active": True,
        "kpis": (kpi(),),
        "kill_criteria_count": 1,
        "latest_checkin_on": days_ago(3),
    }
    return PilotFacts(**(values | overrides))


def state(rule: str, facts: PilotFacts) -> tuple[bool, str]:
    result = criterion_state(auto(rule), facts, TODAY, valid_days=VALID_DAYS)
    return result.met, result.reason


def readings(*values: float, newest: int = 1) -> tuple[Reading, ...]:
    """Readings a week apart, newest first, the newest ``newest`` days ago."""
    return tuple(Reading(days_ago(newest + 7 * index), value) for index, value in enumerate(values))


# Which gate is next


@pytest.mark.parametrize(
    ("phase", "status", "gate"),
    [
        ("poc", "active", "poc"),
        ("pilot", "on_hold", "pilot"),
        ("production", "active", "production"),
        ("scaled", "active", None),
        ("pilot", "killed", None),
    ],
)
def test_the_next_gate_is_named_by_the_phase_it_leaves_and_killed_or_scaled_pilots_have_none(phase, status, gate):
    assert next_gate(phase, status) == gate


# Attested criteria: evidence counts for 180 days


def evidence(age_in_days: int) -> Evidence:
    return Evidence(attested_on=days_ago(age_in_days), attested_by="Olivia Owner", text="Grafana and a pager rota.")


def attested_state(age_in_days: int | None):
    facts = pilot(evidence={} if age_in_days is None else {MONITORING.id: evidence(age_in_days)})
    return criterion_state(MONITORING, facts, TODAY, valid_days=VALID_DAYS)


def test_evidence_180_days_old_still_meets_the_criterion():
    result = attested_state(180)
    assert result.met
    assert result.valid_until == TODAY
    assert result.reason == "Evidence recorded 20 May 2026 by Olivia Owner, valid until 16 Nov 2026"


def test_evidence_181_days_old_has_expired_and_says_since_when():
    result = attested_state(181)
    assert not result.met
    assert result.reason.startswith("Evidence expired 1 day ago (recorded 19 May 2026 by Olivia Owner")


def test_evidence_that_expired_twelve_days_ago_says_so():
    assert attested_state(192).reason.startswith("Evidence expired 12 days ago")


def test_evidence_recorded_today_meets_the_criterion():
    assert attested_state(0).met


def test_no_evidence_leaves_an_attested_criterion_unmet():
    result = attested_state(None)
    assert (result.met, result.reason) == (False, "No evidence recorded")


def test_evidence_dated_in_the_future_does_not_count():
    facts = pilot(evidence={MONITORING.id: Evidence(TODAY + dt.timedelta(days=1), "Olivia Owner", "Soon.")})
    assert not criterion_state(MONITORING, facts, TODAY, valid_days=VALID_DAYS).met


def test_evidence_for_another_criterion_does_not_count():
    facts = pilot(evidence={99: evidence(1)})
    assert not criterion_state(MONITORING, facts, TODAY, valid_days=VALID_DAYS).met


def test_the_validity_comes_from_the_caller():
    facts = pilot(evidence={MONITORING.id: evidence(31)})
    assert not criterion_state(MONITORING, facts, TODAY, valid_days=30).met
    assert criterion_state(MONITORING, facts, TODAY, valid_days=31).met


# Owner and sponsor


def test_an_active_owner_is_assigned():
    assert state("owner_assigned", pilot()) == (True, "Olivia Owner is the owner")


def test_no_owner_is_not_assigned():
    assert state("owner_assigned", pilot(owner_name=None)) == (False, "No owner named")


def test_an_owner_with_an_inactive_account_is_not_assigned():
    assert state("owner_assigned", pilot(owner_active=False)) == (
        False,
        "The owner, Olivia Owner, has an inactive account",
    )


def test_an_active_sponsor_is_assigned():
    assert state("sponsor_assigned", pilot()) == (True, "Sam Sponsor is the sponsor")


def test_no_sponsor_or_an_inactive_one_is_not_assigned():
    assert state("sponsor_assigned", pilot(sponsor_name=None)) == (False, "No executive sponsor named")
    assert not state("sponsor_assigned", pilot(sponsor_active=False))[0]


# Outcome, metrics, baselines, kill criteria


def test_the_outcome_is_defined_when_problem_and_outcome_are_written():
    assert state("outcome_defined", pilot())[0]


@pytest.mark.parametrize(
    ("problem", "outcome", "reason"),
    [
        ("", "Shorter calls.", "The problem (the workflow bottleneck) is not written down"),
        ("Agents wait.", "  ", "The business outcome sought is not written down"),
        ("", "", "Neither the problem nor the business outcome is written down"),
    ],
)
def test_a_missing_problem_or_outcome_says_which(problem, outcome, reason):
    assert state("outcome_defined", pilot(problem=problem, outcome=outcome)) == (False, reason)


def test_success_metrics_need_a_kpi():
    assert state("metrics_defined", pilot()) == (True, "1 KPI with a target")
    assert state("metrics_defined", pilot(kpis=())) == (False, "No KPI defined")


def test_a_baseline_dated_today_is_measured():
    assert state("baseline_measured", pilot(kpis=(kpi(baseline_on=TODAY),)))[0]


def test_a_baseline_dated_tomorrow_is_not_measured_yet():
    met, reason = state("baseline_measured", pilot(kpis=(kpi(baseline_on=TODAY + dt.timedelta(days=1)),)))
    assert not met
    assert reason == "The baseline of KPI 'Handling time' is dated 17 Nov 2026, after today"


def test_a_kpi_without_a_baseline_is_named():
    facts = pilot(kpis=(kpi(), kpi(id=2, name="Calls per agent", baseline=None, baseline_on=None)))
    assert state("baseline_measured", facts) == (False, "No baseline for KPI 'Calls per agent'")


def test_a_baseline_without_a_date_is_not_measured():
    assert state("baseline_measured", pilot(kpis=(kpi(baseline_on=None),))) == (
        False,
        "The baseline of KPI 'Handling time' has no date",
    )


def test_no_kpi_means_no_baseline_measured():
    assert not state("baseline_measured", pilot(kpis=()))[0]


def test_kill_criteria_are_set_with_one():
    assert state("kill_criteria_set", pilot(kill_criteria_count=1)) == (True, "1 kill criterion set")
    assert state("kill_criteria_set", pilot(kill_criteria_count=0)) == (False, "No kill criteria set")


# Value demonstrated: some KPI's last three readings all beat its baseline


def test_value_is_demonstrated_by_three_readings_better_than_baseline():
    facts = pilot(kpis=(kpi(last_readings=readings(9.0, 9.5, 9.9)),))
    assert state("value_demonstrated", facts) == (
        True,
        "KPI 'Handling time' beat its baseline in each of its last 3 readings",
    )


def test_a_reading_equal_to_the_baseline_is_not_better():
    facts = pilot(kpis=(kpi(last_readings=readings(9.0, 9.5, 10.0)),))
    assert state("value_demonstrated", facts) == (False, "No KPI beat its baseline in each of its last 3 readings")


def test_two_good_readings_are_not_enough():
    assert not state("value_demonstrated", pilot(kpis=(kpi(last_readings=readings(9.0, 9.5)),)))[0]


def test_one_kpi_demonstrating_value_is_enough():
    facts = pilot(kpis=(kpi(last_readings=readings(11.0, 12.0, 13.0)), kpi(id=2, last_readings=readings(8, 8, 8))))
    assert state("value_demonstrated", facts)[0]


def test_readings_after_the_day_of_judgement_do_not_count():
    later = (Reading(TODAY + dt.timedelta(days=1), 9.0),)
    facts = pilot(kpis=(kpi(last_readings=later + readings(9.0, 9.5, 12.0)),))
    assert not state("value_demonstrated", facts)[0]


def test_value_needs_a_baseline_to_compare_with():
    facts = pilot(kpis=(kpi(baseline=None, last_readings=readings(1, 1, 1)),))
    assert state("value_demonstrated", facts) == (False, "No KPI has a baseline to compare readings with")


# Sponsor engaged: a check-in in the last 30 days


def test_a_check_in_30_days_ago_engages_the_sponsor():
    assert state("sponsor_engaged", pilot(latest_checkin_on=days_ago(30))) == (
        True,
        "Sponsor checked in 30 days ago (17 Oct 2026)",
    )


def test_a_check_in_31_days_ago_does_not():
    assert state("sponsor_engaged", pilot(latest_checkin_on=days_ago(31))) == (
        False,
        "The last sponsor check-in was 31 days ago (it must be within 30)",
    )


def test_no_check_in_does_not_engage_the_sponsor():
    assert state("sponsor_engaged", pilot(latest_checkin_on=None)) == (False, "No sponsor check-in recorded")


# Targets met and stable: every KPI's last three readings meet its target


def test_targets_are_met_when_every_kpi_meets_its_target_three_times():
    facts = pilot(kpis=(kpi(last_readings=readings(6.0, 5.5, 5.9)), kpi(id=2, last_readings=readings(4, 4, 4))))
    assert state("targets_met", facts) == (True, "Every KPI met its target in each of its last 3 readings")


def test_a_kpi_short_of_its_target_once_is_named_with_the_reading():
    facts = pilot(kpis=(kpi(last_readings=readings(5.0, 6.1, 5.0)),))
    assert state("targets_met", facts) == (
        False,
        "KPI 'Handling time' missed its target of 6 min on 8 Nov 2026 (6.1 min)",
    )


def test_higher_is_better_kpis_meet_their_target_at_or_above_it():
    up = kpi(direction="increase", baseline=50.0, target=80.0)
    assert state("targets_met", pilot(kpis=(replace(up, last_readings=readings(80, 81, 90)),)))[0]
    assert not state("targets_met", pilot(kpis=(replace(up, last_readings=readings(80, 79.9, 90)),)))[0]


def test_targets_need_three_readings():
    assert state("targets_met", pilot(kpis=(kpi(last_readings=readings(5.0, 5.0)),))) == (
        False,
        "KPI 'Handling time' has 2 readings, 3 needed",
    )


# No critical flags open


def test_no_critical_flag_open_is_met():
    assert state("no_critical_flags", pilot()) == (True, "No critical flag open")


def test_an_open_critical_flag_is_quoted():
    assert state("no_critical_flags", pilot(critical_flags=("No owner named",))) == (
        False,
        "A critical flag is open: No owner named",
    )
    assert state("no_critical_flags", pilot(critical_flags=("A", "B")))[1] == "2 critical flags are open, among them: A"


# A gate as a whole


def test_readiness_keeps_the_order_of_the_criteria_and_lists_the_unmet_labels():
    criteria = [auto("owner_assigned", "Owner"), MONITORING, auto("kill_criteria_set", "Kill criteria")]
    states = readiness(pilot(kill_criteria_count=0), criteria, TODAY, valid_days=VALID_DAYS)
    assert [s.criterion.label for s in states] == ["Owner", "Monitoring and alerting in place", "Kill criteria"]
    assert unmet_labels(states) == ["Monitoring and alerting in place", "Kill criteria"]


def test_an_unknown_rule_never_counts_as_met():
    assert criterion_state(auto("crystal_ball"), pilot(), TODAY, valid_days=VALID_DAYS).met is False
