"""The pages' benchmark section: the dashboard and a pilot page, cached and cold, beside their SQL floor."""

from __future__ import annotations

import pytest

from portfolio.benchmarks import BenchContext
from portfolio.benchmarks.pages import PAGE_BUDGET_SECONDS, measure
from tests.factories import TODAY, KpiFactory, KpiReadingFactory, PilotFactory


@pytest.mark.usefixtures("frozen_today", "fast_password_hashing")
def test_it_measures_both_pages_cached_and_cold(executive):
    small = PilotFactory(key="small")
    KpiFactory(pilot=small)
    busy = PilotFactory(key="busy", phase="production")
    for _ in range(2):
        KpiReadingFactory(kpi=KpiFactory(pilot=busy))

    found = measure(
        BenchContext(
            as_of=TODAY,
            pilot_count=2,
            sample_pilot_keys=["small", "busy"],
            executive_username=executive.username,
            repeat=1,
        )
    )

    assert [m.what for m in found] == [
        "dashboard (/), cached",
        "dashboard (/), cold",
        "pilot page with its KPI charts, cached",
        "pilot page with its KPI charts, cold",
        "pilot page with its KPI charts, cold, with its chart images",
    ]
    cached_dashboard, cold_dashboard, cached_pilot, cold_pilot, with_images = found
    assert cached_dashboard.budget_seconds == PAGE_BUDGET_SECONDS
    assert cached_pilot.budget_seconds == PAGE_BUDGET_SECONDS
    assert all(m.seconds > 0 and m.floor_seconds and m.queries for m in found[:4])
    assert with_images.seconds > 0
    # The cache spares the dashboard the whole computation.
    assert cached_dashboard.queries < cold_dashboard.queries
    assert "(3 charts)" in cached_dashboard.note
    assert "(2 charts)" in cached_pilot.note  # the busiest sample pilot was chosen
    # Cold, the pilot page leaves its charts to images; drawing them is measured beside it.
    assert "(2 charts left to their own image requests)" in cold_pilot.note
    assert "each of its 2 chart images" in with_images.note
