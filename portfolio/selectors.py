"""Reads for the web pages: the pilot list, a pilot's page and the portfolio overview.

Every selector runs a fixed number of queries whatever the size of the portfolio:
related rows come through ``select_related``/``prefetch_related`` and per-row
figures (days in phase, latest reading) are computed by the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from portfolio.models import (
    PHASE_ORDER,
    BusinessUnit,
    CheckIn,
    Flag,
    FlagKind,
    KillCriterion,
    Kpi,
    KpiReading,
    Phase,
    Pilot,
    Severity,
    Status,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler


class DaysSince(Func):
    """Whole days from a date column to ``as_of``: date arithmetic is spelled differently per database."""

    output_field = IntegerField()

    def __init__(self, column: str, as_of: dt.date) -> None:
        super().__init__(Value(as_of, output_field=DateField()), F(column))

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> tuple[str, list[Any]]:
        # PostgreSQL: date - date is an integer number of days.
        return super().as_sql(
            compiler, connection, template="(CAST(%(expressions)s AS date))", arg_joiner=" AS date) - CAST(", **extra
        )

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> tuple[str, list[Any]]:
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra,
        )


# Critical flags first wherever flags are listed.
_SEVERITY_RANK = Case(When(severity=Severity.CRITICAL, then=Value(0)), default=Value(1), output_field=IntegerField())


def open_flags() -> QuerySet[Flag]:
    """Open flags, critical first, with their subject loaded."""
    return (
        Flag.objects.filter(resolved_at__isnull=True)
        .select_related("kpi", "kill_criterion")
        .annotate(severity_rank=_SEVERITY_RANK)
        .order_by("severity_rank", "kind", "id")
    )


def pilot_list(
    *,
    phase: str | None = None,
    status: str | None = None,
    unit: str | None = None,
    owner: str | None = None,
    flag: str | None = None,
    q: str | None = None,
    as_of: dt.date | None = None,
) -> QuerySet[Pilot]:
    """Pilots matching the list's filters, each with ``days_in_phase`` and ``open_flags``.

    ``unit`` is a business unit's id or name, ``owner`` a username, ``flag`` the
    kind of an open flag, ``q`` words searched in name, key and problem. Empty
    filters are ignored.
    """
    as_of = as_of or timezone.localdate()
    pilots = (
        Pilot.objects.select_related("business_unit", "owner", "sponsor")
        .annotate(days_in_phase=DaysSince("phase_entered_on", as_of))
        .prefetch_related(Prefetch("flags", queryset=open_flags(), to_attr="open_flags"))
        .order_by("name", "key")
    )
    if phase:
        pilots = pilots.filter(phase=phase)
    if status:
        pilots = pilots.filter(status=status)
    if unit:
        unit = unit.strip()
        by_unit = Q(business_unit__name__iexact=unit)
        if unit.isdigit():
            by_unit |= Q(business_unit_id=int(unit))
        pilots = pilots.filter(by_unit)
    if owner:
        pilots = pilots.filter(owner__username=owner.strip())
    if flag:
        # Exists rather than a join: a pilot with two open flags of one kind
        # (one per KPI) must still appear once.
        pilots = pilots.filter(Exists(Flag.objects.filter(pilot=OuterRef("pk"), kind=flag, resolved_at__isnull=True)))
    for word in (q or "").split():
        pilots = pilots.filter(Q(name__icontains=word) | Q(key__icontains=word) | Q(problem__icontains=word))
    return pilots


def business_units() -> QuerySet[BusinessUnit]:
    """Business units for the list's filter."""
    return BusinessUnit.objects.order_by("name")


def pilot_owners() -> QuerySet[AbstractBaseUser]:
    """People who own at least one pilot, for the list's filter."""
    return (
        get_user_model()
        .objects.filter(owned_pilots__isnull=False)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


@dataclass(frozen=True)
class StatusCount:
    """Pilots of one status in one phase (or in all)."""

    status: str
    label: str
    count: int


@dataclass(frozen=True)
class PhaseRow:
    """One row of the overview: pilots per status and in all, for a phase or (phase "") for every phase."""

    phase: str
    label: str
    cells: list[StatusCount]
    total: int


@dataclass(frozen=True)
class PortfolioSummary:
    """Pilots per phase and status, with the totals of each status."""

    rows: list[PhaseRow]
    totals: PhaseRow


def phase_status_counts() -> PortfolioSummary:
    """Pilots per phase and status, every phase and status listed even when empty (one query)."""
    tally = {
        (row["phase"], row["status"]): row["n"]
        for row in Pilot.objects.order_by().values("phase", "status").annotate(n=Count("id"))
    }

    def row(phase: str, label: str, phases: list[str]) -> PhaseRow:
        cells = [
            StatusCount(status=status, label=status_label, count=sum(tally.get((p, status), 0) for p in phases))
            for status, status_label in Status.choices
        ]
        return PhaseRow(phase=phase, label=label, cells=cells, total=sum(cell.count for cell in cells))

    labels = dict(Phase.choices)
    return PortfolioSummary(
        rows=[row(phase, labels[phase], [phase]) for phase in PHASE_ORDER],
        totals=row("", "All phases", PHASE_ORDER),
    )


@dataclass(frozen=True)
class FlagCount:
    """How many pilots have an open flag of one kind."""

    kind: str
    label: str
    severity: str
    pilots: int


def open_flag_counts() -> list[FlagCount]:
    """Pilots per kind of open flag, critical kinds first (one query)."""
    labels = dict(FlagKind.choices)
    rows = (
        Flag.objects.filter(resolved_at__isnull=True)
        .order_by()
        .values("kind", "severity")
        .annotate(pilots=Count("pilot", distinct=True), severity_rank=_SEVERITY_RANK)
        .order_by("severity_rank", "kind")
    )
    return [
        FlagCount(
            kind=row["kind"], label=labels.get(row["kind"], row["kind"]), severity=row["severity"], pilots=row["pilots"]
        )
        for row in rows
    ]


def pilot_detail(key: str, *, as_of: dt.date | None = None) -> Pilot:
    """One pilot with what its page shows; raises ``Pilot.DoesNotExist`` for an unknown key.

    Adds ``days_in_phase``, ``kpi_list`` (each KPI with ``latest_value``,
    ``latest_on`` and ``latest_source``), ``kill_criterion_list``,
    ``checkin_list`` (newest first) and ``open_flags``.
    """
    as_of = as_of or timezone.localdate()
    latest = KpiReading.objects.filter(kpi=OuterRef("pk")).order_by("-measured_on")
    kpis = Kpi.objects.annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_on=Subquery(latest.values("measured_on")[:1]),
        latest_source=Subquery(latest.values("source")[:1]),
    ).order_by("id")
    return (
        Pilot.objects.select_related("business_unit", "owner", "sponsor")
        .annotate(days_in_phase=DaysSince("phase_entered_on", as_of))
        .prefetch_related(
            Prefetch("kpis", queryset=kpis, to_attr="kpi_list"),
            Prefetch(
                "kill_criteria", queryset=KillCriterion.objects.select_related("kpi"), to_attr="kill_criterion_list"
            ),
            Prefetch(
                "checkins",
                queryset=CheckIn.objects.select_related("sponsor").order_by("-on", "-id"),
                to_attr="checkin_list",
            ),
            Prefetch("flags", queryset=open_flags(), to_attr="open_flags"),
        )
        .get(key=key)
    )


