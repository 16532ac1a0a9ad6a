"""How the pages show numbers, money, dates and people: one place, so every page agrees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils import dateformat, timezone

register = template.Library()

DATE_FORMAT = "j M Y"  # 16 Nov 2026
EMPTY = "—"


@register.filter
def number(value: Any, places: int = 2) -> str:
    """A KPI figure: thousands separators, at most ``places`` decimals, no trailing zeros (12, 0.85, 1,234.5)."""
    if value is None or value == "":
        return EMPTY
    try:
        text = f"{float(value):,.{int(places)}f}"
    except (TypeError, ValueError):
        return str(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@register.filter
def money(value: Any) -> str:
    """An amount of money in whole units with thousands separators (1,250,000)."""
    if value is None or value == "":
        return EMPTY
    try:
        return f"{Decimal(value):,.0f}"
    except (TypeError, ValueError, ArithmeticError):
        return str(value)


@register.filter
def day(value: dt.date | None) -> str:
    """A date as people write it: 16 Nov 2026."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return dateformat.format(value, DATE_FORMAT)


@register.filter
def person(user: Any) -> str:
    """A user's full name, else their username; a dash for nobody."""
    if user is None:
        return EMPTY
    return user.get_full_name() or user.get_username()


@register.filter
def shown(value: Any) -> str:
    """A value of the change history, whatever its type."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return day(value)
    if isinstance(value, Decimal):
        return money(value) if value == value.to_integral_value() else f"{value:,}"
    if isinstance(value, float | int):
        return number(value, 4)
    return str(value)
