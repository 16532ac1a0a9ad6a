"""The pilot list as spreadsheet rows, with text that a spreadsheet could run as a formula neutralised.

A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
programs strip first) is read as a formula by Excel and its kin; names and problems are user
text, so such a cell gets a leading apostrophe (OWASP "CSV injection"). Numbers the export
computes itself are written as numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portfolio.selectors_dashboard import ExportRow

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

HEADER = [
    "Key",
    "Pilot",
    "Business unit",
    "Phase",
    "Status",
    "Owner",
    "Sponsor",
    "Phase entered on",
    "Days in phase",
    "Phase limit (days)",
    "Past phase limit",
    "Budget",
    "Spent",
    "Open flags",
    "Unmet criteria of the next gate",
    "Delivers measurable value",
    "Best KPI",
    "Best KPI progress to target (%)",
    "Value shown by",
]


def neutralise(text: str) -> str:
    """Text a spreadsheet will show as text, never run as a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _text(value: object) -> str:
    return neutralise(str(value)) if value not in (None, "") else ""


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def pilot_csv_rows(rows: list[ExportRow]) -> Iterator[list[str | int]]:
    """The header, then one row per pilot."""
    yield HEADER
    for row in rows:
        pilot = row.pilot
        value = row.value
        best = value.best if value else None
        past = row.limit_days is not None and pilot.days_in_phase > row.limit_days
        yield [
            _text(pilot.key),
            _text(pilot.name),
            _text(pilot.business_unit),
            pilot.phase_label,
            pilot.status_label,
            _text(pilot.owner),
            _text(pilot.sponsor),
            pilot.phase_entered_on.isoformat(),
            pilot.days_in_phase,
            "" if row.limit_days is None else row.limit_days,
            "yes" if past else "no",
            _amount(pilot.budget),
            _amount(pilot.spent),
            _text("; ".join(flag.label for flag in row.flags)),
            _text("; ".join(row.blockers)),
            "" if value is None else ("yes" if value.delivers_value else "no"),
            _text(best.name if best else ""),
            "" if best is None or best.progress is None else f"{best.progress * 100:.0f}",
            ""
            if value is None or not value.delivers_value
            else ("system feed" if value.shown_by_system else "self-reported"),
        ]
