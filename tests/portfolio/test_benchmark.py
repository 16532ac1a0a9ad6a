"""The benchmark (DESIGN 9): its portfolio generator, the scan section, the table and the command."""

from __future__ import annotations

import importlib.machinery
import sys
import types
from collections import Counter

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from portfolio.benchmarks import BenchContext, Measurement, runner
from portfolio.benchmarks.generate import generate_portfolio, kpi_readings, plan_portfolio
from portfolio.benchmarks.runner import (
    SectionResult,
    check_section_names,
    database_url,
    dedicated_database,
    render_table,
    run_section,
)
from portfolio.models import BusinessUnit, CheckIn, Flag, KillCriterion, Kpi, KpiReading, Pilot, Status
from portfolio.roles import EXECUTIVES
from portfolio.scan import scan_portfolio
from tests.factories import TODAY

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL (DATABASE_URL)")
TINY = {"pilots": 40, "kpis": 160, "readings": 4000}


# The plan: pure, no database.


def test_the_same_seed_plans_the_same_portfolio_and_another_seed_another():
    first = plan_portfolio(**TINY, as_of=TODAY, seed=7)
    again = plan_portfolio(**TINY, as_of=TODAY, seed=7)
    other = plan_portfolio(**TINY, as_of=TODAY, seed=8)

    assert first == again
    assert [kpi_readings(kpi) for kpi in first.kpis] == [kpi_readings(kpi) for kpi in again.kpis]
    assert first.pilots != other.pilots


def test_the_plan_has_exactly_the_requested_pilots_kpis_and_readings():
    plan = plan_portfolio(pilots=25, kpis=111, readings=2345, as_of=TODAY)

    assert len(plan.pilots) == 25
    assert len(plan.kpis) == 111
    assert plan.reading_count == 2345
    assert sum(len(kpi_readings(kpi)) for kpi in plan.kpis) == 2345


def test_readings_are_one_a_day_at_most_and_none_after_the_as_of_date():
    plan = plan_portfolio(**TINY, as_of=TODAY)

    for kpi in plan.kpis:
        days = [on for on, _ in kpi_readings(kpi)]
        assert days == sorted(set(days))
        assert all(on <= TODAY for on in days)


def test_a_pilot_gets_no_readings_before_it_started():
    plan = plan_portfolio(**TINY, as_of=TODAY)

    for kpi in plan.kpis:
        started_on = plan.pilots[kpi.pilot].started_on
        assert all(on >= started_on for on, _ in kpi_readings(kpi))


def test_more_readings_than_the_kpis_can_hold_is_refused():
    with pytest.raises(ValueError, match="do not fit"):
        plan_portfolio(pilots=2, kpis=2, readings=1_000_000, as_of=TODAY)


def test_the_default_plan_has_hundreds_of_owners_twenty_executives_and_weekly_ish_readings():
    plan = plan_portfolio(as_of=TODAY, readings=0)

    owners = {pilot.owner for pilot in plan.pilots if pilot.owner is not None}
    assert 400 <= len(owners) <= 500
    assert sum(user.group == EXECUTIVES for user in plan.users) == 20
    assert len(plan.pilots) == 2000 and len(plan.kpis) == 10_000
    assert max(Counter(kpi.pilot for kpi in plan.kpis).values()) <= 9
    days_measured = sum(kpi.series.capacity for kpi in plan.kpis)
    # A million readings over the KPIs' lifetimes: one every few days on average.
    assert 3 <= days_measured / 1_000_000 <= 10


# Writing it into PostgreSQL.


def reading_table_indexes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", ["portfolio_kpireading"]
        )
        return [row[0] for row in cursor.fetchall()]


def reading_table_constraints() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'portfolio_kpireading'::regclass "
            "ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db
