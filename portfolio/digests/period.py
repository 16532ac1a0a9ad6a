"""The week a digest belongs to: its ISO week, written as on the DigestDelivery row (2026-W47)."""

from __future__ import annotations

import datetime as dt


def iso_week(day: dt.date) -> str:
    """The ISO week of ``day``, such as 2026-W47; the ISO year may differ from the calendar year near New Year."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.isoweekday() - 1)
