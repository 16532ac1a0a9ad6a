"""What makes a KPI reading acceptable: the number it parses to and the date it may carry.

Shared by the reading form, the CSV upload and the API so they refuse the same input
with the same words.
"""

from __future__ import annotations

import datetime as dt
import re

# "12.5", "-3", "1,234.5", "1 234,5" is ambiguous and refused.
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
NUMBER_HELP = 'Enter a number such as 12.5 (thousands may be separated by commas: "1,234.5").'


class ReadingProblem(ValueError):
    """A reading the rules refuse, with the message a person reads."""


def parse_number(text: str) -> float:
    """Read a typed number; '1,234.5' is 1234.5, anything else ambiguous is refused."""
    cleaned = text.strip()
    if not cleaned:
        raise ReadingProblem("A value is required. " + NUMBER_HELP)
    if not _NUMBER.match(cleaned):
        raise ReadingProblem(f'"{cleaned}" is not a number. ' + NUMBER_HELP)
    return float(cleaned.replace(",", ""))


def check_reading_date(measured_on: dt.date, *, started_on: dt.date, today: dt.date) -> None:
    """A reading is dated between the pilot's start and today, both included."""
    if measured_on > today:
        raise ReadingProblem(f"The date {measured_on:%d %b %Y} is in the future; readings are of what was measured.")
    if measured_on < started_on:
        raise ReadingProblem(f"The date {measured_on:%d %b %Y} is before the pilot started ({started_on:%d %b %Y}).")
