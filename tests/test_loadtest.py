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

STATS_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
    "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def _stats(tmp_path: Path, rows: list[tuple[str, str, int, int, int, int]]) -> Path:
    """A locust ``_stats.csv``: (method, name, count, failures, p50, p95) per row, then the aggregate."""
    path = tmp_path / "locust_stats.csv"
    columns = STATS_HEADER.split(",")

    def row(method: str, name: str, count: int, failures: int, p50: int, p95: int) -> dict[str, object]:
        figures = {"Request Count": count, "Failure Count": failures, "50%": p50, "95%": p95, "Requests/s": 2.0}
        return {**dict.fromkeys(columns, 0), "Type": method, "Name": name, **figures}

    with path.open("w", newline="") as handle:
        out = csv.DictWriter(handle, columns)
        out.writeheader()
        out.writerows(row(*figures) for figures in rows)
        out.writerow(row("", "Aggregated", sum(r[2] for r in rows), sum(r[3] for r in rows), 100, 400))
    return path


def _every_budget(dashboard_p95: int = 420, reading_p95: int = 120, failures: int = 0) -> list[tuple]:
    return [
        ("GET", names.DASHBOARD, 900, 0, 150, dashboard_p95),
        ("GET", names.DASHBOARD_FILTERED, 300, 0, 120, 300),
        ("POST", names.READING_POST, 500, failures, 60, reading_p95),
        ("POST", names.READING_REPLACE, 80, 0, 70, 150),
        ("POST", names.API_READINGS, 200, 0, 50, 110),
        ("GET", names.PILOT_PAGE, 700, 0, 200, 900),
    ]


def test_within_every_budget_the_table_says_yes_and_nothing_is_broken(tmp_path):
    rows = report.read_stats(_stats(tmp_path, _every_budget()))
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
    rows = report.read_stats(_stats(tmp_path, _every_budget(dashboard_p95=510, reading_p95=310, failures=2)))
    assert report.broken_budgets(rows) == [names.DASHBOARD, names.READING_POST, "errors"]
    assert report.error_count(rows) == 2
    table = report.render(rows)
    assert next(line for line in table if line.startswith(names.DASHBOARD + " ")).endswith("NO")
    assert table[-1].startswith("errors") and "2 of 2,680" in table[-1] and table[-1].endswith("NO")


def test_a_budgeted_request_never_made_counts_as_broken(tmp_path):
    rows = report.read_stats(_stats(tmp_path, [r for r in _every_budget() if r[1] != names.READING_REPLACE]))
    assert report.broken_budgets(rows) == [f"{names.READING_REPLACE} (never requested)"]


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
            env={**env, "LOADTEST_SCENARIO": str(scenario)},
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
    # The writes happened: through the form (two on one date, the second replacing) and the API.
    assert KpiReading.objects.filter(note="load test", source=Source.FORM).count() >= 2
    assert KpiReading.objects.filter(source=Source.API, recorded_by__api_tokens__name="load test").exists()
