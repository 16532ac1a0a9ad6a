"""The dashboard's figures, computed from plain facts: funnel, time in phase, blockers, value and spend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portfolio import dashboard
from portfolio.dashboard import KpiLatest, OpenFlag, PilotFacts

TODAY = dt.date(2026, 11, 16)
LIMITS = {"poc": 90, "pilot": 180}


def pilot(pk: int, phase: str = "poc", status: str = "active", days: int = 10, **extra: object) -> PilotFacts:
    fields = {
        "id": pk,
        "key": f"pilot-{pk}",
        "name": extra.pop("name", f"Pilot {pk:03d}"),
        "business_unit": "Finance",
        "phase": phase,
        "status": status,
        "phase_entered_on": TODAY - dt.timedelta(days=days),
        "days_in_phase": days,
    }
    fields.update(extra)
    return PilotFacts(**fields)


def kpi(pilot_id: int, value: float | None, *, baseline: float | None = 100.0, target: float = 200.0, **extra):
    return KpiLatest(
        pilot_id=pilot_id,
        name=extra.pop("name", "Throughput"),
        unit="",
        direction="increase" if baseline is None or target > baseline else "decrease",
        baseline=baseline,
        target=target,
        latest_value=value,
        latest_on=TODAY if value is not None else None,
        latest_source=extra.pop("source", "form"),
    )


# -- the funnel


def test_a_pilot_entered_every_phase_up_to_its_own():
    funnel = dashboard.funnel([("production", "active")])

    assert [(s.phase, s.entered, s.went_on) for s in funnel.stages] == [
        ("poc", 1, 1),
        ("pilot", 1, 1),
        ("production", 1, 0),
        ("scaled", 0, 0),
    ]


def test_a_killed_pilot_counts_as_killed_in_the_phase_it_was_killed_in_and_went_on_from_earlier_ones():
    funnel = dashboard.funnel([("pilot", "killed")])

    poc, pilot_stage, production, _ = funnel.stages
    assert (poc.entered, poc.went_on, poc.killed) == (1, 1, 0)
    assert (pilot_stage.entered, pilot_stage.went_on, pilot_stage.killed) == (1, 0, 1)
    assert production.entered == 0


def test_conversion_is_the_share_that_passed_the_next_gate():
    funnel = dashboard.funnel(
        [("poc", "active")] * 4
        + [("poc", "killed")] * 2
        + [("poc", "on_hold")]
        + [("pilot", "active")] * 2
        + [("production", "active")]
    )

    poc = funnel.stages[0]
    assert (poc.entered, poc.went_on, poc.killed, poc.active, poc.on_hold) == (10, 3, 2, 4, 1)
    assert poc.still_there == 5
    assert poc.conversion == pytest.approx(0.3)
    assert funnel.stages[1].conversion == pytest.approx(1 / 3)
    assert funnel.stages[3].conversion is None  # the last phase has no gate ahead


def test_the_share_reaching_production_is_set_beside_the_industry_figure():
    funnel = dashboard.funnel([("poc", "active")] * 6 + [("production", "active"), ("scaled", "on_hold")])

    assert funnel.reached_production == 2
    assert funnel.reached_production_share == pytest.approx(0.25)
    assert funnel.industry_share == pytest.approx(4 / 33)
    assert funnel.beats_industry is True


def test_an_empty_portfolio_has_no_shares_rather_than_a_division_by_zero():
    funnel = dashboard.funnel([])

    assert funnel.total == 0
    assert funnel.reached_production_share is None
    assert funnel.beats_industry is None
    assert all(stage.conversion is None for stage in funnel.stages)


# -- time in phase


def test_median_and_longest_days_per_phase_count_live_pilots_only():
    pilots = [
        pilot(1, "poc", days=10),
        pilot(2, "poc", days=30),
        pilot(3, "poc", days=95),
        pilot(4, "poc", "on_hold", days=200),
        pilot(5, "poc", "killed", days=900),
        pilot(6, "pilot", days=181),
    ]

    times = {row.phase: row for row in dashboard.phase_times(pilots, LIMITS)}

    assert times["poc"].pilots == 4
    assert times["poc"].median_days == pytest.approx(62.5)
    assert times["poc"].longest_days == 200
    assert times["poc"].past_limit == 2
    assert times["pilot"].past_limit == 1
    assert times["production"].pilots == 0
    assert times["production"].median_days is None
    assert times["production"].limit_days is None


def test_a_pilot_exactly_at_its_limit_is_not_past_it():
    times = dashboard.phase_times([pilot(1, "poc", days=90)], LIMITS)

    assert times[0].past_limit == 0


def test_ageing_lists_pilots_past_their_limit_first_furthest_over_first():
    pilots = [
        pilot(1, "poc", days=80, name="Nearly"),
        pilot(2, "pilot", days=200, name="Twenty over"),
        pilot(3, "poc", days=150, name="Sixty over"),
        pilot(4, "production", days=400, name="No limit"),
        pilot(5, "pilot", days=20, name="Fresh"),
        pilot(6, "poc", "killed", days=999, name="Gone"),
    ]

    rows = dashboard.ageing(pilots, LIMITS)

    assert [row.pilot.name for row in rows] == ["Sixty over", "Twenty over", "Nearly", "Fresh", "No limit"]
    assert [row.days_over for row in rows[:2]] == [60, 20]
    assert rows[0].past_limit and not rows[2].past_limit


def test_the_limits_come_from_the_health_thresholds():
    limits = dashboard.phase_limits({"stuck_in_poc_after_days": 30, "stuck_in_pilot_after_days": 60})

    assert limits == {"poc": 30, "pilot": 60}


# -- blockers


def test_each_active_pilot_with_a_gate_ahead_lists_its_blockers_and_flags():
    pilots = [
        pilot(1, "poc", name="Early"),
        pilot(2, "pilot", name="Nearly there"),
        pilot(3, "pilot", "on_hold", name="Paused"),
        pilot(4, "scaled", name="Done"),
        pilot(5, "production", name="Live"),
    ]
    blockers = {1: ["Kill criteria set", "Baseline measured"], 2: ["Sponsor engaged"], 5: ["Targets met and stable"]}
    flags = [OpenFlag(2, "stale", "warning"), OpenFlag(2, "no_owner", "critical"), OpenFlag(3, "stale", "warning")]

    rows = dashboard.blocked_pilots(pilots, blockers, flags)

    # The production gate first, then pilot approval, then the scale decision.
    assert [row.pilot.name for row in rows] == ["Nearly there", "Early", "Live"]
    assert rows[0].next_phase == "production"
    assert rows[0].next_phase_label == "Production"
    assert [flag.kind for flag in rows[0].flags] == ["no_owner", "stale"]
    assert rows[1].blockers == ["Kill criteria set", "Baseline measured"]


def test_a_pilot_without_unmet_criteria_is_ready():
    rows = dashboard.blocked_pilots([pilot(1, "poc")], {}, [])

    assert rows[0].ready


def test_the_most_common_blockers_count_pilots_not_mentions():
    rows = dashboard.blocked_pilots(
        [pilot(1), pilot(2), pilot(3)],
        {1: ["Baseline measured", "Kill criteria set"], 2: ["Baseline measured"], 3: ["Sponsor engaged"]},
        [],
    )

    tallies = dashboard.common_blockers(rows)

    assert [(t.label, t.pilots) for t in tallies] == [
        ("Baseline measured", 2),
        ("Kill criteria set", 1),
        ("Sponsor engaged", 1),
    ]


def test_flags_by_kind_count_pilots_critical_kinds_first():
    flags = [
        OpenFlag(1, "drifting", "warning"),
        OpenFlag(1, "drifting", "warning"),  # two KPIs of one pilot
        OpenFlag(2, "drifting", "warning"),
        OpenFlag(3, "stale", "warning"),
        OpenFlag(3, "no_owner", "critical"),
    ]

    tallies = dashboard.flags_by_kind(flags)

    assert [(t.kind, t.pilots) for t in tallies] == [("no_owner", 1), ("drifting", 2), ("stale", 1)]
    assert tallies[0].label == "No owner"


# -- value


def test_progress_runs_from_baseline_to_target_whatever_the_direction():
    assert kpi(1, 150.0).progress == pytest.approx(0.5)
    assert kpi(1, 50.0).progress == pytest.approx(-0.5)
    lower_is_better = kpi(1, 45.0, baseline=60.0, target=30.0)
    assert lower_is_better.progress == pytest.approx(0.5)
    assert lower_is_better.beats_baseline


def test_a_kpi_without_baseline_or_reading_shows_no_progress():
    assert kpi(1, 150.0, baseline=None).progress is None
    assert kpi(1, None).progress is None
    assert not kpi(1, 100.0).beats_baseline  # equal to the baseline is no value


def test_a_pilot_in_production_delivers_value_when_some_kpi_beats_its_baseline():
    pilots = [pilot(1, "production"), pilot(2, "scaled"), pilot(3, "pilot")]
    kpis = [kpi(1, 90.0, name="Worse"), kpi(1, 160.0, name="Better"), kpi(2, 95.0), kpi(3, 190.0)]

    values = {row.pilot.id: row for row in dashboard.pilot_values(pilots, kpis)}

    assert set(values) == {1, 2}  # only production and beyond
    assert values[1].delivers_value
    assert values[1].best.name == "Better"
    assert values[1].best.progress == pytest.approx(0.6)
    assert not values[2].delivers_value
    assert values[2].why_not == "No KPI beats its baseline"


def test_value_is_shown_by_a_system_when_a_system_fed_kpi_beats_its_baseline():
    pilots = [pilot(1, "production"), pilot(2, "production")]
    kpis = [
        kpi(1, 150.0, source="api"),
        kpi(2, 150.0, source="form"),
        kpi(2, 90.0, source="api"),  # a system feed, but no value in it
    ]

    values = {row.pilot.id: row for row in dashboard.pilot_values(pilots, kpis)}

    assert values[1].shown_by_system
    assert not values[2].shown_by_system
    assert values[2].delivers_value


def test_why_no_value_is_said_in_words():
    rows = dashboard.pilot_values(
        [
            pilot(1, "production", name="A"),
            pilot(2, "production", name="B"),
            pilot(3, "production", name="C"),
            pilot(4, "production", "killed", name="D"),
        ],
        [kpi(2, None), kpi(3, 150.0, baseline=None)],
    )

    assert {row.pilot.name: row.why_not for row in rows} == {
        "A": "No KPI defined",
        "B": "No readings yet",
        "C": "No baseline to compare with",
        "D": "Killed",
    }


def test_pilots_delivering_value_come_first_furthest_toward_target_first():
    rows = dashboard.pilot_values(
        [pilot(1, "production", name="None"), pilot(2, "production", name="Half"), pilot(3, "scaled", name="Most")],
        [kpi(2, 150.0), kpi(3, 190.0)],
    )

    assert [row.pilot.name for row in rows] == ["Most", "Half", "None"]


def test_the_value_measure_is_the_share_of_all_pilots_in_production_with_value():
    pilots = [
        pilot(1, "production", spent=Decimal(300)),
        pilot(2, "scaled", spent=Decimal(100)),
        pilot(3, "poc", spent=Decimal(400)),
        pilot(4, "pilot", "killed", spent=Decimal(200)),
    ]
    values = dashboard.pilot_values(pilots, [kpi(1, 150.0, source="api"), kpi(2, 90.0)])

    summary = dashboard.value_summary(pilots, values)

    assert (summary.pilots, summary.reached_production, summary.delivering) == (4, 2, 1)
    assert summary.delivering_share == pytest.approx(0.25)
    assert summary.spent_delivering_share == pytest.approx(0.3)
    assert (summary.shown_by_system, summary.self_reported_only) == (1, 0)


# -- money


def test_spending_per_phase_keeps_the_spend_sunk_in_killed_pilots_apart():
    pilots = [
        pilot(1, "poc", budget=Decimal(100), spent=Decimal(40)),
        pilot(2, "poc", "on_hold", budget=None, spent=Decimal(5)),
        pilot(3, "production", budget=Decimal(500), spent=Decimal(450)),
        pilot(4, "pilot", "killed", budget=Decimal(200), spent=Decimal(150)),
    ]

    money = dashboard.spending(pilots)

    poc = money.by_phase[0]
    assert (poc.pilots, poc.budget, poc.spent, poc.unbudgeted) == (2, Decimal(100), Decimal(45), 1)
    assert money.by_phase[1].pilots == 0  # the killed pilot is not in its phase's live spend
    assert (money.killed.pilots, money.killed.spent) == (1, Decimal(150))
    assert (money.total.budget, money.total.spent) == (Decimal(800), Decimal(645))
    assert money.by_phase[2].spent_share == pytest.approx(0.9)
    assert money.by_phase[3].spent_share is None


def test_week_ends_are_a_week_apart_and_end_today():
    ends = dashboard.week_ends(TODAY, 12)

    assert len(ends) == 12
    assert ends[-1] == TODAY
    assert ends[0] == TODAY - dt.timedelta(weeks=11)
