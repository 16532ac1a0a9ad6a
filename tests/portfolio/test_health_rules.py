"""The health rules of DESIGN section 5, on plain data and at their boundaries."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.conf import settings

from portfolio.health import Finding, KillCriterionFacts, KpiFacts, PilotFacts, Reading, evaluate

D = dt.date(2026, 11, 16)
OWNER_ID, SPONSOR_ID = 1, 2


def days_before(days: int) -> dt.date:
    return D - dt.timedelta(days=days)


def kpi(**changes: object) -> KpiFacts:
    """Accuracy, 50 % → 80 %, last read three days ago at 60 %: healthy."""
    defaults = {
        "id": 11,
        "key": "accuracy",
        "name": "Accuracy",
        "unit": "%",
        "direction": "increase",
        "baseline": 50.0,
        "target": 80.0,
        "last_readings": (Reading(days_before(3), 60.0),),
    }
    return KpiFacts(**{**defaults, **changes})


def readings(*values: float, newest_days_ago: int = 1) -> tuple[Reading, ...]:
    """Readings on consecutive days, given oldest first, returned newest first."""
    count = len(values)
    return tuple(
        Reading(days_before(newest_days_ago + count - 1 - index), value) for index, value in enumerate(values)
    )[::-1]


def criterion(**changes: object) -> KillCriterionFacts:
    """Stop if accuracy is below 40 %, evaluated from 1 Oct 2026."""
    defaults = {
        "id": 21,
        "key": "accuracy-floor",
        "description": "Stop if accuracy stays below 40 %.",
        "kpi_id": 11,
        "comparator": "below",
        "threshold": 40.0,
        "evaluate_on": dt.date(2026, 10, 1),
    }
    return KillCriterionFacts(**{**defaults, **changes})


def pilot(**changes: object) -> PilotFacts:
    """An active pilot that deserves no flag as of D."""
    defaults = {
        "id": 1,
        "key": "invoice-matching",
        "status": "active",
        "phase": "pilot",
        "started_on": days_before(100),
        "phase_entered_on": days_before(30),
        "next_review_on": D + dt.timedelta(days=14),
        "owner_id": OWNER_ID,
        "owner_active": True,
        "sponsor_id": SPONSOR_ID,
        "sponsor_active": True,
        "latest_checkin_on": days_before(10),
        "kpis": (kpi(),),
        "kill_criteria": (criterion(),),
    }
    return PilotFacts(**{**defaults, **changes})


def findings(facts: PilotFacts, as_of: dt.date = D, **thresholds: int) -> list[Finding]:
    return evaluate(facts, as_of, {**settings.HEALTH_THRESHOLDS, **thresholds})


def kinds(facts: PilotFacts, as_of: dt.date = D, **thresholds: int) -> set[str]:
    return {finding.kind for finding in findings(facts, as_of, **thresholds)}


def only(facts: PilotFacts, kind: str) -> Finding:
    matching = [finding for finding in findings(facts) if finding.kind == kind]
    assert len(matching) == 1, matching
    return matching[0]


def troubled(**changes: object) -> PilotFacts:
    """A pilot that breaks every rule it can at once."""
    return pilot(
        **{
            "phase": "poc",
            "started_on": days_before(200),
            "phase_entered_on": days_before(200),
            "next_review_on": days_before(1),
            "owner_id": SPONSOR_ID,
            "owner_active": False,
            "sponsor_id": SPONSOR_ID,
            "sponsor_active": True,
            "latest_checkin_on": None,
            "kpis": (),
            "kill_criteria": (),
            **changes,
        }
    )


def test_a_healthy_pilot_gets_no_findings():
    assert findings(pilot()) == []


# Ownership


def test_a_pilot_without_owner_is_flagged_critical():
    finding = only(pilot(owner_id=None, owner_active=False), "no_owner")
    assert finding.severity == "critical"
    assert finding.detail == "No owner named"


def test_a_pilot_without_owner_is_not_also_flagged_for_an_inactive_owner():
    assert "owner_inactive" not in kinds(pilot(owner_id=None, owner_active=False))


def test_an_inactive_owner_is_flagged_critical():
    finding = only(pilot(owner_active=False), "owner_inactive")
    assert finding.severity == "critical"


def test_a_pilot_without_sponsor_is_flagged():
    finding = only(pilot(sponsor_id=None, sponsor_active=False), "no_sponsor")
    assert finding.severity == "warning"
    assert finding.detail == "No executive sponsor named"


def test_an_inactive_sponsor_counts_as_no_sponsor():
    assert only(pilot(sponsor_active=False), "no_sponsor").detail == "The sponsor's account is inactive"


def test_an_owner_who_is_also_the_sponsor_is_flagged():
    finding = only(pilot(owner_id=SPONSOR_ID), "owner_is_sponsor")
    assert finding.severity == "warning"
    assert "nobody answers for the owner" in finding.detail


def test_a_pilot_with_neither_owner_nor_sponsor_is_not_flagged_as_owner_is_sponsor():
    facts = pilot(owner_id=None, owner_active=False, sponsor_id=None, sponsor_active=False)
    assert "owner_is_sponsor" not in kinds(facts)


# Sponsor check-ins


@pytest.mark.parametrize(("age", "flagged"), [(60, False), (61, True)])
def test_a_sponsor_who_never_checked_in_lapses_once_the_pilot_is_older_than_60_days(age, flagged):
    facts = pilot(started_on=days_before(age), phase_entered_on=days_before(age), latest_checkin_on=None)
    assert ("sponsor_lapsed" in kinds(facts)) is flagged


@pytest.mark.parametrize(("days_since_checkin", "flagged"), [(60, False), (61, True)])
def test_a_sponsor_lapses_when_the_last_check_in_is_more_than_60_days_old(days_since_checkin, flagged):
    facts = pilot(latest_checkin_on=days_before(days_since_checkin))
    assert ("sponsor_lapsed" in kinds(facts)) is flagged


def test_the_lapsed_sponsor_detail_says_how_long_it_has_been():
    assert only(pilot(latest_checkin_on=days_before(75)), "sponsor_lapsed").detail == (
        "No sponsor check-in for 75 days"
    )


def test_a_check_in_after_the_scan_date_does_not_count():
    facts = pilot(latest_checkin_on=D + dt.timedelta(days=1))
    assert only(facts, "sponsor_lapsed").detail == "No sponsor check-in yet, 100 days after the start"


def test_an_inactive_sponsor_is_not_also_flagged_as_lapsed():
    assert "sponsor_lapsed" not in kinds(pilot(sponsor_active=False, latest_checkin_on=None))


# KPIs and readings


def test_a_pilot_without_kpi_is_flagged():
    assert only(pilot(kpis=(), kill_criteria=()), "no_kpi").detail == "No KPI defined"


@pytest.mark.parametrize(("age", "flagged"), [(21, False), (22, True)])
def test_a_pilot_without_readings_goes_stale_once_older_than_21_days(age, flagged):
    facts = pilot(started_on=days_before(age), phase_entered_on=days_before(age), kpis=(kpi(last_readings=()),))
    assert ("stale" in kinds(facts)) is flagged


def test_the_stale_detail_of_a_pilot_never_measured_counts_from_the_start():
    facts = pilot(started_on=days_before(30), phase_entered_on=days_before(30), kpis=(kpi(last_readings=()),))
    assert only(facts, "stale").detail == "No reading yet, 30 days after the start"


@pytest.mark.parametrize(("days_since_reading", "flagged"), [(21, False), (22, True)])
def test_a_pilot_goes_stale_when_its_latest_reading_is_more_than_21_days_old(days_since_reading, flagged):
    facts = pilot(kpis=(kpi(last_readings=(Reading(days_before(days_since_reading), 60.0),)),))
    assert ("stale" in kinds(facts)) is flagged


def test_the_latest_reading_of_any_kpi_keeps_a_pilot_fresh():
    old = kpi(id=11, last_readings=(Reading(days_before(40), 60.0),))
    recent = kpi(id=12, key="speed", name="Speed", last_readings=(Reading(days_before(5), 60.0),))
    assert "stale" not in kinds(pilot(kpis=(old, recent)))


def test_a_reading_dated_the_day_after_the_scan_date_does_not_count():
    facts = pilot(kpis=(kpi(last_readings=(Reading(D + dt.timedelta(days=1), 60.0), Reading(days_before(34), 60.0))),))
    assert only(facts, "stale").detail == "No KPI reading for 34 days"


def test_a_kpi_without_baseline_is_flagged_once_past_the_poc():
    facts = pilot(kpis=(kpi(id=11, baseline=None), kpi(id=12, key="speed", name="Speed", baseline=None)))
    flagged = [f for f in findings(facts) if f.kind == "no_baseline"]
    assert [(f.kpi_id, f.detail) for f in flagged] == [(11, "Accuracy has no baseline"), (12, "Speed has no baseline")]


def test_a_kpi_without_baseline_is_not_flagged_in_the_poc():
    assert "no_baseline" not in kinds(pilot(phase="poc", kpis=(kpi(baseline=None),)))


def test_a_kpi_without_baseline_never_drifts():
    facts = pilot(phase="poc", kpis=(kpi(baseline=None, last_readings=readings(30, 20, 10)),))
    assert "drifting" not in kinds(facts)


def test_a_pilot_past_the_poc_without_kill_criteria_is_flagged():
    assert only(pilot(kill_criteria=()), "no_kill_criteria").detail == "No kill criteria set"


def test_a_poc_without_kill_criteria_is_not_flagged():
    assert "no_kill_criteria" not in kinds(pilot(phase="poc", kill_criteria=()))


# Drifting


def test_a_kpi_whose_last_two_readings_are_worse_than_baseline_drifts():
    facts = pilot(kpis=(kpi(baseline=45.0, last_readings=readings(41, 39)),), kill_criteria=())
    finding = only(facts, "drifting")
    assert (finding.kpi_id, finding.severity) == (11, "warning")
    assert finding.detail == "Last two readings of Accuracy (41 %, 39 %) are worse than its baseline of 45 %"


def test_a_reading_equal_to_the_baseline_is_not_worse_than_it():
    assert "drifting" not in kinds(pilot(kpis=(kpi(last_readings=readings(49, 50)),)))


def test_only_one_reading_worse_than_baseline_is_not_drifting():
    assert "drifting" not in kinds(pilot(kpis=(kpi(last_readings=readings(45)),)))


def test_a_kpi_moving_further_from_target_three_readings_in_a_row_drifts():
    facts = pilot(kpis=(kpi(last_readings=readings(75, 70, 65)),))
    assert only(facts, "drifting").detail == "Accuracy moved further from target three readings in a row: 75 → 70 → 65"


def test_a_kpi_that_holds_still_between_readings_is_not_drifting():
    assert "drifting" not in kinds(pilot(kpis=(kpi(last_readings=readings(75, 75, 70)),)))


def test_two_steps_away_from_target_are_not_enough_to_drift():
    assert "drifting" not in kinds(pilot(kpis=(kpi(last_readings=readings(75, 70)),)))


def test_a_decreasing_kpi_drifts_when_its_readings_rise_away_from_target():
    error_rate = kpi(name="Error rate", unit="", direction="decrease", baseline=100.0, target=50.0)
    facts = pilot(kpis=(dataclasses.replace(error_rate, last_readings=readings(70, 75, 80)),))
    assert (
        only(facts, "drifting").detail == "Error rate moved further from target three readings in a row: 70 → 75 → 80"
    )


def test_a_decreasing_kpi_that_falls_towards_target_is_not_drifting():
    error_rate = kpi(direction="decrease", baseline=100.0, target=50.0, last_readings=readings(80, 75, 70))
    assert "drifting" not in kinds(pilot(kpis=(error_rate,)))


def test_a_decreasing_kpi_above_its_baseline_twice_is_worse_than_baseline():
    error_rate = kpi(direction="decrease", baseline=100.0, target=50.0, last_readings=readings(110, 105))
    assert "worse than its baseline" in only(pilot(kpis=(error_rate,)), "drifting").detail


def test_a_drifting_reading_after_the_scan_date_does_not_count():
    later = Reading(D + dt.timedelta(days=1), 30.0)
    facts = pilot(kpis=(kpi(last_readings=(later, Reading(days_before(2), 40.0), Reading(days_before(3), 60.0))),))
    assert "drifting" not in kinds(facts)


# Stuck


@pytest.mark.parametrize(("days_in_phase", "flagged"), [(90, False), (91, True)])
def test_a_pilot_is_stuck_in_the_poc_after_90_days(days_in_phase, flagged):
    facts = pilot(phase="poc", phase_entered_on=days_before(days_in_phase), started_on=days_before(days_in_phase))
    assert ("stuck" in kinds(facts)) is flagged


@pytest.mark.parametrize(("days_in_phase", "flagged"), [(180, False), (181, True)])
def test_a_pilot_is_stuck_in_the_pilot_phase_after_180_days(days_in_phase, flagged):
    facts = pilot(phase="pilot", phase_entered_on=days_before(days_in_phase), started_on=days_before(300))
    assert ("stuck" in kinds(facts)) is flagged


def test_the_stuck_detail_names_the_phase_and_the_limit():
    facts = pilot(phase="poc", phase_entered_on=days_before(120), started_on=days_before(120))
    assert only(facts, "stuck").detail == "In proof of concept for 120 days (limit 90)"


def test_a_pilot_in_production_is_never_stuck():
    assert "stuck" not in kinds(
        pilot(phase="production", phase_entered_on=days_before(900), started_on=days_before(900))
    )


def test_the_thresholds_come_from_the_dict_passed_in():
    facts = pilot(phase="poc", phase_entered_on=days_before(20), started_on=days_before(20))
    assert "stuck" not in kinds(facts)
    assert "stuck" in kinds(facts, stuck_in_poc_after_days=10)


# Kill criteria


@pytest.mark.parametrize(("latest", "flagged"), [(40.0, False), (39.9, True)])
def test_a_kill_criterion_below_a_threshold_is_met_strictly(latest, flagged):
    facts = pilot(kpis=(kpi(last_readings=(Reading(days_before(1), latest),)),))
    assert ("kill_criterion_met" in kinds(facts)) is flagged


@pytest.mark.parametrize(("latest", "flagged"), [(10.0, False), (10.5, True)])
def test_a_kill_criterion_above_a_threshold_on_a_decreasing_kpi_is_met_strictly(latest, flagged):
    error_rate = kpi(direction="decrease", baseline=12.0, target=2.0, last_readings=(Reading(days_before(1), latest),))
    facts = pilot(kpis=(error_rate,), kill_criteria=(criterion(comparator="above", threshold=10.0),))
    assert ("kill_criterion_met" in kinds(facts)) is flagged


def test_a_met_kill_criterion_is_critical_and_says_why():
    facts = pilot(kpis=(kpi(last_readings=(Reading(days_before(1), 38.0),)),))
    finding = only(facts, "kill_criterion_met")
    assert (finding.severity, finding.kill_criterion_id, finding.kpi_id) == ("critical", 21, None)
    assert finding.detail == "Kill criterion met: Accuracy is 38 %, below 40 % (since 1 Oct 2026)"


def test_a_kill_criterion_is_judged_on_the_latest_reading_only():
    facts = pilot(kpis=(kpi(last_readings=readings(30, 35, 45)),))
    assert "kill_criterion_met" not in kinds(facts)


@pytest.mark.parametrize(("evaluate_on", "flagged"), [(D + dt.timedelta(days=1), False), (D, True), (None, True)])
def test_a_kill_criterion_applies_from_its_evaluation_date_or_from_the_start_without_one(evaluate_on, flagged):
    facts = pilot(
        kpis=(kpi(last_readings=(Reading(days_before(1), 30.0),)),), kill_criteria=(criterion(evaluate_on=evaluate_on),)
    )
    assert ("kill_criterion_met" in kinds(facts)) is flagged


def test_a_kill_criterion_ignores_a_reading_after_the_scan_date():
    later = Reading(D + dt.timedelta(days=1), 30.0)
    facts = pilot(kpis=(kpi(last_readings=(later, Reading(days_before(1), 45.0))),))
    assert "kill_criterion_met" not in kinds(facts)


def test_a_kill_criterion_without_readings_is_not_met():
    assert "kill_criterion_met" not in kinds(pilot(kpis=(kpi(last_readings=()),), started_on=days_before(10)))


def test_an_unmeasurable_kill_criterion_is_never_met():
    words_only = criterion(kpi_id=None, comparator=None, threshold=None)
    facts = pilot(kpis=(kpi(last_readings=(Reading(days_before(1), 1.0),)),), kill_criteria=(words_only,))
    assert "kill_criterion_met" not in kinds(facts)


# Reviews


@pytest.mark.parametrize(("next_review_on", "flagged"), [(D, False), (days_before(1), True)])
def test_a_review_is_overdue_only_once_its_date_has_passed(next_review_on, flagged):
    assert ("review_overdue" in kinds(pilot(next_review_on=next_review_on))) is flagged


def test_the_overdue_review_detail_gives_the_date():
    assert only(pilot(next_review_on=days_before(3)), "review_overdue").detail == (
        "Review was due on 13 Nov 2026, 3 days ago"
    )


# Statuses


def test_the_troubled_pilot_breaks_every_rule_while_active():
    assert kinds(troubled()) == {
        "owner_inactive",
        "owner_is_sponsor",
        "sponsor_lapsed",
        "no_kpi",
        "stale",
        "stuck",
        "review_overdue",
    }


def test_a_pilot_on_hold_only_gets_the_rules_that_apply_on_hold():
    assert kinds(troubled(status="on_hold")) == {"owner_inactive", "owner_is_sponsor", "review_overdue"}
    assert kinds(troubled(status="on_hold", owner_id=None, sponsor_id=None)) == {
        "no_owner",
        "no_sponsor",
        "review_overdue",
    }


def test_a_killed_pilot_gets_nothing():
    assert findings(troubled(status="killed", owner_id=None, sponsor_id=None)) == []
    drifting_and_killed = pilot(status="killed", kpis=(kpi(last_readings=readings(30, 20, 10)),))
    assert findings(drifting_and_killed) == []
