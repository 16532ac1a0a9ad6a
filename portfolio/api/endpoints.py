"""The API's operations: pilots, a pilot, open flags, the dashboard's figures, and readings in.

Thin, like the views: reads go through the selectors the pages use, writes through
``portfolio.services``, and who may write is ``portfolio.roles.can_edit_pilot_data``,
the rule of the reading form.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError
from ninja.responses import Status as Answer
from pydantic import Field

from portfolio import flags as flag_selectors
from portfolio import selectors, selectors_dashboard, services
from portfolio.api import errors
from portfolio.api.auth import TokenAuth, require_scope
from portfolio.api.docs import api_index, signed_in_or_token
from portfolio.api.schemas import (
    BatchOut,
    ConflictError,
    Error,
    FlagPage,
    InvalidError,
    PilotDetailOut,
    PilotPage,
    PilotReadingBatchIn,
    ReadingBatchIn,
    SummaryOut,
)
from portfolio.api.selectors import latest_readings
from portfolio.models import Flag, FlagKind, Kpi, Phase, Pilot, Severity, Source, Status
from portfolio.roles import can_edit_pilot_data
from portfolio.templatetags.portfolio_format import person
from portfolio.tokens import WRITE_READINGS

api = NinjaAPI(
    title="Pilot Portfolio API",
    version="1",
    description=(
        "Read the portfolio and push KPI readings from the systems that measure them. "
        "Every request needs a personal token from /settings/tokens/: `Authorization: Bearer pp_…`. "
        "A token can do what its user can do on the pages, and writing readings needs the "
        "`read write:readings` scope."
    ),
    urls_namespace="api",
    auth=TokenAuth(),
    docs_decorator=signed_in_or_token,
)
errors.install(api)

READ = "read"
# The common refusals, in every operation's schema.
REFUSALS = {401: Error, 403: Error, 429: Error}
WRITE_REFUSALS = {**REFUSALS, 400: InvalidError, 404: Error, 409: ConflictError, 413: Error}


# -- reading ------------------------------------------------------------------------------------


class PilotFilters(Schema):
    phase: Phase | None = None
    status: Status | None = None
    unit: str | None = Field(None, max_length=120, description="A business unit's name or id.")
    owner: str | None = Field(None, max_length=150, description="The owner's username.")
    flag: FlagKind | None = Field(None, description="Pilots with an open flag of this kind.")
    q: str | None = Field(None, max_length=200, description="Words searched in name, key and problem.")
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(50, ge=1, le=200)


class FlagFilters(Schema):
    kind: FlagKind | None = None
    severity: Severity | None = None
    pilot: str | None = Field(None, max_length=64, description="A pilot's key.")
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(100, ge=1, le=500)


class SummaryFilters(Schema):
    unit: str | None = Field(None, max_length=120, description="A business unit's name or id.")
    sponsor: str | None = Field(None, max_length=150, description="The sponsor's username.")
    phase: Phase | None = None
    flag: FlagKind | None = None


def _person(user: Any) -> dict[str, str] | None:
    return None if user is None else {"username": user.get_username(), "name": person(user)}


def _flag(flag: Flag, pilot_key: str) -> dict[str, Any]:
    subject = flag.kpi.key if flag.kpi_id else flag.kill_criterion.key if flag.kill_criterion_id else None
    return {
        "id": flag.pk,
        "pilot": pilot_key,
        "kind": flag.kind,
        "label": flag.get_kind_display(),
        "severity": flag.severity,
        "subject": subject,
        "detail": flag.detail,
        "raised_at": flag.raised_at,
        "last_seen_at": flag.last_seen_at,
    }


def _pilot(request: HttpRequest, pilot: Pilot) -> dict[str, Any]:
    return {
        "key": pilot.key,
        "name": pilot.name,
        "url": request.build_absolute_uri(pilot.get_absolute_url()),
        "business_unit": pilot.business_unit.name,
        "phase": pilot.phase,
        "status": pilot.status,
        "owner": _person(pilot.owner),
        "sponsor": _person(pilot.sponsor),
        "started_on": pilot.started_on,
        "phase_entered_on": pilot.phase_entered_on,
        "days_in_phase": pilot.days_in_phase,
        "next_review_on": pilot.next_review_on,
        "open_flags": [flag.kind for flag in pilot.open_flags],
    }


def _page(rows: QuerySet, page: int, per_page: int) -> tuple[Sequence, dict[str, int]]:
    paginator = Paginator(rows, per_page)
    count = paginator.count
    pages = max(1, math.ceil(count / per_page))
    if page > pages:
        raise Http404(f"There are {pages} page(s).")
    return paginator.page(page).object_list, {"count": count, "page": page, "pages": pages, "per_page": per_page}


@api.get(
    "/pilots",
    response={200: PilotPage, **REFUSALS, 400: InvalidError, 404: Error},
    tags=["pilots"],
    operation_id="pilot_list",
    summary="List pilots",
)
def pilot_list(request: HttpRequest, filters: Query[PilotFilters]) -> dict[str, Any]:
    """Pilots matching the filters of /pilots/, by name, a page at a time."""
    require_scope(request, READ)
    found = selectors.pilot_list(
        phase=filters.phase,
        status=filters.status,
        unit=filters.unit,
        owner=filters.owner,
        flag=filters.flag,
        q=filters.q,
    )
    rows, page = _page(found, filters.page, filters.per_page)
    return {**page, "results": [_pilot(request, pilot) for pilot in rows]}


@api.get(
    "/pilots/{key}",
    response={200: PilotDetailOut, **REFUSALS, 400: InvalidError, 404: Error},
    tags=["pilots"],
    operation_id="pilot_detail",
    summary="A pilot",
)
def pilot_detail(
    request: HttpRequest, key: str, readings: int = Query(10, ge=0, le=100, description="Latest readings per KPI.")
) -> dict[str, Any]:
    """A pilot with its KPIs and their latest readings, its kill criteria and its open flags."""
    require_scope(request, READ)
    try:
        pilot = selectors.pilot_detail(key)
    except Pilot.DoesNotExist:
        raise Http404("No pilot has this key.") from None
    by_kpi = latest_readings([kpi.pk for kpi in pilot.kpi_list], per_kpi=readings)
    kpi_keys = {kpi.pk: kpi.key for kpi in pilot.kpi_list}
    return {
        **_pilot(request, pilot),
        "problem": pilot.problem,
        "outcome": pilot.outcome,
        "budget": None if pilot.budget is None else float(pilot.budget),
        "spent": None if pilot.spent is None else float(pilot.spent),
        "kpis": [
            {
                "key": kpi.key,
                "name": kpi.name,
                "unit": kpi.unit,
                "direction": kpi.direction,
                "baseline": kpi.baseline,
                "baseline_on": kpi.baseline_on,
                "target": kpi.target,
                "target_on": kpi.target_on,
                "latest_readings": by_kpi.get(kpi.pk, []),
            }
            for kpi in pilot.kpi_list
        ],
        "kill_criteria": [
            {
                "key": criterion.key,
                "description": criterion.description,
                "kpi": kpi_keys.get(criterion.kpi_id),
                "comparator": criterion.comparator,
                "threshold": criterion.threshold,
                "evaluate_on": criterion.evaluate_on,
            }
            for criterion in pilot.kill_criterion_list
        ],
        "flags": [_flag(flag, pilot.key) for flag in pilot.open_flags],
    }


@api.get(
    "/flags",
    response={200: FlagPage, **REFUSALS, 400: InvalidError, 404: Error},
    tags=["flags"],
    operation_id="flag_list",
    summary="Open flags",
)
def flag_list(request: HttpRequest, filters: Query[FlagFilters]) -> dict[str, Any]:
    """Open flags across the portfolio, by pilot key and kind."""
    require_scope(request, READ)
    found = flag_selectors.open_flags()
    if filters.kind:
        found = found.filter(kind=filters.kind)
    if filters.severity:
        found = found.filter(severity=filters.severity)
    if filters.pilot:
        found = found.filter(pilot__key=filters.pilot)
    rows, page = _page(found, filters.page, filters.per_page)
    return {**page, "results": [_flag(flag, flag.pilot.key) for flag in rows]}


@api.get(
    "/summary",
    response={200: SummaryOut, **REFUSALS, 400: InvalidError},
    tags=["dashboard"],
    operation_id="summary",
    summary="The dashboard's figures",
)
def summary(request: HttpRequest, filters: Query[SummaryFilters]) -> dict[str, Any]:
    """The executive dashboard's figures: the funnel, time in phase, open flags, value shown, spending."""
    require_scope(request, READ)
    board = selectors_dashboard.dashboard_data(
        selectors_dashboard.DashboardFilters(
            unit=filters.unit, sponsor=filters.sponsor, phase=filters.phase, flag=filters.flag
        )
    )
    return {
        "as_of": board.as_of,
        "pilots": board.pilot_count,
        "funnel": [
            {
                "phase": stage.phase,
                "label": stage.label,
                "entered": stage.entered,
                "went_on": stage.went_on,
                "killed": stage.killed,
                "active": stage.active,
                "on_hold": stage.on_hold,
                "conversion": stage.conversion,
            }
            for stage in board.funnel.stages
        ],
        "phase_times": [
            {
                "phase": row.phase,
                "pilots": row.pilots,
                "median_days": row.median_days,
                "longest_days": row.longest_days,
                "limit_days": row.limit_days,
                "past_limit": row.past_limit,
            }
            for row in board.phase_times
        ],
        "open_flags": board.open_flags,
        "critical_flags": board.critical_flags,
        "flagged_pilots": board.flagged_pilots,
        "flags_by_kind": [
            {"kind": tally.kind, "label": tally.label, "severity": tally.severity, "pilots": tally.pilots}
            for tally in board.flags_by_kind
        ],
        "value": {
            "reached_production": board.value.reached_production,
            "delivering": board.value.delivering,
            "shown_by_system": board.value.shown_by_system,
            "self_reported_only": board.value.self_reported_only,
        },
        "budget": float(board.spending.total.budget),
        "spent": float(board.spending.total.spent),
        "last_scan": {"finished_at": board.integrity.scan.finished_at, "overdue": board.integrity.scan.overdue},
    }


