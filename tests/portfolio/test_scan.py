"""The health scan: raising, keeping and resolving flags, set-based, as of a date."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portfolio.models import Flag, Phase, ScanRun, Status
from portfolio.scan import scan_portfolio
from tests.factories import (
    TODAY,
    CheckInFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
)

pytestmark = pytest.mark.django_db


def days_before(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def open_kinds(pilot) -> set[str]:
    return set(Flag.objects.filter(pilot=pilot, resolved_at__isnull=True).values_list("kind", flat=True))


def snapshot_of_open_flags() -> list[tuple]:
    return list(
        Flag.objects.filter(resolved_at__isnull=True)
        .order_by("id")
        .values_list("id", "pilot_id", "kind", "kpi_id", "kill_criterion_id", "severity", "detail")
    )


def troubled_pilot(owner, sponsor, number: int):
    """A pilot past the PoC with four problems: drifting, a kill criterion met, no baseline, a lapsed sponsor."""
    pilot = PilotFactory(
        key=f"troubled-{number}",
        owner=owner,
        sponsor=sponsor,
        phase=Phase.PILOT,
        started_on=days_before(100),
        phase_entered_on=days_before(30),
    )
    accuracy = KpiFactory(pilot=pilot, key="accuracy", name="Accuracy", baseline=50.0, target=80.0)
    for days_ago, value in [(3, 45.0), (2, 44.0), (1, 43.0)]:
        KpiReadingFactory(kpi=accuracy, measured_on=days_before(days_ago), value=value)
    KpiFactory(pilot=pilot, key="speed", name="Speed", baseline=None)
    KillCriterionFactory(pilot=pilot, key="floor", kpi=accuracy, comparator="below", threshold=44.0)
    CheckInFactory(pilot=pilot, sponsor=sponsor, on=days_before(70))
    return pilot


def healthy_pilot(owner, sponsor, key: str = "healthy"):
    pilot = PilotFactory(key=key, owner=owner, sponsor=sponsor, started_on=days_before(30))
    kpi = KpiFactory(pilot=pilot, key="accuracy", baseline=50.0, target=80.0)
    KpiReadingFactory(kpi=kpi, measured_on=days_before(1), value=60.0)
    KillCriterionFactory(pilot=pilot)
    return pilot


def test_a_scan_raises_the_flags_that_hold(pilot, frozen_today):
    scan_portfolio()

    assert open_kinds(pilot) == {"no_kpi", "stale"}
    stale = Flag.objects.get(pilot=pilot, kind="stale")
    assert (stale.severity, stale.detail) == ("warning", "No reading yet, 30 days after the start")


def test_a_healthy_pilot_gets_no_flag(owner, sponsor, frozen_today):
    pilot = healthy_pilot(owner, sponsor)

    scan_portfolio()

    assert open_kinds(pilot) == set()


def test_a_flag_still_holding_is_kept_and_seen_again_without_a_duplicate(pilot, frozen_today):
    scan_portfolio()
    raised = Flag.objects.get(pilot=pilot, kind="no_kpi")
    frozen_today.shift(dt.timedelta(hours=1))

    scan_portfolio()

    kept = Flag.objects.get(pilot=pilot, kind="no_kpi")
    assert kept.id == raised.id
    assert kept.raised_at == raised.raised_at
    assert kept.last_seen_at == timezone.now() > raised.last_seen_at
    assert kept.resolved_at is None


def test_a_kept_flag_gets_its_detail_refreshed(pilot, frozen_today):
    scan_portfolio()

    scan_portfolio(as_of=TODAY + dt.timedelta(days=1))

    assert Flag.objects.get(pilot=pilot, kind="stale").detail == "No reading yet, 31 days after the start"


def test_a_flag_that_no_longer_holds_is_resolved(pilot, frozen_today):
    scan_portfolio()
    KpiFactory(pilot=pilot)
    frozen_today.shift(dt.timedelta(hours=1))

    run = scan_portfolio()

    flag = Flag.objects.get(pilot=pilot, kind="no_kpi")
    assert flag.resolved_at == timezone.now()
    assert run.flags_resolved == 1
    assert open_kinds(pilot) == {"stale"}


def test_a_flag_that_holds_again_after_resolving_is_a_new_row(pilot, frozen_today):
    scan_portfolio()
    first = Flag.objects.get(pilot=pilot, kind="no_kpi")
    kpi = KpiFactory(pilot=pilot)
    scan_portfolio()
    kpi.delete()

    scan_portfolio()

    rows = list(Flag.objects.filter(pilot=pilot, kind="no_kpi").order_by("id"))
    assert rows[0].id == first.id
    assert len(rows) == 2
    assert rows[0].resolved_at is not None
    assert rows[1].resolved_at is None


def test_two_scans_give_the_same_open_flags(owner, sponsor, pilot, frozen_today):
    troubled_pilot(owner, sponsor, 1)
    healthy_pilot(owner, sponsor)
    PilotFactory(key="orphan", owner=None, sponsor=None)

    first = scan_portfolio()
    after_first = snapshot_of_open_flags()
    second = scan_portfolio()

    assert snapshot_of_open_flags() == after_first
    assert (first.flags_raised, second.flags_raised, second.flags_resolved) == (len(after_first), 0, 0)


def test_a_troubled_pilot_gets_one_flag_per_problem_and_subject(owner, sponsor, frozen_today):
    pilot = troubled_pilot(owner, sponsor, 1)

    scan_portfolio()

    flags = {
        (flag.kind, flag.subject_key)
        for flag in Flag.objects.filter(pilot=pilot).select_related("kpi", "kill_criterion")
    }
    assert flags == {
        ("drifting", "accuracy"),
        ("kill_criterion_met", "floor"),
        ("no_baseline", "speed"),
        ("sponsor_lapsed", None),
    }


def test_killing_a_pilot_leaves_it_no_open_flags_after_a_scan(pilot, frozen_today):
    scan_portfolio()
    pilot.status = Status.KILLED
    pilot.save()

    run = scan_portfolio()

    assert open_kinds(pilot) == set()
    assert run.flags_resolved == 2
    assert Flag.objects.filter(pilot=pilot, resolved_at__isnull=False).count() == 2


def test_a_pilot_on_hold_keeps_only_the_flags_that_apply_on_hold(owner, frozen_today):
    pilot = PilotFactory(owner=owner, sponsor=owner, next_review_on=days_before(2))
    scan_portfolio()
    assert open_kinds(pilot) == {"owner_is_sponsor", "review_overdue", "no_kpi", "stale"}
    pilot.status = Status.ON_HOLD
    pilot.save()

    scan_portfolio()

    assert open_kinds(pilot) == {"owner_is_sponsor", "review_overdue"}


def test_a_per_pilot_rescan_touches_only_that_pilot(owner, sponsor, frozen_today):
    rescanned = PilotFactory(owner=owner, sponsor=sponsor)
    other = PilotFactory(owner=owner, sponsor=sponsor)
    scan_portfolio()
    for pilot in (rescanned, other):
        KpiReadingFactory(kpi=KpiFactory(pilot=pilot), measured_on=TODAY)
    other.owner = None
    other.save()
    before = {flag.id: flag.last_seen_at for flag in Flag.objects.filter(pilot=other)}
    frozen_today.shift(dt.timedelta(minutes=5))

    run = scan_portfolio(pilot_ids=[rescanned.id])

    assert open_kinds(rescanned) == set()
    assert open_kinds(other) == {"no_kpi", "stale"}
    assert {flag.id: flag.last_seen_at for flag in Flag.objects.filter(pilot=other)} == before
    assert (run.pilots_scanned, run.flags_raised, run.flags_resolved) == (1, 0, 2)


def test_a_full_scan_is_recorded(pilot, frozen_today):
    run = scan_portfolio()

    recorded = ScanRun.objects.get()
    assert recorded.id == run.id
    assert recorded.as_of == TODAY
    assert (recorded.pilots_scanned, recorded.flags_raised, recorded.flags_resolved) == (1, 2, 0)
    assert recorded.started_at == recorded.finished_at == timezone.now()
    assert recorded.error == ""


def test_a_per_pilot_rescan_is_not_recorded_as_a_scan_of_the_portfolio(pilot, frozen_today):
    run = scan_portfolio(pilot_ids=[pilot.id])

    assert run.pk is None
    assert (run.pilots_scanned, run.flags_raised) == (1, 2)
    assert not ScanRun.objects.exists()


def test_a_failed_scan_is_recorded_with_its_error_and_writes_no_flag(pilot, frozen_today, monkeypatch):
    def broken_rules(*args: object) -> list:
        raise RuntimeError("rule exploded")

    monkeypatch.setattr("portfolio.scan.health.evaluate", broken_rules)

    with pytest.raises(RuntimeError):
        scan_portfolio()

    run = ScanRun.objects.get()
    assert run.error == "RuntimeError: rule exploded"
    assert run.finished_at == timezone.now()
    assert not Flag.objects.exists()


def test_the_scan_date_defaults_to_today_in_the_time_zone(settings):
    settings.TIME_ZONE = "Europe/London"
    # 23:30 UTC on 30 June is already 1 July in London (BST).
    with time_machine.travel(dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC), tick=False):
        run = scan_portfolio()

    assert run.as_of == dt.date(2026, 7, 1)


def test_a_scan_as_of_a_past_date_ignores_later_readings(pilot, frozen_today):
    KpiReadingFactory(kpi=KpiFactory(pilot=pilot), measured_on=TODAY)

    scan_portfolio(as_of=days_before(1))

    assert Flag.objects.get(pilot=pilot, kind="stale").detail == "No reading yet, 29 days after the start"


def test_a_scan_as_of_a_past_date_ignores_later_check_ins(owner, sponsor, frozen_today):
    pilot = healthy_pilot(owner, sponsor)
    pilot.started_on = days_before(100)
    pilot.save()
    CheckInFactory(pilot=pilot, on=TODAY)

    scan_portfolio(as_of=days_before(1))

    assert open_kinds(pilot) == {"sponsor_lapsed"}


def test_the_scan_judges_each_kpi_on_its_latest_three_readings(owner, sponsor, frozen_today):
    pilot = healthy_pilot(owner, sponsor)
    drifting = KpiFactory(pilot=pilot, key="drifting", baseline=50.0, target=80.0)
    recovering = KpiFactory(pilot=pilot, key="recovering", baseline=50.0, target=80.0)
    for days_ago, value in [(5, 60.0), (4, 61.0), (3, 75.0), (2, 70.0), (1, 65.0)]:
        KpiReadingFactory(kpi=drifting, measured_on=days_before(days_ago), value=value)
    for days_ago, value in [(5, 75.0), (4, 70.0), (3, 65.0), (2, 66.0)]:
        KpiReadingFactory(kpi=recovering, measured_on=days_before(days_ago), value=value)

    scan_portfolio()

    assert list(Flag.objects.filter(pilot=pilot).values_list("kind", "kpi__key")) == [("drifting", "drifting")]


def test_the_number_of_queries_of_a_scan_does_not_grow_with_the_portfolio(owner, sponsor, frozen_today):
    for number in range(10):
        troubled_pilot(owner, sponsor, number)
    with CaptureQueriesContext(connection) as small:
        scan_portfolio()
    for number in range(10, 200):
        troubled_pilot(owner, sponsor, number)

    with CaptureQueriesContext(connection) as large:
        run = scan_portfolio()

    assert (run.pilots_scanned, run.flags_raised) == (200, 190 * 4)
    assert Flag.objects.filter(resolved_at__isnull=True).count() == 200 * 4
    assert len(large.captured_queries) == len(small.captured_queries)
