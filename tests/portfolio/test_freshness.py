"""The dashboard's freshness rule at its boundaries: serve, serve stale and refresh, or compute."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.freshness import Computed, Plan, dashboard_plan

NOW = dt.datetime(2026, 11, 16, 8, 31, tzinfo=dt.UTC)


def computed(seconds_ago: float, version: str = "v1") -> Computed:
    return Computed(version=version, computed_at=NOW - dt.timedelta(seconds=seconds_ago))


def test_with_no_board_it_computes():
    assert dashboard_plan(None, version="v1", now=NOW, max_stale_seconds=60) is Plan.COMPUTE


@pytest.mark.parametrize("seconds_ago", [0, 59, 60, 61, 86_400])
def test_a_board_of_the_current_version_is_served_however_old(seconds_ago):
    assert dashboard_plan(computed(seconds_ago), version="v1", now=NOW, max_stale_seconds=60) is Plan.SERVE


@pytest.mark.parametrize(
    ("seconds_ago", "plan"),
    [
        (0, Plan.SERVE_STALE),
        (29.999, Plan.SERVE_STALE),
        (30, Plan.SERVE_STALE_AND_REFRESH),
        (59.999, Plan.SERVE_STALE_AND_REFRESH),
        (60, Plan.SERVE_STALE_AND_REFRESH),
        (60.001, Plan.COMPUTE),
        (3600, Plan.COMPUTE),
    ],
)
def test_a_board_of_another_version_is_served_refreshed_from_half_the_bound_and_computed_after_it(seconds_ago, plan):
    assert dashboard_plan(computed(seconds_ago), version="v2", now=NOW, max_stale_seconds=60) is plan


def test_a_bound_of_zero_never_serves_another_version():
    assert dashboard_plan(computed(0), version="v2", now=NOW, max_stale_seconds=0) is Plan.COMPUTE
    assert dashboard_plan(computed(0), version="v1", now=NOW, max_stale_seconds=0) is Plan.SERVE


def test_a_board_stamped_a_little_in_the_future_counts_as_fresh():
    # Another machine's clock a second ahead must not make its board look too old.
    assert dashboard_plan(computed(-1), version="v2", now=NOW, max_stale_seconds=60) is Plan.SERVE_STALE