def test_the_generator_writes_the_requested_counts():
    generated = generate_portfolio(**TINY, as_of=TODAY)

    assert Pilot.objects.count() == 40
    assert Kpi.objects.count() == 160
    assert KpiReading.objects.count() == 4000
    assert generated.counts["readings"] == 4000
    assert KillCriterion.objects.count() == generated.counts["kill criteria"] > 0
    assert CheckIn.objects.count() == generated.counts["check-ins"] > 0
    assert get_user_model().objects.filter(groups__name=EXECUTIVES).count() == 20
    assert generated.executive_username in get_user_model().objects.filter(groups__name=EXECUTIVES).values_list(
        "username", flat=True
    )
    assert set(generated.sample_pilot_keys) <= set(
        Pilot.objects.filter(status=Status.ACTIVE).values_list("key", flat=True)
    )


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db
def test_the_generated_portfolio_is_a_plausible_mix_that_the_scan_flags_in_part():
    generate_portfolio(pilots=200, kpis=800, readings=20_000, as_of=TODAY)

    assert BusinessUnit.objects.count() >= 4
    statuses = Counter(Pilot.objects.values_list("status", flat=True))
    assert statuses[Status.ACTIVE] > statuses[Status.KILLED] > 0 and statuses[Status.ON_HOLD] > 0
    assert len(set(Pilot.objects.values_list("phase", flat=True))) == 4
    assert not KpiReading.objects.filter(measured_on__gt=TODAY).exists()

    run = scan_portfolio(as_of=TODAY)

    kinds = Counter(Flag.objects.filter(resolved_at__isnull=True).values_list("kind", flat=True))
    assert {"drifting", "stale", "stuck", "no_owner", "sponsor_lapsed"} <= set(kinds)
    flagged = Flag.objects.filter(resolved_at__isnull=True).values("pilot_id").distinct().count()
    # Realistic: many pilots need attention, yet most KPIs are not drifting.
    assert 0.2 * run.pilots_scanned <= flagged <= 0.8 * run.pilots_scanned
    assert kinds["drifting"] < 0.25 * Kpi.objects.count()


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db
def test_the_readings_keep_their_indexes_and_constraints_after_the_bulk_load():
    indexes, constraints = reading_table_indexes(), reading_table_constraints()

    generate_portfolio(pilots=5, kpis=10, readings=50, as_of=TODAY)

    assert reading_table_indexes() == indexes
    assert reading_table_constraints() == constraints


# The scan section.


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db
def test_the_scan_section_times_the_scan_beside_a_positive_floor():
    generate_portfolio(**TINY, as_of=TODAY)

    measurements = {m.what: m for m in scan_section_measure(BenchContext(as_of=TODAY, pilot_count=40, repeat=2))}

    scan = measurements["health scan (full portfolio)"]
    assert scan.seconds > 0 and scan.floor_seconds > 0
    assert scan.queries and scan.queries < 30
    assert scan.within_budget
    assert measurements["health scan, first run"].budget_seconds == 10


def scan_section_measure(context: BenchContext) -> list[Measurement]:
    from portfolio.benchmarks.scan import measure

    return measure(context)


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_that_scans_reports_its_peak_memory():
    from portfolio.benchmarks.scan import worker_scan_memory

    generate_portfolio(pilots=5, kpis=10, readings=50, as_of=TODAY)

    measurement = worker_scan_memory(database_url(connection.settings_dict), timeout=60)

    assert measurement.unit == "MB"
    # A Python process with Django and Celery loaded weighs tens or hundreds of megabytes, not
    # kilobytes or gigabytes. Whether it is within the 300 MB budget is the benchmark's to say, at
    # full size: in one CI run (after the browser tests) this tiny scan's worker peaked at 402 MB,
    # against 180-206 MB everywhere else, so a test cannot hold the budget reliably.
    assert 30 < measurement.seconds < 1024
    assert measurement.budget_seconds == 300


# The table and the sections.


def test_a_section_not_written_yet_is_not_measured_yet():
    result = run_section("no_such_section", BenchContext(as_of=TODAY, pilot_count=1))

    assert result.missing
    assert "no_such_section  not measured yet" in "\n".join(render_table([result]))


def test_a_failing_section_is_reported_and_the_others_still_run(monkeypatch):
    module = types.ModuleType("portfolio.benchmarks.broken_for_test")
    module.__spec__ = importlib.machinery.ModuleSpec(module.__name__, loader=None)

    def measure(context: BenchContext) -> list[Measurement]:
        raise RuntimeError("the page blew up")

    module.measure = measure
    monkeypatch.setitem(sys.modules, module.__name__, module)

    result = run_section("broken_for_test", BenchContext(as_of=TODAY, pilot_count=1))

    assert result.error == "RuntimeError: the page blew up"
    lines = render_table([result])
    assert any(line.startswith("broken_for_test") and "failed" in line for line in lines)
    assert "* broken_for_test: RuntimeError: the page blew up" in lines


