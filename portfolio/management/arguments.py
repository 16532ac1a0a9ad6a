"""What the management commands share: reading ``--as-of`` and counting nouns in their summaries."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError


def as_of_date(text: str) -> dt.date:
    """The ``--as-of`` date; anything but YYYY-MM-DD stops the command with one line."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of must be a date as YYYY-MM-DD, not {text!r}") from None


def counted(number: int, noun: str) -> str:
    """``1 pilot``, ``3 pilots``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
