"""Pages of the portfolio: the pilot list and a pilot's page (all read-only); the dashboard is in dashboard.py."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from portfolio import charts, selectors, selectors_dashboard
from portfolio.models import FlagKind, Phase, Pilot, Status
from portfolio.templatetags.portfolio_format import person

PILOTS_PER_PAGE = 50
FILTERS = ("phase", "status", "unit", "owner", "flag", "q")


class PilotFilterForm(forms.Form):
    """The pilot list's filters, read from the query string (DESIGN section 8)."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, key, problem or lessons"}),
    )
    phase = forms.ChoiceField(choices=[("", "Any phase"), *Phase.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    # Plain text behind a select: the query string may name a unit by id or by name.
    unit = forms.CharField(label="Business unit", required=False, widget=forms.Select)
    owner = forms.CharField(required=False, widget=forms.Select)
    flag = forms.ChoiceField(label="Open flag", choices=[("", "Any or none"), *FlagKind.choices], required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [("", "All units")] + [
            (unit.name, unit.name) for unit in selectors.business_units()
        ]
        self.fields["owner"].widget.choices = [("", "Anyone")] + [
            (user.get_username(), person(user)) for user in selectors.pilot_owners()
        ]

    def filters(self) -> dict[str, str | None]:
        """The valid filters; a bad value is reported on the form and otherwise ignored."""
        self.is_valid()
        return {name: self.cleaned_data.get(name) or None for name in FILTERS}


@require_safe
@vary_on_headers("HX-Request")
def pilot_list(request: HttpRequest) -> HttpResponse:
    """All pilots, filtered by the query string; htmx asks for the results only."""
    form = PilotFilterForm(request.GET)
    filters = form.filters()
    page = Paginator(selectors.pilot_list(**filters), PILOTS_PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode({name: value for name, value in filters.items() if value})
    context = {
        "form": form,
        "page": page,
        "pilots": page.object_list,
        "filtered": any(filters.values()),
        "query": query,
    }
    if not request.htmx:
        return render(request, "portfolio/pilot_list.html", context)
    response = render(request, "portfolio/pilot_list.html#results", context)
    # The address bar gets the filters in use, not every empty field of the form.
    return push_url(response, f"{request.path}?{query}" if query else request.path)


@require_safe
def pilot_detail(request: HttpRequest, key: str) -> HttpResponse:
    """A pilot's page: summary, KPIs, kill criteria, check-ins, open flags and change history."""
    try:
        pilot = selectors.pilot_detail(key)
    except Pilot.DoesNotExist:
        raise Http404("No pilot has this key.") from None
    context = {
        "pilot": pilot,
        "history": selectors.pilot_history(pilot),
        "approval_changes": selectors.changed_after_approval(pilot),
        "today": timezone.localdate(),
        "kpi_charts": charts.kpi_charts(selectors_dashboard.kpi_series_of_pilot(pilot)),
    }
    return render(request, "portfolio/pilot_detail.html", context)
