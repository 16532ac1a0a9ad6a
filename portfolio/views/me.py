"""My pilots: what a person owns or sponsors and what needs them first; and where each person lands after signing in."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from portfolio import selectors
from portfolio.roles import is_executive, is_portfolio_office


@require_safe
@vary_on_headers("HX-Request")
def my_pilots(request: HttpRequest) -> HttpResponse:
    """The pilots I own or sponsor, the things that need me first, and the forms that fix them.

    htmx asks for the "needs" list alone, after a reading or check-in was recorded in place.
    """
    today = timezone.localdate()
    work = selectors.my_work(request.user, as_of=today)
    template = "portfolio/me.html#needs" if request.htmx else "portfolio/me.html"
    return render(request, template, {"work": work, "today": today})


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """After sign-in: executives and the portfolio office read the portfolio, everyone else their own pilots."""
    if is_executive(request.user) or is_portfolio_office(request.user):
        return redirect("dashboard")
    return redirect("my_pilots")