def test_the_table_shows_the_ratio_to_the_floor_and_whether_each_figure_is_within_budget():
    lines = render_table(
        [
            SectionResult(
                "scan",
                [
                    Measurement("health scan", seconds=2.5, floor_seconds=1.0, budget_seconds=10.0, queries=14),
                    Measurement("dashboard", seconds=0.25, floor_seconds=0.01, budget_seconds=0.1, queries=9),
                    Measurement.memory("worker peak RSS", 180.4, budget_megabytes=300.0, note="a worker"),
                ],
            )
        ]
    )

    assert lines[0].split("  ")[0] == "what"
    assert "median" in lines[0] and "floor (bare SQL)" in lines[0] and "within budget" in lines[0]
    scan, dashboard, memory = lines[2:5]
    assert scan.split() == ["health", "scan", "2.50", "s", "1.00", "s", "2.5x", "14", "10.00", "s", "yes"]
    assert dashboard.split() == ["dashboard", "250.0", "ms", "10.0", "ms", "25.0x", "9", "100.0", "ms", "NO"]
    assert memory.split() == ["worker", "peak", "RSS", "180", "MB", "300", "MB", "yes"]
    assert lines[-1] == "* worker peak RSS: a worker"


def test_a_section_name_that_is_not_a_module_name_is_refused():
    assert check_section_names(["scan", "pages"]) == ["scan", "pages"]
    with pytest.raises(ValueError, match="not a benchmark section name"):
        check_section_names(["../scan"])


# The command and its database.


@pytest.mark.skipif(ON_POSTGRES, reason="on PostgreSQL the command would run the benchmark")
@pytest.mark.django_db
def test_the_command_refuses_sqlite_with_one_line():
    with pytest.raises(CommandError) as refused:
        call_command("benchmark")

    message = str(refused.value)
    assert "PostgreSQL only" in message and "sqlite" in message
    assert "\n" not in message


def test_the_database_url_for_a_worker_names_the_same_database():
    assert (
        database_url({"NAME": "pp_bench", "USER": "postgres", "PASSWORD": "", "HOST": "", "PORT": ""})
        == "postgres://postgres@127.0.0.1:5432/pp_bench"
    )
    assert (
        database_url({"NAME": "db", "USER": "app", "PASSWORD": "secret", "HOST": "pg", "PORT": 6543})
        == "postgres://app:secret@pg:6543/db"
    )


def current_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        return cursor.fetchone()[0]


def database_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone()[0] == 1


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_benchmark_works_in_a_migrated_database_of_its_own_and_drops_it_afterwards(monkeypatch):
    migrated_in = []
    # Django's migrate is not what is tested here, and costs seconds.
    monkeypatch.setattr(runner, "call_command", lambda name, **options: migrated_in.append((name, current_database())))
    original = current_database()

    with dedicated_database() as name:
        assert name == f"{original}_bench"
        assert current_database() == name
        assert database_exists(name)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE written_by_the_benchmark (id int)")

    assert migrated_in == [("migrate", name)]
    assert current_database() == original == connection.settings_dict["NAME"]
    assert not database_exists(name)


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_keep_leaves_the_benchmark_database_and_the_next_run_starts_it_afresh(monkeypatch):
    monkeypatch.setattr(runner, "call_command", lambda name, **options: None)
    try:
        with dedicated_database(keep=True) as name, connection.cursor() as cursor:
            cursor.execute("CREATE TABLE left_by_the_last_run (id int)")
        assert database_exists(name)

        with dedicated_database() as name, connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('left_by_the_last_run')")
            assert cursor.fetchone()[0] is None
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{connection.settings_dict["NAME"]}_bench" WITH (FORCE)')


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_database_named_in_the_settings_need_not_exist(monkeypatch):
    """A fresh server has no ``pilot_portfolio`` yet: the benchmark only needs the server."""
    monkeypatch.setattr(runner, "call_command", lambda name, **options: None)
    settings_dict = connection.settings_dict
    original = settings_dict["NAME"]
    connection.close()
    settings_dict["NAME"] = "pilot_portfolio_never_created"
    try:
        with dedicated_database() as name:
            assert current_database() == name == "pilot_portfolio_never_created_bench"
        assert settings_dict["NAME"] == "pilot_portfolio_never_created"
    finally:
        connection.close()
        settings_dict["NAME"] = original
    assert not database_exists("pilot_portfolio_never_created_bench")


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_server_that_does_not_answer_is_one_line():
    settings_dict = connection.settings_dict
    original = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = 1  # nothing listens there
    try:
        with pytest.raises(CommandError) as refused:
            call_command("benchmark", "--pilots", "1")
    finally:
        connection.close()
        settings_dict["PORT"] = original

    message = str(refused.value)
    assert message.startswith("Cannot reach the PostgreSQL server: ")
    assert "\n" not in message