# -- writing readings ---------------------------------------------------------------------------


def _writable_pilot(request: HttpRequest, key: str, size: int) -> Pilot:
    """The pilot the token's user may record readings for, with the batch size checked."""
    require_scope(request, WRITE_READINGS)
    pilot = Pilot.objects.filter(key=key).first()
    if pilot is None:
        raise Http404("No pilot has this key.")
    if not can_edit_pilot_data(request.user, pilot):
        raise HttpError(403, "Only the pilot's owner and the portfolio office record its readings.")
    if size > settings.API_MAX_BATCH:
        raise HttpError(413, f"{size} readings in one request; send at most {settings.API_MAX_BATCH:,}.")
    return pilot


def _record(
    request: HttpRequest,
    pilot: Pilot,
    items: list[services.BatchReading],
    positions: list[int],
    replace: bool,
    unknown_kpis: list[dict[str, Any]],
) -> Answer:
    """Record ``items`` (item i was at ``positions[i]`` in the request) and answer with counts or the refusal."""
    today = timezone.localdate()
    if unknown_kpis:
        # Report every problem at once, but write nothing: the batch is all or nothing.
        problems = services.readings_batch_problems(items, today=today)
        return _invalid([*unknown_kpis, *_problem_rows(problems, positions)])
    try:
        result = services.readings_record_batch(
            items=items, recorded_by=request.user, source=Source.API, replace=replace, today=today
        )
    except services.BatchInvalid as invalid:
        return _invalid(_problem_rows(invalid.reasons, positions))
    except services.BatchConflicts as conflicted:
        conflicts = [
            {
                "index": positions[c.index],
                "kpi": c.kpi_key,
                "on": c.measured_on,
                "existing_value": c.existing_value,
                "value": c.value,
            }
            for c in conflicted.reasons
        ]
        return Answer(409, {"detail": f"{conflicted} Send replace: true to overwrite them.", "conflicts": conflicts})
    counts = {"created": result.created, "replaced": result.replaced, "unchanged": result.unchanged}
    return Answer(200, {"pilot": pilot.key, **counts})


