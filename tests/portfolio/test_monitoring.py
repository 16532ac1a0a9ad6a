from __future__ import annotations

import datetime as dt

from portfolio.monitoring import scan_freshness

NOW = dt.datetime(2026, 11, 16, 12, 0, tzinfo=dt.UTC)


def test_no_scan_yet_is_overdue():
    assert scan_freshness(None, NOW, 60).overdue


def test_a_scan_exactly_two_periods_old_is_still_fresh():
    freshness = scan_freshness(NOW - dt.timedelta(minutes=120), NOW, 60)
    assert not freshness.overdue
    assert freshness.age_seconds == 7200


def test_a_scan_older_than_two_periods_is_overdue():
    assert scan_freshness(NOW - dt.timedelta(minutes=121), NOW, 60).overdue
