"""The load test: its table and budgets, and its scenario played against a real gunicorn so it cannot rot."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from loadtest import names, report
from loadtest.run import ROOT, app_environment, background, free_port, load_database_url, wait_until_healthy

START = 1_800_000_000.0  # seconds since the epoch


def _log(tmp_path: Path, requests: list[tuple[float, str, float, bool]]) -> Path:
    """A request log as the locustfile writes it: (seconds into the run, name, ms, failed) per request."""
    path = tmp_path / "requests.csv"
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(report.REQUEST_LOG_COLUMNS)
        out.writerows((f"{START + at:.3f}", name, "GET", f"{ms:.1f}", int(failed)) for at, name, ms, failed in requests)
    return path


def _times(name: str, p95: float, *, at: float = 10.0, failures: int = 0) -> list[tuple[float, str, float, bool]]:
    """Twenty requests of one name, eighteen of 50 ms and two of ``p95``: the 19th is the nearest-rank p95."""
    fast = [(at + n, name, 50.0, n < failures) for n in range(18)]
    return [*fast, (at + 18, name, p95, False), (at + 19, name, p95, False)]


def _every_budget(dashboard_p95: float = 420, reading_p95: float = 120, failures: int = 0) -> list[tuple]:
    return [
        *_times(names.DASHBOARD, dashboard_p95),
        *_times(names.DASHBOARD_FILTERED, 300),
        *_times(names.READING_POST, reading_p95, failures=failures),
        *_times(names.READING_REPLACE, 150),
        *_times(names.API_READINGS, 110),
        *_times(names.PILOT_PAGE, 900),
    ]


def test_within_every_budget_the_table_says_yes_and_nothing_is_broken(tmp_path):
    rows = report.summarise(report.read_requests(_log(tmp_path, _every_budget())))
    table = report.render(rows)
    assert report.broken_budgets(rows) == []
    assert report.error_count(rows) == 0
    dashboard = next(line for line in table if line.startswith(names.DASHBOARD + " "))
    assert "420 ms" in dashboard and "≤ 500 ms" in dashboard and dashboard.endswith("yes")
    # A page without a budget has its figures but no verdict.
    page = next(line for line in table if line.startswith(names.PILOT_PAGE))
    assert "900 ms" in page and not page.endswith(("yes", "NO"))
    assert table[-1].startswith("errors") and table[-1].endswith("yes")
    assert table[-2].startswith("all requests")


def test_a_slow_dashboard_a_slow_reading_and_an_error_are_each_reported(tmp_path):
    rows = report.summarise(report.read_requests(_log(tmp_path, _every_budget(510, 310, failures=2))))
    assert report.broken_budgets(rows) == [names.DASHBOARD, names.READING_POST, "errors"]
    assert report.error_count(rows) == 2
    table = report.render(rows)
    assert next(line for line in table if line.startswith(names.DASHBOARD + " ")).endswith("NO")
    assert table[-1].startswith("errors") and "2 of 120" in table[-1] and table[-1].endswith("NO")


def test_a_budgeted_request_never_made_counts_as_broken(tmp_path):
    requests = [r for r in _every_budget() if r[1] != names.READING_REPLACE]
    rows = report.summarise(report.read_requests(_log(tmp_path, requests)))
    assert report.broken_budgets(rows) == [f"{names.READING_REPLACE} (never requested)"]


def test_a_run_of_some_kinds_of_user_is_judged_on_the_requests_it_made(tmp_path):
    executives_only = [r for r in _every_budget() if r[1] in {names.DASHBOARD, names.DASHBOARD_FILTERED}]
    rows = report.summarise(report.read_requests(_log(tmp_path, executives_only)))
    assert report.broken_budgets(rows, every_kind_of_user=False) == []
    slow = report.summarise(report.read_requests(_log(tmp_path, _times(names.DASHBOARD, 510))))
    assert report.broken_budgets(slow, every_kind_of_user=False) == [names.DASHBOARD]


def test_percentiles_are_nearest_rank_over_every_request():
    assert report.percentile(list(range(100, 0, -1)), 0.95) == 95
    assert report.percentile(list(range(1, 101)), 0.50) == 50
    assert report.percentile([7.0], 0.95) == 7.0
    assert report.percentile([], 0.95) == 0.0


def test_the_steady_state_starts_when_the_last_user_has_signed_in_and_landed(tmp_path):
    requests = report.read_requests(
        _log(
            tmp_path,
            [
                (0.0, names.SIGN_IN, 600, False),
                (0.7, names.LANDING, 2000, False),  # ends at 2.7 s
                (1.0, names.DASHBOARD, 1500, False),  # a slow view during the arrival
                (2.0, names.LANDING, 300, False),  # ends at 2.3 s
                (2.5, names.DASHBOARD, 30, False),  # started before the last landing ended
                (2.7, names.DASHBOARD, 40, False),
                (9.0, names.DASHBOARD, 20, False),
            ],
        )
    )
    steady_from = report.steady_from(requests)
    assert steady_from == pytest.approx(START + 2.7)

    steady = report.summarise(report.steady_state(requests))
    dashboard = next(row for row in steady if row.name == names.DASHBOARD)
    assert (dashboard.count, dashboard.p95_ms) == (2, 40)
    nobody_signed_in = [r for r in requests if r.name != names.LANDING]
    assert report.steady_from(nobody_signed_in) is None
    assert report.steady_state(nobody_signed_in) == []


def test_the_load_database_is_beside_the_given_one_and_postgresql_only():
    name, url = load_database_url("postgres://portfolio:secret@db.example:5433/portfolio")
    assert name == "portfolio_load"
    assert url == "postgres://portfolio:secret@db.example:5433/portfolio_load"
    with pytest.raises(SystemExit, match="PostgreSQL"):
        load_database_url("sqlite:///var/db.sqlite3")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_every_task_of_the_scenario_runs_against_gunicorn_without_a_failure(tmp_path, settings):
    """The scenario's requests, forms and fields still match the app: each task once, on a real server."""
    from loadtest.scenario import write_scenario
    from portfolio.benchmarks.generate import BENCH_PASSWORD, generate_portfolio
    from portfolio.models import KpiReading, Source
    from tests.workers import integration_broker_url, require_postgresql, running_worker, shared_database_url

    require_postgresql()
    broker = integration_broker_url()
    # The server checks passwords with the production hasher, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    generate_portfolio(pilots=16, kpis=48, readings=2000, as_of=timezone.localdate(), seed=3)
    scenario = tmp_path / "scenario.json"
    write_scenario(scenario, password=BENCH_PASSWORD, owners=4, feeds=2)

    port = free_port()
    env = app_environment(port=port, database_url=shared_database_url(), redis_url=broker, scratch=tmp_path)
    # DEBUG=1: production's hashed static files need a collectstatic that costs a minute;
    # bin/loadtest runs in production mode. The requests and forms are the same.
    env.update(DEBUG="1", WEB_CONCURRENCY="2")
    url = f"http://127.0.0.1:{port}"
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "portfolio.wsgi"]
    with (
        running_worker(broker, tmp_path / "worker.log"),
        background("gunicorn", gunicorn, env, tmp_path / "gunicorn.log") as web,
    ):
        wait_until_healthy(url, {"gunicorn": web})
        smoke = subprocess.run(
            [sys.executable, "-m", "loadtest.smoke", "--host", url],
            cwd=ROOT,
            env={**env, "LOADTEST_SCENARIO": str(scenario), "LOADTEST_REQUEST_LOG": str(tmp_path / "requests.csv")},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    requests = json.loads(smoke.stdout)["requests"]
    every_name = {value for key, value in vars(names).items() if key.isupper()}
    assert set(requests) == every_name
    for name, seen in requests.items():
        assert seen["count"] >= 1 and seen["failures"] == [], (name, seen)
    assert requests[names.READING_POST]["methods"] == ["POST"]
    # The locustfile logged every request the report reads, as locust saw them.
    logged = report.summarise(report.read_requests(tmp_path / "requests.csv"))
    assert {row.name: row.count for row in logged if row.name != report.TOTAL} == {
        name: seen["count"] for name, seen in requests.items()
    }
    # The writes happened: through the form (two on one date, the second replacing) and the API.
    assert KpiReading.objects.filter(note="load test", source=Source.FORM).count() >= 2
    assert KpiReading.objects.filter(source=Source.API, recorded_by__api_tokens__name="load test").exists()
