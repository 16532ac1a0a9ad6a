"""Template helpers for the forms owners and sponsors work in: who may do what, each KPI row's form, flags and trend.

The access filters call ``portfolio.roles`` so a page only offers what its view
would accept; the views check again on every request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import template

from portfolio import roles
from portfolio.forms import CheckInForm, ReadingForm
from portfolio.models import FlagKind, Kpi, Pilot
from portfolio.trends import Trend, trend

register = template.Library()


@dataclass(frozen=True)
class RowFlag:
    """A flag as a KPI row shows it, from a flag row or from a live evaluation."""

    severity: str
    label: str
    detail: str


@register.filter
def may_edit(user: Any, pilot: Pilot) -> bool:
    """May the user change the pilot's KPIs, readings and kill criteria?"""
    return roles.can_edit_pilot_data(user, pilot)


@register.filter
def may_check_in(user: Any, pilot: Pilot) -> bool:
    return roles.can_check_in(user, pilot)


@register.filter
def in_office(user: Any) -> bool:
    return roles.is_portfolio_office(user)


@register.simple_tag
def reading_form(kpi: Kpi, pilot: Pilot, today: dt.date, form: Any = None) -> ReadingForm:
    """The row's reading form: the one the view handed over for this KPI, else a fresh one."""
    if isinstance(form, ReadingForm) and form.kpi.pk == kpi.pk:
        return form
    return ReadingForm(kpi=kpi, started_on=pilot.started_on, today=today)


@register.simple_tag
def checkin_form(pilot: Pilot, today: dt.date, form: Any = None) -> CheckInForm:
    if isinstance(form, CheckInForm) and form.pilot.pk == pilot.pk:
        return form
    return CheckInForm(pilot=pilot, today=today)


@register.simple_tag
def kpi_flags(pilot: Pilot, kpi: Kpi, live: Any = None) -> list[RowFlag]:
    """The KPI's flags: about it, or about a kill criterion measured by it.

    ``live`` is the list of findings a view evaluated right after a write; without
    it the open flag rows loaded with the pilot are shown.
    """
    labels = dict(FlagKind.choices)
    if isinstance(live, list):
        return [RowFlag(str(f.severity), labels.get(f.kind, str(f.kind)), f.detail) for f in live]
    return [
        RowFlag(flag.severity, flag.get_kind_display(), flag.detail)
        for flag in getattr(pilot, "open_flags", ())
        if flag.kpi_id == kpi.pk or (flag.kill_criterion is not None and flag.kill_criterion.kpi_id == kpi.pk)
    ]


@register.simple_tag
def kpi_trend(kpi: Kpi) -> Trend | None:
    return trend(kpi.direction, getattr(kpi, "latest_value", None), getattr(kpi, "previous_value", None))
