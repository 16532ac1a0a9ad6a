"""The plain data the digests are built from, loaded in a fixed number of queries whatever the portfolio's size."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone

from portfolio import extensions, selectors
from portfolio.models import DigestDelivery, DigestKind, Flag, FlagKind, Pilot, Severity
from portfolio.selectors import PortfolioSummary

from .recipients import ACTIONABLE_STATUSES

# Critical flags first, then the order of DESIGN 5's table, wherever flags are listed.
KIND_ORDER = {kind: position for position, kind in enumerate(FlagKind.values)}


@dataclass(frozen=True)
class OpenFlag:
    kind: str
    severity: str
    detail: str
    raised_on: dt.date
    kpi_name: str = ""
    criterion: str = ""


@dataclass(frozen=True)
class FlaggedPilot:
    id: int
    key: str
    name: str
    phase: str
    status: str
    phase_entered_on: dt.date
    started_on: dt.date
    owner_id: int | None
    owner_name: str
    owner_active: bool
    sponsor_id: int | None
    sponsor_name: str
    flags: tuple[OpenFlag, ...]


@dataclass(frozen=True)
class FlagChange:
    """How many flags of a kind were raised and resolved in a window."""

    kind: str
    raised: int
    resolved: int


@dataclass(frozen=True)
class RaisedFlag:
    pilot_key: str
    pilot_name: str
    kind: str
    detail: str
    resolved: bool


@dataclass(frozen=True)
class PortfolioFacts:
    """What every executive digest of a run shares."""

    summary: PortfolioSummary
    flagged: tuple[FlaggedPilot, ...]
    # For pilots with an open stale flag: the date of their latest reading on or before D, if any.
    latest_reading_on: dict[int, dt.date | None]


@dataclass(frozen=True)
class WindowFacts:
    """What happened between one executive's previous digest and this one."""

    since: dt.datetime
    until: dt.datetime
    changes: tuple[FlagChange, ...]
    critical_raised: tuple[RaisedFlag, ...]
    decisions: tuple[extensions.GateDecision, ...]


def _name(first: str | None, last: str | None, username: str | None) -> str:
    return f"{first or ''} {last or ''}".strip() or (username or "")


def flagged_pilots() -> list[FlaggedPilot]:
    """Active and on-hold pilots with their open flags, critical first (one query)."""
    rows = (
        Flag.objects.filter(resolved_at__isnull=True, pilot__status__in=ACTIONABLE_STATUSES)
        .order_by("pilot__name", "pilot_id", "id")
        .values(
            "pilot_id",
            "pilot__key",
            "pilot__name",
            "pilot__phase",
            "pilot__status",
            "pilot__phase_entered_on",
            "pilot__started_on",
            "pilot__owner_id",
            "pilot__owner__username",
            "pilot__owner__first_name",
            "pilot__owner__last_name",
            "pilot__owner__is_active",
            "pilot__sponsor_id",
            "pilot__sponsor__username",
            "pilot__sponsor__first_name",
            "pilot__sponsor__last_name",
            "kind",
            "severity",
            "detail",
            "raised_at",
            "kpi__name",
            "kill_criterion__description",
        )
    )
    pilots: dict[int, dict] = {}
    flags: dict[int, list[OpenFlag]] = defaultdict(list)
    for row in rows:
        pilot_id = row["pilot_id"]
        if pilot_id not in pilots:
            pilots[pilot_id] = {
                "id": pilot_id,
                "key": row["pilot__key"],
                "name": row["pilot__name"],
                "phase": row["pilot__phase"],
                "status": row["pilot__status"],
                "phase_entered_on": row["pilot__phase_entered_on"],
                "started_on": row["pilot__started_on"],
                "owner_id": row["pilot__owner_id"],
                "owner_name": _name(
                    row["pilot__owner__first_name"], row["pilot__owner__last_name"], row["pilot__owner__username"]
                ),
                "owner_active": bool(row["pilot__owner__is_active"]),
                "sponsor_id": row["pilot__sponsor_id"],
                "sponsor_name": _name(
                    row["pilot__sponsor__first_name"], row["pilot__sponsor__last_name"], row["pilot__sponsor__username"]
                ),
            }
        flags[pilot_id].append(
            OpenFlag(
                kind=row["kind"],
                severity=row["severity"],
                detail=row["detail"],
                raised_on=timezone.localdate(row["raised_at"]),
                kpi_name=row["kpi__name"] or "",
                criterion=row["kill_criterion__description"] or "",
            )
        )
    return [
        FlaggedPilot(**pilot, flags=tuple(sorted(flags[pilot_id], key=_flag_order)))
        for pilot_id, pilot in pilots.items()
    ]


