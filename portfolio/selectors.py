"""Reads for the web pages: the pilot list, a pilot's page and the portfolio overview.

Every selector runs a fixed number of queries whatever the size of the portfolio:
related rows come through ``select_related``/``prefetch_related`` and per-row
figures (days in phase, latest reading) are computed by the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from portfolio import attention, extensions, health, roles
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
from portfolio.preregistration import (
    FROZEN_KILL_CRITERION_FIELDS,
    FROZEN_KPI_FIELDS,
    GOALPOST_ACTIONS,
    goalposts_frozen,
)
from portfolio.scan import load_facts

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
    kind of an open flag, ``q`` words searched in name, key, problem and the lessons of kill reviews. Empty
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
        # The lessons and rationale of kill reviews too: ?status=killed&q=… searches what was learned.
        pilots = pilots.filter(
            Q(name__icontains=word)
            | Q(key__icontains=word)
            | Q(problem__icontains=word)
            | extensions.kill_lessons_match(word)
        )
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


def kpis_with_latest_reading() -> QuerySet[Kpi]:
    """KPIs with ``latest_value``, ``latest_on``, ``latest_source`` and ``previous_value`` (for the trend)."""
    latest = KpiReading.objects.filter(kpi=OuterRef("pk")).order_by("-measured_on")
    return Kpi.objects.annotate(
        latest_value=Subquery(latest.values("value")[:1]),
        latest_on=Subquery(latest.values("measured_on")[:1]),
        latest_source=Subquery(latest.values("source")[:1]),
        previous_value=Subquery(latest.values("value")[1:2]),
    )


def pilot_detail(key: str, *, as_of: dt.date | None = None) -> Pilot:
    """One pilot with what its page shows; raises ``Pilot.DoesNotExist`` for an unknown key.

    Adds ``days_in_phase``, ``kpi_list`` (each KPI with ``latest_value``,
    ``latest_on`` and ``latest_source``), ``kill_criterion_list``,
    ``checkin_list`` (newest first) and ``open_flags``.
    """
    as_of = as_of or timezone.localdate()
    kpis = kpis_with_latest_reading().order_by("id")
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


# -- "My pilots" and the KPI rows owners record readings in -------------------------------------


@dataclass
class MyWork:
    """What "My pilots" shows: the pilots a person owns or sponsors, and what needs them first."""

    pilots: list[Pilot]
    needs: list[attention.Need]

    @property
    def live_pilots(self) -> list[Pilot]:
        return [pilot for pilot in self.pilots if pilot.status != Status.KILLED]

    @property
    def killed_pilots(self) -> list[Pilot]:
        return [pilot for pilot in self.pilots if pilot.status == Status.KILLED]

    @property
    def owned(self) -> int:
        return sum(1 for pilot in self.live_pilots if pilot.is_mine_as_owner)

    @property
    def sponsored(self) -> int:
        return sum(1 for pilot in self.live_pilots if pilot.is_mine_as_sponsor)


def my_work(user: AbstractBaseUser, *, as_of: dt.date | None = None) -> MyWork:
    """The pilots ``user`` owns or sponsors, live ones first, with what the pilot page shows and what needs them.

    Each pilot gets ``kpi_list`` (as on the pilot page), ``open_flags``,
    ``checkin_list`` (newest first), ``is_mine_as_owner``, ``is_mine_as_sponsor`` and
    ``checkin_due``.
    Five queries however many pilots.
    """
    as_of = as_of or timezone.localdate()
    pilots = list(
        Pilot.objects.filter(Q(owner=user) | Q(sponsor=user))
        .select_related("business_unit", "owner", "sponsor")
        .annotate(
            days_in_phase=DaysSince("phase_entered_on", as_of),
            killed_last=Case(When(status=Status.KILLED, then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
        .prefetch_related(
            Prefetch("kpis", queryset=kpis_with_latest_reading().order_by("id"), to_attr="kpi_list"),
            Prefetch(
                "checkins",
                queryset=CheckIn.objects.select_related("sponsor").order_by("-on", "-id"),
                to_attr="checkin_list",
            ),
            Prefetch("flags", queryset=open_flags(), to_attr="open_flags"),
        )
        .order_by("killed_last", "name", "key")
    )
    evidence = latest_evidence_of_next_gate([pilot.pk for pilot in pilots])
    facts = []
    for pilot in pilots:
        pilot.is_mine_as_owner = pilot.owner_id == user.pk
        pilot.is_mine_as_sponsor = pilot.sponsor_id == user.pk
        latest_checkin_on = max((c.on for c in pilot.checkin_list if c.on <= as_of), default=None)
        pilot.checkin_due = pilot.status == Status.ACTIVE and attention.checkin_due(latest_checkin_on, as_of)
        facts.append(
            attention.PilotFact(
                key=pilot.key,
                name=pilot.name,
                status=pilot.status,
                owned=pilot.is_mine_as_owner,
                sponsored=pilot.is_mine_as_sponsor,
                can_edit=roles.can_edit_pilot_data(user, pilot),
                in_office=roles.is_portfolio_office(user),
                sponsor_name=_display_name(pilot.sponsor) if pilot.sponsor else "",
                latest_checkin_on=latest_checkin_on,
                flags=tuple(
                    attention.FlagFact(flag.kind, flag.severity, flag.detail, flag.kpi.key if flag.kpi else None)
                    for flag in pilot.open_flags
                ),
                kpis=tuple(attention.KpiFact(kpi.pk, kpi.key, kpi.name, kpi.latest_on) for kpi in pilot.kpi_list),
                evidence=tuple(evidence.get(pilot.pk, ())),
            )
        )
    needs = attention.needs(facts, as_of, evidence_valid_days=settings.ATTESTATION_VALID_DAYS)
    return MyWork(pilots=pilots, needs=needs)


def latest_evidence_of_next_gate(pilot_ids: list[int]) -> dict[int, list[attention.EvidenceFact]]:
    """Per pilot, the latest attestation of each active criterion of its next gate (one query).

    Through the reverse relation ``attestations`` that the gates app adds to Pilot:
    the portfolio never imports gates (DESIGN 2), and without it there is no evidence.
    """
    try:
        Pilot._meta.get_field("attestations")
    except FieldDoesNotExist:
        return {}
    rows = (
        Pilot.objects.filter(
            id__in=pilot_ids,
            # A gate is named by the phase it leaves, so the next gate's criteria have gate = phase.
            attestations__criterion__gate=F("phase"),
            attestations__criterion__active=True,
        )
        .values("id", "attestations__criterion__label", "attestations__criterion__order")
        .annotate(latest=Max("attestations__attested_on"))
        .order_by("id", "attestations__criterion__order", "attestations__criterion__label")
    )
    evidence: dict[int, list[attention.EvidenceFact]] = {}
    for row in rows:
        evidence.setdefault(row["id"], []).append(
            attention.EvidenceFact(criterion=row["attestations__criterion__label"], attested_on=row["latest"])
        )
    return evidence


def kpi_row(pilot: Pilot, kpi_key: str) -> Kpi:
    """One KPI of the pilot as its row shows it (latest and previous value); raises ``Kpi.DoesNotExist``."""
    kpi = kpis_with_latest_reading().get(pilot=pilot, key=kpi_key)
    kpi.pilot = pilot
    return kpi


def kpi_findings(pilot: Pilot, kpi: Kpi, *, as_of: dt.date | None = None) -> list[health.Finding]:
    """The flags the rules give the KPI right now: about it, or about a kill criterion measured by it.

    Evaluated live from the committed data, so the row an owner just wrote to shows
    its flags at once; the flag rows themselves follow with the rescan after commit.
    """
    as_of = as_of or timezone.localdate()
    facts = load_facts(as_of=as_of, pilot_ids=[pilot.pk])
    if not facts:
        return []
    criteria = {criterion.id for criterion in facts[0].kill_criteria if criterion.kpi_id == kpi.pk}
    return [
        finding
        for finding in health.evaluate(facts[0], as_of, settings.HEALTH_THRESHOLDS)
        if finding.kpi_id == kpi.pk or finding.kill_criterion_id in criteria
    ]


# -- goalposts changed after approval (pre-registration, DESIGN 4) ---------------------------------


@dataclass
class ApprovalChanges:
    """The goalpost changes made after a pilot passed its first gate, newest first."""

    frozen: bool
    approved_at: dt.datetime | None
    changes: list[HistoryEntry] = field(default_factory=list)
    # The day of the first gate's advance when it is recorded; changes count from
    # ``approved_at``, the moment the history first shows the pilot past the gate.
    approved_on: dt.date | None = None


# The goalposts of each kind of record: what pre-registration freezes.
_GOALPOSTS = (
    ("KPI", Kpi, FROZEN_KPI_FIELDS),
    ("Kill criterion", KillCriterion, FROZEN_KILL_CRITERION_FIELDS),
)


def _approval_times(pilot_ids: list[int] | None) -> dict[int, dt.datetime]:
    """When each pilot left proof of concept: its first history record in a later phase (one query)."""
    records = Pilot.history.exclude(phase=Phase.POC)
    if pilot_ids is not None:
        records = records.filter(id__in=pilot_ids)
    return dict(records.order_by().values("id").annotate(at=Min("history_date")).values_list("id", "at"))


def _goalpost_changes(pilot_ids: list[int] | None) -> dict[int, list[tuple[str, Any, list[tuple[str, Any, Any]]]]]:
    """Per pilot, each goalpost added, changed or deleted after approval: (kind, record, [(field, old, new)]).

    Three queries whatever the number of pilots: the approval times, then, for KPIs
    and kill criteria, every history record of the objects added, changed or deleted
    since (the earlier records are needed to tell what changed). A goalpost recorded at
    the very moment of approval (an import that brings a pilot and its KPIs at once) was
    there when the pilot was approved: only records strictly later count.
    """
    approved = _approval_times(pilot_ids)
    found: dict[int, list[tuple[str, Any, list[tuple[str, Any, Any]]]]] = {}
    # Later than some record of the pilot past proof of concept is later than the first:
    # as EXISTS, PostgreSQL hash-joins it rather than looking the first one up per record
    # (every goalpost ever created is a candidate, 4 times faster on the benchmark).
    after_approval = Exists(
        Pilot.history.filter(id=OuterRef("pilot_id"), history_date__lt=OuterRef("history_date")).exclude(
            phase=Phase.POC
        )
    )
    for kind, model, frozen_fields in _GOALPOSTS:
        touched = model.history.filter(history_type__in=list(GOALPOST_ACTIONS))
        if pilot_ids is not None:
            touched = touched.filter(pilot_id__in=pilot_ids)
        touched = touched.filter(after_approval).order_by().values("id")
        by_object: dict[int, list[Any]] = {}
        for record in (
            model.history.filter(id__in=Subquery(touched))
            .select_related("history_user")
            .order_by("history_date", "history_id")
        ):
            by_object.setdefault(record.id, []).append(record)
        for versions in by_object.values():
            previous = None
            for record in versions:
                since = approved.get(record.pilot_id)
                if since is not None and record.history_date > since and record.history_type in GOALPOST_ACTIONS:
                    changed: list[tuple[str, Any, Any]] = []
                    if record.history_type == "~" and previous is not None:
                        changed = [
                            (name, getattr(previous, _attname(record, name)), getattr(record, _attname(record, name)))
                            for name in frozen_fields
                            if getattr(previous, _attname(record, name)) != getattr(record, _attname(record, name))
                        ]
                    elif record.history_type == "+":
                        # What the new goalpost set, from nothing.
                        changed = [
                            (name, None, getattr(record, _attname(record, name)))
                            for name in frozen_fields
                            if getattr(record, _attname(record, name)) not in (None, "")
                        ]
                    if record.history_type != "~" or changed:
                        found.setdefault(record.pilot_id, []).append((kind, record, changed))
                previous = record
    return found


def _attname(record: Any, name: str) -> str:
    """A foreign key is compared by its id, without loading the row it points at."""
    return record._meta.get_field(name).attname


def changed_after_approval(pilot: Pilot) -> ApprovalChanges:
    """Every goalpost added, changed or deleted after the pilot's first gate, newest first.

    What "Changed after approval" lists on the pilot page: who, when, old → new and
    the reason given (the history record's change reason). At most six queries.
    """
    frozen = goalposts_frozen(pilot.phase)
    approved_at = _approval_times([pilot.pk]).get(pilot.pk) if frozen else None
    if approved_at is None:
        return ApprovalChanges(frozen=frozen, approved_at=None)
    pending = []
    for kind, record, changed in _goalpost_changes([pilot.pk]).get(pilot.pk, []):
        entry = HistoryEntry(
            at=record.history_date,
            who=record.history_user,
            subject=f"{kind} “{_record_title(record)}”",
            action=GOALPOST_ACTIONS[record.history_type],
            reason=record.history_change_reason or "",
        )
        pending.append((entry, record, changed))
    pending.sort(key=lambda item: (item[0].at, item[1].history_id), reverse=True)
    names = _related_names(pending)
    for entry, record, changed_ids in pending:
        for name, old, new in changed_ids:
            model_field = record._meta.get_field(name)
            entry.changes.append(
                FieldChange(
                    label="KPI" if name == "kpi" else _field_label(model_field),
                    old=_shown_value(model_field, old, names),
                    new=_shown_value(model_field, new, names),
                )
            )
    # Through the reverse relation: portfolio never imports gates.
    approved_on = (
        pilot.gate_reviews.filter(from_phase=Phase.POC, decision="advance")
        .order_by("decided_on")
        .values_list("decided_on", flat=True)
        .first()
    )
    return ApprovalChanges(
        frozen=True,
        approved_at=approved_at,
        changes=[entry for entry, _, _ in pending],
        approved_on=approved_on or timezone.localtime(approved_at).date(),
    )


def changed_after_approval_counts(pilot_ids: list[int] | None = None) -> dict[int, int]:
    """How many goalpost changes each pilot had after approval (pilots with none left out); three queries."""
    return {pilot_id: len(changes) for pilot_id, changes in _goalpost_changes(pilot_ids).items()}


def active_people(query: str, *, limit: int = 50) -> list[tuple[str, str]]:
    """(username, name) of active people whose name or username contains every word of ``query``."""
    people = get_user_model().objects.filter(is_active=True)
    for word in query.split():
        named = Q(username__icontains=word) | Q(first_name__icontains=word) | Q(last_name__icontains=word)
        people = people.filter(named)
    return [
        (user.get_username(), user.get_full_name() or user.get_username())
        for user in people.order_by("first_name", "last_name", "username")[:limit]
    ]