def _problem_rows(problems: Sequence[services.ItemProblem], positions: list[int]) -> list[dict[str, Any]]:
    return [{"index": positions[p.index], "field": p.field, "message": p.message} for p in problems]


def _invalid(rows: list[dict[str, Any]]) -> Answer:
    rows = sorted(rows, key=lambda row: row["index"])
    return Answer(400, {"detail": "Some readings are invalid; nothing was recorded.", "errors": rows})


@api.post(
    "/pilots/{key}/kpis/{kpi_key}/readings",
    response={200: BatchOut, **WRITE_REFUSALS},
    tags=["readings"],
    operation_id="kpi_readings_record",
    summary="Record readings of a KPI",
)
def kpi_readings_record(request: HttpRequest, key: str, kpi_key: str, payload: ReadingBatchIn) -> Answer:
    """Record one reading or a batch for a KPI, keyed by date: all of them or, on any error, none.

    A date that already has the same value is left alone (sending a batch twice is harmless);
    a different value for it needs `replace: true` (409 otherwise, listing the dates).
    Flags are re-evaluated once the batch is committed.
    """
    pilot = _writable_pilot(request, key, len(payload.readings))
    kpi = Kpi.objects.filter(pilot=pilot, key=kpi_key).first()
    if kpi is None:
        raise Http404("This pilot has no KPI with this key.")
    kpi.pilot = pilot
    items = [services.BatchReading(kpi, item.on, item.value, item.note) for item in payload.readings]
    return _record(request, pilot, items, list(range(len(items))), payload.replace, [])


