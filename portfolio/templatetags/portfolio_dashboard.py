"""Template filters of the dashboard and the KPI charts: shares as percentages, charts' alt text."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from portfolio.templatetags.portfolio_format import EMPTY, day, number

register = template.Library()


@register.filter
def percent(value: Any, places: int = 0) -> str:
    """A share (0.27) as a percentage (27%); a dash when there is nothing to divide."""
    if value is None or value == "":
        return EMPTY
    try:
        return f"{float(value) * 100:.{int(places)}f}%"
    except (TypeError, ValueError):
        return EMPTY


@register.filter
def unit_value(value: Any, unit: str = "") -> str:
    """A KPI figure with its unit (58 min), or a dash."""
    if value is None or value == "":
        return EMPTY
    return f"{number(value)} {unit}".strip()


@register.filter
def meter_value(value: Any) -> float:
    """A progress share clamped to the 0–1 a <meter> shows."""
    try:
        return min(max(float(value), 0.0), 1.0)
    except (TypeError, ValueError):
        return 0.0


@register.filter
def kpi_chart_alt(kpi: Any) -> str:
    """What a KPI's chart shows, in words: the latest reading beside the baseline and the target."""
    unit = kpi.unit or ""
    parts = [f"Readings of {kpi.name}"]
    latest_on = getattr(kpi, "latest_on", None)
    if latest_on:
        parts.append(f"latest {unit_value(kpi.latest_value, unit)} on {day(latest_on)}")
    else:
        parts.append("no readings yet")
    if kpi.baseline is not None:
        parts.append(f"baseline {unit_value(kpi.baseline, unit)}")
    parts.append(f"target {unit_value(kpi.target, unit)}")
    return ", ".join(parts) + "."


@register.filter
def plain_select(field: BoundField) -> SafeString:
    """A select field as plain markup, built in Python.

    Django renders each option of a select through a template of its own; with a hundred
    sponsors in a filter that costs more than the rest of the dashboard.
    """
    chosen = str(field.value() or "")
    options = format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, mark_safe(" selected") if str(value) == chosen else "", label)
            for value, label in field.field.widget.choices
        ),
    )
    invalid = mark_safe(' aria-invalid="true"') if field.errors else ""
    return format_html('<select name="{}" id="{}"{}>{}</select>', field.html_name, field.id_for_label, invalid, options)
