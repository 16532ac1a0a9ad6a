"""The trend mark beside a KPI's latest value: which way it moved, and whether that is better for the KPI."""

from __future__ import annotations

import pytest

from portfolio.trends import trend


def test_there_is_no_trend_without_two_readings():
    assert trend("increase", 5.0, None) is None
    assert trend("increase", None, None) is None


@pytest.mark.parametrize(
    ("direction", "previous", "latest", "movement", "verdict"),
    [
        ("increase", 50.0, 60.0, "up", "better"),
        ("increase", 60.0, 50.0, "down", "worse"),
        ("decrease", 9.0, 7.5, "down", "better"),
        ("decrease", 7.5, 9.0, "up", "worse"),
        ("decrease", 7.5, 7.5, "flat", "same"),
    ],
)
def test_it_judges_the_move_by_the_kpis_direction(direction, previous, latest, movement, verdict):
    move = trend(direction, latest, previous)

    assert (move.movement, move.verdict, move.previous) == (movement, verdict, previous)


def test_it_says_in_words_what_the_mark_shows():
    assert trend("decrease", 7.5, 9.0).words == "down from the previous reading, better"
    assert trend("increase", 3.0, 3.0).words == "unchanged since the previous reading"
    assert trend("increase", 4.0, 3.0).symbol == "▲"