@dataclass(frozen=True)
class FieldChange:
    """One field's old and new value, ready to show (choices as labels, related rows as names)."""

    label: str
    old: object
    new: object


@dataclass
class HistoryEntry:
    """One recorded change of the pilot, one of its KPIs or one of its kill criteria."""

    at: dt.datetime
    who: AbstractBaseUser | None
    subject: str
    action: str
    reason: str = ""
    changes: list[FieldChange] = field(default_factory=list)


# Bookkeeping, not a change anyone made on purpose.
_UNSHOWN_FIELDS = {"id", "pilot", "created_at", "updated_at", "version"}
_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def pilot_history(pilot: Pilot, *, limit: int = 100) -> list[HistoryEntry]:
    """The pilot's, its KPIs' and its kill criteria's changes, newest first.

    Three queries for the records and at most three to name the people, units
    and KPIs they point at, however long the history.
    """
    groups = [
        ("Pilot", Pilot.history.filter(id=pilot.pk)),
        ("KPI", Kpi.history.filter(pilot_id=pilot.pk)),
        ("Kill criterion", KillCriterion.history.filter(pilot_id=pilot.pk)),
    ]
    pending: list[tuple[HistoryEntry, Any, list[Any]]] = []
    for kind, records in groups:
        by_object: dict[int, list[Any]] = {}
        for record in records.select_related("history_user").order_by("history_date", "history_id"):
            by_object.setdefault(record.id, []).append(record)
        for versions in by_object.values():
            previous = None
            for record in versions:
                entry = HistoryEntry(
                    at=record.history_date,
                    who=record.history_user,
                    subject=kind if kind == "Pilot" else f"{kind} “{_record_title(record)}”",
                    action=_ACTIONS.get(record.history_type, "changed"),
                    reason=record.history_change_reason or "",
                )
                changed = []
                if previous is not None and record.history_type == "~":
                    delta = record.diff_against(previous, excluded_fields=_UNSHOWN_FIELDS)
                    changed = [(change.field, change.old, change.new) for change in delta.changes]
                    if not changed and not entry.reason:
                        # A save that changed nothing we show (say, only the version).
                        previous = record
                        continue
                pending.append((entry, record, changed))
                previous = record
    pending.sort(key=lambda item: (item[0].at, item[1].history_id), reverse=True)
    pending = pending[:limit]
    names = _related_names(pending)
    for entry, record, changed in pending:
        for name, old, new in changed:
            model_field = record._meta.get_field(name)
            entry.changes.append(
                FieldChange(
                    label=_field_label(model_field),
                    old=_shown_value(model_field, old, names),
                    new=_shown_value(model_field, new, names),
                )
            )
    return [entry for entry, _, _ in pending]


def _record_title(record: Any) -> str:
    return getattr(record, "name", None) or getattr(record, "key", "")


def _field_label(model_field: Any) -> str:
    label = str(model_field.verbose_name)
    return label[:1].upper() + label[1:]


def _related_names(pending: list[tuple[HistoryEntry, Any, list[Any]]]) -> dict[tuple[type, int], str]:
    """Names of the users, business units and KPIs that changed foreign keys point at."""
    wanted: dict[type, set[int]] = {}
    for _, record, changed in pending:
        for name, old, new in changed:
            related = getattr(record._meta.get_field(name), "related_model", None)
            if related is not None:
                wanted.setdefault(related, set()).update(v for v in (old, new) if v is not None)
    names: dict[tuple[type, int], str] = {}
    for model, ids in wanted.items():
        for obj in model._default_manager.filter(pk__in=ids):
            names[(model, obj.pk)] = _display_name(obj)
    return names


def _display_name(obj: Any) -> str:
    get_full_name = getattr(obj, "get_full_name", None)
    if get_full_name is not None:
        return get_full_name() or obj.get_username()
    return str(obj)


def _shown_value(model_field: Any, value: object, names: dict[tuple[type, int], str]) -> object:
    if value is None or value == "":
        return None
    related = getattr(model_field, "related_model", None)
    if related is not None:
        return names.get((related, value), "a deleted record")
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    return value