def _flag_order(flag: OpenFlag) -> tuple[int, int, str]:
    return (0 if flag.severity == Severity.CRITICAL else 1, KIND_ORDER.get(flag.kind, 99), flag.kpi_name)


def latest_readings_of_stale_pilots(as_of: dt.date) -> dict[int, dt.date | None]:
    """For every pilot with an open stale flag, its latest reading on or before D (one query)."""
    rows = (
        Pilot.objects.filter(flags__kind=FlagKind.STALE, flags__resolved_at__isnull=True)
        .order_by()
        .values("id")
        .annotate(latest=Max("kpis__readings__measured_on", filter=Q(kpis__readings__measured_on__lte=as_of)))
    )
    return {row["id"]: row["latest"] for row in rows}


def portfolio_facts(as_of: dt.date) -> PortfolioFacts:
    """The shared part of the executive digest (three queries)."""
    return PortfolioFacts(
        summary=selectors.phase_status_counts(),
        flagged=tuple(flagged_pilots()),
        latest_reading_on=latest_readings_of_stale_pilots(as_of),
    )


def window_facts(*, since: dt.datetime, until: dt.datetime, as_of: dt.date) -> WindowFacts:
    """Flags raised and resolved in [since, until), and the gate decisions from since's date to D."""
    raised = Q(raised_at__gte=since, raised_at__lt=until)
    resolved = Q(resolved_at__gte=since, resolved_at__lt=until)
    changes = [
        FlagChange(kind=row["kind"], raised=row["raised"], resolved=row["resolved"])
        for row in Flag.objects.filter(raised | resolved)
        .order_by()
        .values("kind")
        .annotate(raised=Count("id", filter=raised), resolved=Count("id", filter=resolved))
    ]
    changes.sort(key=lambda change: KIND_ORDER.get(change.kind, 99))
    critical = [
        RaisedFlag(
            pilot_key=row["pilot__key"],
            pilot_name=row["pilot__name"],
            kind=row["kind"],
            detail=row["detail"],
            resolved=row["resolved_at"] is not None,
        )
        for row in Flag.objects.filter(raised, severity=Severity.CRITICAL)
        .order_by("raised_at", "id")
        .values("pilot__key", "pilot__name", "kind", "detail", "resolved_at")
    ]
    # Decided on the day of the previous digest counts again rather than risk never counting.
    decisions = extensions.gate_decisions(timezone.localdate(since), as_of)
    return WindowFacts(
        since=since,
        until=until,
        changes=tuple(changes),
        critical_raised=tuple(critical),
        decisions=tuple(sorted(decisions, key=lambda d: (d.decided_on, d.pilot_name))),
    )


def previous_executive_digests(recipient_ids: Iterable[int], period: str) -> dict[int, dt.datetime]:
    """When each recipient's latest executive digest before ``period`` was sent (one query)."""
    rows = (
        DigestDelivery.objects.filter(
            kind=DigestKind.EXECUTIVE,
            recipient_id__in=list(recipient_ids),
            period__lt=period,
            sent_at__isnull=False,
        )
        .order_by()
        .values("recipient_id")
        .annotate(last=Max("sent_at"))
    )
    return {row["recipient_id"]: row["last"] for row in rows}
