"""Recording KPI readings: inline in each KPI row (htmx, and plain POST without JavaScript) and by CSV upload.

The CSV preview keeps the uploaded text in a hidden field signed with
``django.core.signing`` (bound to the pilot and the user, valid for an hour) rather
than in the session: nothing is stored on the server between preview and commit, two
previews in two tabs cannot overwrite each other, and the signature means the commit
records exactly the file that was previewed. The commit parses it again against the
readings of that moment and refuses if what it would do differs from the preview.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core import signing
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from portfolio import reading_upload, selectors, services
from portfolio.forms import ReadingForm, UploadForm
from portfolio.models import Kpi, KpiReading, Pilot
from portfolio.readings import ReadingProblem
from portfolio.templatetags.portfolio_format import day, number
from portfolio.views.access import back_to, kpi_for, pilot_for

UPLOAD_SALT = "portfolio.readings-upload"
UPLOAD_MAX_AGE = 3600
PREVIEW_ROWS = 200


def _quantity(value: float, kpi: Kpi) -> str:
    return f"{number(value)} {kpi.unit}".strip()


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def kpi_reading(request: HttpRequest, key: str, kpi_key: str) -> HttpResponse:
    """Record a reading of one KPI; htmx gets the KPI's row back, a plain POST a redirect or the form page."""
    pilot, kpi = kpi_for(request, key, kpi_key)
    today = timezone.localdate()
    back = back_to(request, f"{pilot.get_absolute_url()}#kpi-{kpi.pk}")
    if request.method == "GET":
        form = ReadingForm(kpi=kpi, started_on=pilot.started_on, today=today)
        return _answer(request, pilot, kpi, form, back=back, today=today)

    form = ReadingForm(request.POST, kpi=kpi, started_on=pilot.started_on, today=today)
    existing: KpiReading | None = None
    recorded: KpiReading | None = None
    if form.is_valid():
        try:
            recorded = services.reading_record(
                kpi=kpi,
                measured_on=form.cleaned_data["measured_on"],
                value=form.cleaned_data["value"],
                note=form.cleaned_data["note"],
                recorded_by=request.user,
                replace=form.replace_confirmed,
                today=today,
            )
        except services.ReadingExists as exists:
            existing = exists.existing
        except ReadingProblem as problem:
            form.add_error("measured_on", str(problem))
    if recorded is not None:
        said = f"Recorded {_quantity(recorded.value, kpi)} for {kpi.name} on {day(recorded.measured_on)}."
        if not request.htmx:
            messages.success(request, said)
            return redirect(back if "#" in back else f"{back}#kpi-{kpi.pk}")
        form = ReadingForm(kpi=kpi, started_on=pilot.started_on, today=today)
        response = _answer(request, pilot, kpi, form, back=back, today=today, recorded=said)
        return trigger_client_event(response, "readingRecorded", {"kpi": kpi.key})
    return _answer(request, pilot, kpi, form, back=back, today=today, existing=existing)


def _answer(
    request: HttpRequest,
    pilot: Pilot,
    kpi: Kpi,
    form: ReadingForm,
    *,
    back: str,
    today: dt.date,
    existing: KpiReading | None = None,
    recorded: str = "",
) -> HttpResponse:
    context = {"pilot": pilot, "form": form, "back": back, "today": today, "existing": existing, "recorded": recorded}
    if existing is not None:
        context["old_value"] = _quantity(existing.value, kpi)
        new_value = form.cleaned_data["value"]
        context["new_value"] = _quantity(new_value, kpi)
        # The hidden field carries the date being confirmed: changing the date asks again.
        form.data = form.data.copy()
        form.data[form.add_prefix("replace")] = form.cleaned_data["measured_on"].isoformat()
    if not request.htmx:
        context["kpi"] = kpi
        return render(request, "portfolio/reading_form.html", context)
    context["kpi"] = selectors.kpi_row(pilot, kpi.key)
    # Flags as the rules see them now; the flag rows follow with the rescan after commit.
    context["live_flags"] = selectors.kpi_findings(pilot, kpi, as_of=today)
    return render(request, "portfolio/pilot/_kpis.html#kpi-row", context)


