from __future__ import annotations

import datetime as dt

import pytest

from portfolio.readings import ReadingProblem, check_reading_date, parse_number

STARTED = dt.date(2026, 9, 1)
TODAY = dt.date(2026, 11, 16)


@pytest.mark.parametrize(("text", "number"), [("12.5", 12.5), (" -3 ", -3.0), ("1,234.5", 1234.5), ("1,000,000", 1e6)])
def test_it_reads_plain_numbers_and_thousands_separators(text, number):
    assert parse_number(text) == number


@pytest.mark.parametrize("text", ["12,5", "1.234,5", "abc", "1e3", "12 %", "1,23"])
def test_it_refuses_anything_else_with_an_example(text):
    with pytest.raises(ReadingProblem, match=r"is not a number\. Enter a number such as 12\.5"):
        parse_number(text)


def test_an_empty_value_is_required():
    with pytest.raises(ReadingProblem, match="A value is required"):
        parse_number("  ")


def test_today_and_the_start_date_are_allowed():
    check_reading_date(TODAY, started_on=STARTED, today=TODAY)
    check_reading_date(STARTED, started_on=STARTED, today=TODAY)


def test_tomorrow_is_in_the_future():
    with pytest.raises(ReadingProblem, match="in the future"):
        check_reading_date(TODAY + dt.timedelta(days=1), started_on=STARTED, today=TODAY)


def test_the_day_before_the_start_is_refused():
    with pytest.raises(ReadingProblem, match=r"before the pilot started \(01 Sep 2026\)"):
        check_reading_date(STARTED - dt.timedelta(days=1), started_on=STARTED, today=TODAY)