@api.post(
    "/pilots/{key}/readings",
    response={200: BatchOut, **WRITE_REFUSALS},
    tags=["readings"],
    operation_id="pilot_readings_record",
    summary="Record readings of a pilot's KPIs",
)
def pilot_readings_record(request: HttpRequest, key: str, payload: PilotReadingBatchIn) -> Answer:
    """Record readings of several of a pilot's KPIs at once, keyed by (KPI, date): all or none.

    Each reading names its KPI by key; the rules are those of the KPI operation.
    """
    pilot = _writable_pilot(request, key, len(payload.readings))
    kpis = {kpi.key: kpi for kpi in Kpi.objects.filter(pilot=pilot)}
    items, positions, unknown = [], [], []
    for index, item in enumerate(payload.readings):
        kpi = kpis.get(item.kpi)
        if kpi is None:
            known = ", ".join(sorted(kpis)) or "none"
            message = f"This pilot has no KPI with this key ({known})."
            unknown.append({"index": index, "field": "kpi", "message": message})
            continue
        kpi.pilot = pilot
        items.append(services.BatchReading(kpi, item.on, item.value, item.note))
        positions.append(index)
    return _record(request, pilot, items, positions, payload.replace, unknown)


def urls() -> tuple[list, str, str]:
    """The API's URL patterns for ``path("api/", ...)``: operations answer tokens, never the sign-in redirect."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if pattern.name == "api-root":
            # ninja's root view is a 404 page naming the docs; ours says it in JSON.
            pattern.callback = api_index
            continue
        # Operations authenticate by token and answer 401 JSON themselves; the docs and
        # the schema accept a signed-in browser or a token (signed_in_or_token).
        pattern.callback = login_not_required(errors.json_method_not_allowed(pattern.callback))
    return patterns, app_name, namespace