@require_http_methods(["GET", "POST"])
def readings_upload(request: HttpRequest, key: str) -> HttpResponse:
    """Upload a CSV of readings and see the preview: every row, every problem with its line number."""
    pilot = pilot_for(request, key)
    if request.method == "GET":
        return render(request, "portfolio/readings_upload.html", {"pilot": pilot, "form": UploadForm()})
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "portfolio/readings_upload.html", {"pilot": pilot, "form": form})
    upload = form.cleaned_data["file"]
    if problem := reading_upload.size_problem(upload.size):
        form.add_error("file", problem)
        return render(request, "portfolio/readings_upload.html", {"pilot": pilot, "form": form})
    try:
        text = reading_upload.decode(upload.read())
    except ReadingProblem as problem:
        form.add_error("file", str(problem))
        return render(request, "portfolio/readings_upload.html", {"pilot": pilot, "form": form})
    plan = _plan(pilot, text)
    return _preview(request, pilot, plan, text, filename=upload.name)


@require_POST
def readings_upload_commit(request: HttpRequest, key: str) -> HttpResponse:
    """Record a previewed upload, all of it or nothing."""
    pilot = pilot_for(request, key)
    try:
        payload = signing.loads(request.POST.get("payload", ""), salt=UPLOAD_SALT, max_age=UPLOAD_MAX_AGE)
        if payload["pilot"] != pilot.pk or payload["user"] != request.user.pk:
            raise signing.BadSignature("for another pilot or person")
    except (signing.BadSignature, KeyError, TypeError):
        refused = "This preview has expired (after an hour) or is not valid here. Upload the file again."
        context = {"pilot": pilot, "form": UploadForm(), "refused": refused}
        return render(request, "portfolio/readings_upload.html", context, status=400)
    plan = _plan(pilot, payload["csv"])
    if not plan.ok or plan.fingerprint() != payload["plan"]:
        changed = "Readings of this pilot changed since your preview. Check the new preview, then record again."
        return _preview(request, pilot, plan, payload["csv"], filename=payload.get("name", ""), warning=changed)
    try:
        result = services.readings_import_csv(pilot=pilot, rows=plan.rows, recorded_by=request.user)
    except (ReadingProblem, IntegrityError):
        # Someone recorded one of these readings between the check and the write.
        changed = "Someone recorded readings of this pilot at the same moment; nothing was saved. Check and try again."
        return _preview(request, pilot, _plan(pilot, payload["csv"]), payload["csv"], filename="", warning=changed)
    parts = [f"{result.created} new"]
    if result.replaced:
        parts.append(f"{result.replaced} replaced")
    if result.unchanged:
        parts.append(f"{result.unchanged} already recorded")
    messages.success(request, f"Recorded the upload: {', '.join(parts)}.")
    return redirect(f"{pilot.get_absolute_url()}#kpis")


def _plan(pilot: Pilot, text: str) -> reading_upload.UploadPlan:
    kpis = [reading_upload.KpiRef(k.pk, k.key, k.name, k.unit) for k in Kpi.objects.filter(pilot=pilot)]
    plan = reading_upload.parse_upload(text, kpis=kpis, started_on=pilot.started_on, today=timezone.localdate())
    wanted = [row for row in plan.rows if row.kpi and row.measured_on]
    if not wanted:
        return plan
    existing = {
        (kpi_id, measured_on): (value, note)
        for kpi_id, measured_on, value, note in KpiReading.objects.filter(
            kpi_id__in={row.kpi.id for row in wanted}, measured_on__in={row.measured_on for row in wanted}
        ).values_list("kpi_id", "measured_on", "value", "note")
    }
    return reading_upload.with_existing(plan, existing)


def _preview(
    request: HttpRequest,
    pilot: Pilot,
    plan: reading_upload.UploadPlan,
    text: str,
    *,
    filename: str,
    warning: str = "",
) -> HttpResponse:
    payload = ""
    if plan.ok:
        payload = signing.dumps(
            {"pilot": pilot.pk, "user": request.user.pk, "csv": text, "plan": plan.fingerprint(), "name": filename},
            salt=UPLOAD_SALT,
            compress=True,
        )
    problem_rows = [row for row in plan.rows if row.problems]
    shown = [row for row in plan.rows if not row.problems][:PREVIEW_ROWS]
    context = {
        "pilot": pilot,
        "plan": plan,
        "rows": sorted(problem_rows + shown, key=lambda row: row.line),
        "hidden_rows": len(plan.rows) - len(problem_rows) - len(shown),
        "payload": payload,
        "filename": filename,
        "warning": warning,
        "form": UploadForm(),
        "counts": {action: plan.count(action) for action in ("new", "replace", "unchanged")},
    }
    return render(request, "portfolio/readings_preview.html", context)
