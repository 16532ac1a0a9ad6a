"""The gates' benchmark section: the blockers of every pilot and of the dashboard's, beside their SQL floor."""

from __future__ import annotations

import pytest
from django.db import connection

from portfolio.benchmarks import BenchContext
from portfolio.benchmarks.gates import BLOCKERS_BUDGET_SECONDS, measure
from portfolio.models import Phase, Status
from tests.factories import TODAY, KpiFactory, KpiReadingFactory, PilotFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def test_it_measures_the_blockers_of_every_pilot_and_of_those_the_dashboard_asks_about():
    for phase in (Phase.POC, Phase.PILOT, Phase.PRODUCTION):
        KpiReadingFactory(kpi=KpiFactory(pilot=PilotFactory(phase=phase)))
    PilotFactory(phase=Phase.PILOT, status=Status.ON_HOLD)
    PilotFactory(phase=Phase.PILOT, status=Status.KILLED)
    PilotFactory(phase=Phase.SCALED)

    every, dashboards, *_ = measure(BenchContext(as_of=TODAY, pilot_count=6, repeat=1))

    assert (every.what, every.note) == ("gate blockers of every pilot (extensions.gate_blockers)", "6 pilots")
    assert (dashboards.what, dashboards.note) == (
        "gate blockers the dashboard asks for",
        "3 active pilots with a gate ahead",
    )
    for figure in (every, dashboards):
        assert figure.budget_seconds == BLOCKERS_BUDGET_SECONDS
        assert figure.seconds > 0 and figure.floor_seconds and figure.queries


def test_queries_are_counted_even_after_a_section_filled_django_s_query_log():
    """Django keeps 9,000 queries; with the log full, a plain CaptureQueriesContext sees none."""
    KpiReadingFactory(kpi=KpiFactory(pilot=PilotFactory(phase=Phase.PILOT)))
    connection.queries_log.extend({"sql": "SELECT 1", "time": "0.000"} for _ in range(connection.queries_limit))

    every, *_ = measure(BenchContext(as_of=TODAY, pilot_count=1, repeat=1))

    assert every.queries > 0 and every.floor_seconds > 0
