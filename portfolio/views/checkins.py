"""Sponsor check-ins, from the pilot page or "My pilots": only the pilot's sponsor may record one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from portfolio import selectors, services
from portfolio.forms import CheckInForm
from portfolio.roles import can_check_in
from portfolio.templatetags.portfolio_format import day
from portfolio.views.access import back_to, pilot_for

# Which part of the page the htmx form swaps: the whole card on the pilot page, the form elsewhere.
PARTIALS = {
    "card": "portfolio/pilot/_checkins.html#checkins-card",
    "form": "portfolio/pilot/_checkins.html#checkin-form",
}


@require_POST
@vary_on_headers("HX-Request")
def checkin_record(request: HttpRequest, key: str) -> HttpResponse:
    """Record the sponsor's check-in; htmx gets its part of the page back, a plain POST a redirect."""
    pilot = pilot_for(request, key, can_check_in)
    today = timezone.localdate()
    back = back_to(request, f"{pilot.get_absolute_url()}#checkins")
    form = CheckInForm(request.POST, pilot=pilot, today=today)
    recorded = ""
    if form.is_valid():
        checkin = services.checkin_record(
            pilot=pilot,
            sponsor=request.user,
            on=form.cleaned_data["on"],
            confidence=form.cleaned_data["confidence"],
            note=form.cleaned_data["note"],
            today=today,
        )
        recorded = f"Check-in of {day(checkin.on)} recorded: {checkin.get_confidence_display().lower()} confidence."
        if not request.htmx:
            messages.success(request, recorded)
            return redirect(back)
        form = CheckInForm(pilot=pilot, today=today)
    context = {
        "pilot": selectors.pilot_detail(pilot.key, as_of=today),
        "form": form,
        "recorded": recorded,
        "back": back,
        "today": today,
        "where": "card" if request.POST.get("where") == "card" else "form",
    }
    if not request.htmx:
        return render(request, "portfolio/checkin_form.html", context)
    response = render(request, PARTIALS[context["where"]], context)
    return trigger_client_event(response, "checkinRecorded", {"pilot": pilot.key}) if recorded else response
