"""Editing a pilot's description, KPIs and kill criteria: optimistic-locked, and respecting the goalpost freeze.

A stale edit (someone saved since the form was read) is refused: the page says so,
shows the saved version beside what the user typed, and keeps the typing. Saving
again then replaces the saved version deliberately.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portfolio import selectors, services
from portfolio.forms import KillCriterionForm, KpiForm, PilotDescriptionForm, PilotOfficeForm, VersionedForm
from portfolio.models import Pilot
from portfolio.preregistration import ReasonRequired, goalposts_frozen
from portfolio.roles import is_portfolio_office
from portfolio.templatetags.portfolio_format import person, shown
from portfolio.views.access import kill_criterion_for, kpi_for, pilot_for

Created = TypeVar("Created")

STALE_MESSAGE = (
    "Someone else saved this {thing} after you opened the form, so your changes are not saved yet. "
    "Compare the two versions below; your typing is kept. Save again to replace the saved version with yours."
)


@dataclass(frozen=True)
class ConflictRow:
    """One field that differs between what the user typed and what is saved now."""

    label: str
    yours: str
    saved: str


def _display(value: Any) -> str:
    if isinstance(value, models.Model) and hasattr(value, "get_full_name"):
        return person(value)
    if isinstance(value, models.Model):
        return str(value)
    return shown(value)


def _conflict_rows(form: forms.Form, current: models.Model) -> list[ConflictRow]:
    rows = []
    for name, value in form.cleaned_data.items():
        if name in VersionedForm.bookkeeping:
            continue
        saved = getattr(current, name)
        field = form.fields[name]
        if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            labels = dict(field.choices)
            value, saved = labels.get(value, value), labels.get(saved, saved)
        if _display(value) != _display(saved):
            rows.append(ConflictRow(label=str(field.label), yours=_display(value), saved=_display(saved)))
    return rows


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (on the form for fields it does not show)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _save_edit(
    request: HttpRequest,
    form: VersionedForm,
    rebuild: Callable[[dict[str, Any]], VersionedForm],
    save: Callable[[VersionedForm], object],
    thing: str,
) -> tuple[VersionedForm, list[ConflictRow], bool]:
    """Validate and save; (form to show, conflict rows, saved?)."""
    if not form.is_valid():
        return form, [], False
    try:
        save(form)
    except services.StaleEdit as stale:
        rows = _conflict_rows(form, stale.current)
        data = request.POST.copy()
        data["version"] = str(stale.current.version)
        fresh = rebuild(data)
        fresh.is_valid()
        fresh.add_error(None, STALE_MESSAGE.format(thing=thing))
        return fresh, rows, False
    except ReasonRequired as problem:
        form.add_error("reason" if "reason" in form.fields else None, str(problem))
        return form, [], False
    except ValidationError as error:
        _add_errors(form, error)
        return form, [], False
    return form, [], True


def _edit_goalpost(
    request: HttpRequest,
    build: Callable[..., VersionedForm],
    update: Callable[..., object],
    thing: str,
) -> tuple[VersionedForm, list[ConflictRow], bool]:
    """A KPI's or kill criterion's edit: the saved values on GET, saved with its reason on POST.

    ``build(data=None)`` makes the form; ``update`` is the service, given the
    version read, the changes, who made them and the reason (needed once frozen).
    """
    if request.method == "GET":
        return build(), [], False
    return _save_edit(
        request,
        build(request.POST),
        build,
        lambda f: update(
            version=f.cleaned_data["version"],
            changes=f.changes(),
            updated_by=request.user,
            reason=f.cleaned_data.get("reason", ""),
        ),
        thing,
    )


def _create_goalpost(request: HttpRequest, form: forms.Form, create: Callable[..., Created]) -> Created | None:
    """A new KPI or kill criterion from a posted form, with its reason; None (the errors on the form) otherwise."""
    if request.method != "POST" or not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        return create(
            **{k: v for k, v in data.items() if k != "reason"}, created_by=request.user, reason=data.get("reason", "")
        )
    except ReasonRequired as problem:
        form.add_error("reason", str(problem))
    except ValidationError as error:
        _add_errors(form, error)
    return None


def _page(
    request: HttpRequest, pilot: Pilot, form: forms.Form, conflict: list[ConflictRow], **extra: Any
) -> HttpResponse:
    context = {"pilot": pilot, "form": form, "conflict": conflict, "cancel": pilot.get_absolute_url(), **extra}
    return render(request, "portfolio/edit/form.html", context)


@require_http_methods(["GET", "POST"])
def pilot_edit(request: HttpRequest, key: str) -> HttpResponse:
    """The owner edits the description; the portfolio office also names, people, review date and money."""
    pilot = pilot_for(request, key)
    form_class = PilotOfficeForm if is_portfolio_office(request.user) else PilotDescriptionForm
    if request.method == "GET":
        initial = {name: getattr(pilot, name) for name in form_class.base_fields if hasattr(pilot, name)}
        form, conflict = form_class(initial=initial), []
    else:
        form, conflict, saved = _save_edit(
            request,
            form_class(request.POST),
            form_class,
            lambda f: services.pilot_update(
                pilot=pilot, version=f.cleaned_data["version"], changes=f.changes(), updated_by=request.user
            ),
            "pilot",
        )
        if saved:
            messages.success(request, "Pilot saved.")
            return redirect(pilot)
    if form_class is PilotOfficeForm:
        people = selectors.active_people("")
        return _page(request, pilot, form, conflict, title="Edit pilot", submit="Save pilot", people=people)
    return _page(request, pilot, form, conflict, title="Edit the description", submit="Save description")


def _kpi_initial(kpi: Any) -> dict[str, Any]:
    names = ("name", "unit", "direction", "baseline", "baseline_on", "target", "target_on", "version")
    return {name: getattr(kpi, name) for name in names}


@require_http_methods(["GET", "POST"])
def kpi_create(request: HttpRequest, key: str) -> HttpResponse:
    """A new KPI for the pilot; after the first gate it needs a reason."""
    pilot = pilot_for(request, key)
    frozen = goalposts_frozen(pilot.phase)
    form = KpiForm(request.POST or None, frozen=frozen, creating=True, initial={"direction": "increase"})
    kpi = _create_goalpost(request, form, partial(services.kpi_create, pilot=pilot))
    if kpi is not None:
        messages.success(request, f"KPI “{kpi.name}” added.")
        return redirect(f"{pilot.get_absolute_url()}#kpi-{kpi.pk}")
    return _page(request, pilot, form, [], title="Add a KPI", submit="Add KPI", frozen=frozen)


@require_http_methods(["GET", "POST"])
def kpi_edit(request: HttpRequest, key: str, kpi_key: str) -> HttpResponse:
    """Edit a KPI: name and unit freely; baseline, target and direction need a reason once frozen."""
    pilot, kpi = kpi_for(request, key, kpi_key)
    frozen = goalposts_frozen(pilot.phase)

    def build(data: Any = None) -> KpiForm:
        return KpiForm(data, frozen=frozen, creating=False, initial=_kpi_initial(kpi))

    form, conflict, saved = _edit_goalpost(request, build, partial(services.kpi_update, kpi=kpi), "KPI")
    if saved:
        messages.success(request, f"KPI “{form.cleaned_data['name']}” saved.")
        return redirect(f"{pilot.get_absolute_url()}#kpi-{kpi.pk}")
    return _page(request, pilot, form, conflict, title=f"Edit KPI “{kpi.name}”", submit="Save KPI", frozen=frozen)


def _criterion_initial(criterion: Any) -> dict[str, Any]:
    names = ("description", "comparator", "threshold", "evaluate_on", "version")
    return {"kpi": criterion.kpi_id, **{name: getattr(criterion, name) for name in names}}


@require_http_methods(["GET", "POST"])
def kill_criterion_create(request: HttpRequest, key: str) -> HttpResponse:
    """A new kill criterion; after the first gate it needs a reason."""
    pilot = pilot_for(request, key)
    frozen = goalposts_frozen(pilot.phase)
    form = KillCriterionForm(request.POST or None, pilot=pilot, frozen=frozen, creating=True)
    if _create_goalpost(request, form, partial(services.kill_criterion_create, pilot=pilot)) is not None:
        messages.success(request, "Kill criterion added.")
        return redirect(f"{pilot.get_absolute_url()}#kill-criteria")
    return _page(request, pilot, form, [], title="Add a kill criterion", submit="Add kill criterion", frozen=frozen)


@require_http_methods(["GET", "POST"])
def kill_criterion_edit(request: HttpRequest, key: str, criterion_key: str) -> HttpResponse:
    """Edit a kill criterion; once frozen every change needs a reason."""
    pilot, criterion = kill_criterion_for(request, key, criterion_key)
    frozen = goalposts_frozen(pilot.phase)

    def build(data: Any = None) -> KillCriterionForm:
        initial = _criterion_initial(criterion)
        return KillCriterionForm(data, pilot=pilot, frozen=frozen, creating=False, initial=initial)

    form, conflict, saved = _edit_goalpost(
        request, build, partial(services.kill_criterion_update, criterion=criterion), "kill criterion"
    )
    if saved:
        messages.success(request, "Kill criterion saved.")
        return redirect(f"{pilot.get_absolute_url()}#kill-criteria")
    title = f"Edit kill criterion “{criterion.key}”"
    return _page(request, pilot, form, conflict, title=title, submit="Save kill criterion", frozen=frozen)
