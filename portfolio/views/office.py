"""The portfolio office's pages: new pilots (with lessons of similar killed ones), business units, the people picker."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers

from portfolio import extensions, selectors, services
from portfolio.forms import BusinessUnitForm, PilotCreateForm
from portfolio.models import BusinessUnit
from portfolio.views.access import office_only
from portfolio.views.edits import _add_errors

SIMILAR_LESSONS_TEMPLATE = "gates/_similar_lessons.html"


def _similar_lessons_template() -> str | None:
    # The gates app provides the listing; until it does, the page shows its own.
    try:
        get_template(SIMILAR_LESSONS_TEMPLATE)
    except TemplateDoesNotExist:
        return None
    return SIMILAR_LESSONS_TEMPLATE


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def pilot_create(request: HttpRequest) -> HttpResponse:
    """A new pilot; as the problem is typed, killed pilots with a similar problem are shown with their lessons."""
    office_only(request)
    problem = (request.POST.get("problem") or request.GET.get("problem") or "").strip()
    template = _similar_lessons_template()
    context = {
        "problem": problem,
        # The gates template finds the lessons itself; the fallback listing needs them handed over.
        "similar_lessons": extensions.similar_killed_pilots(problem, 5) if problem and not template else [],
        "similar_lessons_template": template,
    }
    if request.method == "GET" and request.htmx:
        return render(request, "portfolio/edit/pilot_create.html#similar-lessons", context)
    form = PilotCreateForm(request.POST or None, initial={"started_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            pilot = services.pilot_create(**form.changes(), created_by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Pilot “{pilot.name}” created. Next: its KPIs and kill criteria.")
            return redirect(pilot)
    context.update(form=form, people=selectors.active_people(""))
    return render(request, "portfolio/edit/pilot_create.html", context)


@require_http_methods(["GET", "POST"])
def business_units(request: HttpRequest) -> HttpResponse:
    """Business units with their pilots, and a form to add one."""
    office_only(request)
    form = BusinessUnitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.business_unit_create(name=form.cleaned_data["name"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Business unit “{unit.name}” added.")
            return redirect("business_units")
    units = BusinessUnit.objects.annotate(pilot_count=Count("pilots")).order_by("name")
    return render(request, "portfolio/edit/business_units.html", {"form": form, "units": units})


@require_http_methods(["GET", "POST"])
def business_unit_edit(request: HttpRequest, unit_id: int) -> HttpResponse:
    """Rename a business unit; a rename by someone else in between is refused and shown."""
    office_only(request)
    unit = get_object_or_404(BusinessUnit, pk=unit_id)
    conflict = []
    if request.method == "GET":
        form = BusinessUnitForm(initial={"name": unit.name, "original_name": unit.name})
    else:
        form = BusinessUnitForm(request.POST)
        if form.is_valid():
            try:
                services.business_unit_rename(
                    unit=unit, expected_name=form.cleaned_data["original_name"], name=form.cleaned_data["name"]
                )
            except services.StaleEdit as stale:
                conflict = [{"label": "Name", "yours": form.cleaned_data["name"], "saved": stale.current.name}]
                data = request.POST.copy()
                data["original_name"] = stale.current.name
                form = BusinessUnitForm(data)
                form.is_valid()
                form.add_error(
                    None,
                    "Someone renamed this business unit after you opened the form. Your typing is kept; "
                    "save again to use your name.",
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, "Business unit renamed.")
                return redirect("business_units")
    return render(request, "portfolio/edit/business_unit.html", {"form": form, "unit": unit, "conflict": conflict})


@require_safe
def people(request: HttpRequest) -> HttpResponse:
    """The people picker's options for what was typed (htmx swaps the datalist)."""
    office_only(request)
    query = (request.GET.get("q") or "").strip()
    for name in ("owner", "sponsor"):
        query = query or (request.GET.get(name) or "").strip()
    return render(request, "portfolio/edit/_people.html", {"people": selectors.active_people(query)})
