"""The executive dashboard at /, its charts, and the CSV export of a filtered pilot list."""

from __future__ import annotations

import csv

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import push_url

from portfolio import charts, selectors, selectors_dashboard
from portfolio.models import FlagKind, Kpi, Phase, Pilot, Status
from portfolio.pilot_csv import pilot_csv_rows
from portfolio.selectors_dashboard import DashboardFilters


class DashboardFilterForm(forms.Form):
    """The dashboard's filters, read from the query string so a filtered view can be bookmarked."""

    unit = forms.CharField(label="Business unit", required=False, max_length=200, widget=forms.Select)
    sponsor = forms.CharField(required=False, max_length=150, widget=forms.Select)
    phase = forms.ChoiceField(choices=[("", "All phases"), *Phase.choices], required=False)
    flag = forms.ChoiceField(label="Open flag", choices=[("", "Any or none"), *FlagKind.choices], required=False)

    def filters(self) -> DashboardFilters:
        """The valid filters; a bad value is reported on the form and otherwise ignored."""
        self.is_valid()
        return DashboardFilters(**{name: self.cleaned_data.get(name) or None for name in self.fields})

    def offer(self, *, units: list[str], sponsors: list[tuple[str, str]]) -> None:
        """The choices of the unit and sponsor selects (they come with the cached dashboard)."""
        self.fields["unit"].widget.choices = [("", "All units"), *((name, name) for name in units)]
        self.fields["sponsor"].widget.choices = [("", "Any sponsor"), *sponsors]


def _filters(request: HttpRequest) -> DashboardFilters:
    return DashboardFilterForm(request.GET).filters()


@require_safe
@vary_on_headers("HX-Request")
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Where the portfolio stands, how long pilots wait, what blocks them and what value is proven."""
    form = DashboardFilterForm(request.GET)
    filters = form.filters()
    data = selectors_dashboard.dashboard_data(filters)
    form.offer(units=data.unit_choices, sponsors=data.sponsor_choices)
    query = filters.as_query()
    # Counts link to the pilot list with the filters it knows (unit and flag; it has no sponsor filter).
    context = {
        "form": form,
        "data": data,
        "query": query,
        "list_query": DashboardFilters(unit=filters.unit, flag=filters.flag).as_query(),
        "list_query_no_flag": DashboardFilters(unit=filters.unit).as_query(),
        "most_blockers": max((t.pilots for t in data.common_blockers), default=0),
        "charts": charts.dashboard_charts(data.funnel, data.phase_times, data.flag_weeks, query=query),
    }
    if not request.htmx:
        return render(request, "portfolio/dashboard.html", context)
    response = render(request, "portfolio/dashboard.html#dashboard-body", context)
    # The address bar gets the filters in use, so the view can be bookmarked and shared.
    return push_url(response, f"{request.path}?{query}" if query else request.path)


def _svg(request: HttpRequest, chart: charts.Chart) -> HttpResponse:
    etag = f'"{chart.digest}"'
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(chart.svg, content_type="image/svg+xml")
        # Opened on its own an SVG is a document: nothing in it may run or load anything.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["ETag"] = etag
    # Revalidated on every view: the ETag is the data, so an unchanged chart costs a 304.
    response["Cache-Control"] = "private, no-cache"
    return response


DASHBOARD_CHARTS = ("funnel", "time-in-phase", "flags")


@require_safe
def dashboard_chart(request: HttpRequest, chart: str) -> HttpResponse:
    """One of the dashboard's charts on its own, for the same filters as the page (to download or share)."""
    if chart not in DASHBOARD_CHARTS:
        raise Http404("No such chart.")
    data = selectors_dashboard.dashboard_data(_filters(request))
    if chart == "funnel":
        return _svg(request, charts.funnel_chart(data.funnel))
    if chart == "time-in-phase":
        return _svg(request, charts.time_in_phase_chart(data.phase_times))
    return _svg(request, charts.flags_chart(data.flag_weeks))


@require_safe
def kpi_chart(request: HttpRequest, key: str, kpi_key: str) -> HttpResponse:
    """A KPI's readings with its baseline, target and kill thresholds (every signed-in user reads all pilots)."""
    try:
        series = selectors_dashboard.kpi_series(key, kpi_key)
    except Kpi.DoesNotExist:
        raise Http404("No such KPI on this pilot.") from None
    return _svg(request, charts.kpi_chart(series))


class ExportFilterForm(forms.Form):
    """The filters of the pilot list and of the dashboard, for the CSV export."""

    q = forms.CharField(required=False, max_length=200)
    phase = forms.ChoiceField(choices=[("", ""), *Phase.choices], required=False)
    status = forms.ChoiceField(choices=[("", ""), *Status.choices], required=False)
    unit = forms.CharField(required=False, max_length=200)
    owner = forms.CharField(required=False, max_length=150)
    sponsor = forms.CharField(required=False, max_length=150)
    flag = forms.ChoiceField(choices=[("", ""), *FlagKind.choices], required=False)


@require_safe
def pilot_export(request: HttpRequest) -> HttpResponse:
    """The pilots the filters select as CSV, one row each, ready for a spreadsheet."""
    form = ExportFilterForm(request.GET)
    form.is_valid()
    chosen = {name: form.cleaned_data.get(name) or None for name in form.fields}
    sponsor = chosen.pop("sponsor")
    # The pilot list's own filters, so the export holds exactly the rows the list shows.
    pilots = Pilot.objects.filter(pk__in=selectors.pilot_list(**chosen).values("pk"))
    if sponsor:
        pilots = pilots.filter(sponsor__username=sponsor.strip())
    as_of = timezone.localdate()
    rows = selectors_dashboard.export_rows(pilots, as_of=as_of)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="pilots-{as_of.isoformat()}.csv"'
    # A byte-order mark, so spreadsheet programs read the names as UTF-8.
    response.write("\ufeff")
    csv.writer(response).writerows(pilot_csv_rows(rows))
    return response
