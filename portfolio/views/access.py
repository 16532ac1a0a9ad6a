"""Who may open a form or write: every write view and htmx endpoint fetches its object through here.

One place for the object checks of DESIGN 10, as healthchecks' ``_get_check_for_user``:
an unknown key is a 404; a pilot the user may read but not change is a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from portfolio.models import KillCriterion, Kpi, Pilot
from portfolio.roles import can_edit_pilot_data, is_portfolio_office

Rule = Callable[[Any, Pilot], bool]


def pilot_for(request: HttpRequest, key: str, may: Rule = can_edit_pilot_data) -> Pilot:
    """The pilot with ``key`` if ``may(user, pilot)``: 404 for no such pilot, 403 when not allowed."""
    pilot = Pilot.objects.select_related("business_unit", "owner", "sponsor").filter(key=key).first()
    if pilot is None:
        raise Http404("No pilot has this key.")
    if not may(request.user, pilot):
        raise PermissionDenied("You may read this pilot but not change it.")
    return pilot


def kpi_for(request: HttpRequest, key: str, kpi_key: str) -> tuple[Pilot, Kpi]:
    """The pilot's KPI, for someone who may edit the pilot's data."""
    pilot = pilot_for(request, key)
    kpi = Kpi.objects.filter(pilot=pilot, key=kpi_key).first()
    if kpi is None:
        raise Http404("This pilot has no KPI with this key.")
    kpi.pilot = pilot
    return pilot, kpi


def kill_criterion_for(request: HttpRequest, key: str, criterion_key: str) -> tuple[Pilot, KillCriterion]:
    pilot = pilot_for(request, key)
    criterion = KillCriterion.objects.filter(pilot=pilot, key=criterion_key).first()
    if criterion is None:
        raise Http404("This pilot has no kill criterion with this key.")
    criterion.pilot = pilot
    return pilot, criterion


def office_only(request: HttpRequest) -> None:
    """The portfolio office's pages: pilot creation, business units, the people picker."""
    if not is_portfolio_office(request.user):
        raise PermissionDenied("Only the portfolio office may do this.")


def back_to(request: HttpRequest, default: str) -> str:
    """Where to go after a write: the page the form was on (``next``), if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
