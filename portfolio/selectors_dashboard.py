"""Reads for the executive dashboard, its charts and its CSV export, in a fixed number of queries.

Each query loads plain rows for the pilots the filters select; ``portfolio.dashboard`` turns
them into figures. Nothing here runs a query per pilot, so the page costs the same number of
queries for ten pilots as for two thousand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, JSONField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import JSONObject
from django.utils import timezone
from simple_history.models import registered_models

from portfolio import dashboard, extensions, freshness, monitoring, selectors
from portfolio.dashboard import KpiLatest, OpenFlag, PilotFacts, WeekFlags
from portfolio.models import PHASE_ORDER, Flag, KillCriterion, Kpi, KpiReading, Phase, Pilot, Severity, Status

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

# Bumped when the cached Dashboard's shape changes, so a deploy never reads an old one.
CACHE_VERSION = 5
# Each view keeps its latest board; the timeout only bounds how long unused entries linger.
CACHE_SECONDS = 24 * 3600
# Whoever holds a view's lock brings its board up to date; it expires should they die.
REFRESH_LOCK_SECONDS = 30
# With no board to show while another request computes it, wait this long for it (polling).
WAIT_FOR_BOARD_SECONDS = 15
WAIT_POLL_SECONDS = 0.1
# The page's lists show the first rows only; the CSV export has every pilot.
ROWS_SHOWN = 15
BLOCKED_SHOWN = 10
AGEING_SHOWN = 10
LINKS_SHOWN = 6


@dataclass(frozen=True)
class DashboardFilters:
    """The dashboard's filters: a business unit (name or id), a sponsor (username), a phase, a kind of open flag."""

    unit: str | None = None
    sponsor: str | None = None
    phase: str | None = None
    flag: str | None = None

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def as_query(self) -> str:
        """The filters in use as a query string, in a stable order ("" when none)."""
        return urlencode([(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name)])


def filtered_pilots(filters: DashboardFilters) -> QuerySet[Pilot]:
    """Pilots the filters select (every pilot, whatever its status, when none is set)."""
    pilots = Pilot.objects.all()
    if filters.unit:
        unit = filters.unit.strip()
        by_unit = Q(business_unit__name__iexact=unit)
        if unit.isdigit():
            by_unit |= Q(business_unit_id=int(unit))
        pilots = pilots.filter(by_unit)
    if filters.sponsor:
        pilots = pilots.filter(sponsor__username=filters.sponsor.strip())
    if filters.phase:
        pilots = pilots.filter(phase=filters.phase)
    if filters.flag:
        # Exists rather than a join: a pilot with two open flags of one kind must count once.
        pilots = pilots.filter(
            Exists(Flag.objects.filter(pilot=OuterRef("pk"), kind=filters.flag, resolved_at__isnull=True))
        )
    return pilots


def _name(first: str | None, last: str | None, username: str | None) -> str:
    return f"{first or ''} {last or ''}".strip() or (username or "")


def pilot_facts(pilots: QuerySet[Pilot], *, as_of: dt.date) -> list[PilotFacts]:
    """The selected pilots by name, with days in phase counted to ``as_of`` (one query)."""
    rows = pilots.order_by("name", "key").values_list(
        "id",
        "key",
        "name",
        "business_unit__name",
        "phase",
        "status",
        "phase_entered_on",
        "budget",
        "spent",
        "owner__first_name",
        "owner__last_name",
        "owner__username",
        "sponsor__first_name",
        "sponsor__last_name",
        "sponsor__username",
    )
    return [
        PilotFacts(
            id=pk,
            key=key,
            name=name,
            business_unit=unit,
            phase=phase,
            status=status,
            phase_entered_on=entered,
            days_in_phase=max((as_of - entered).days, 0),
            owner=_name(of, ol, ou),
            sponsor=_name(sf, sl, su),
            budget=budget,
            spent=spent,
        )
        for (pk, key, name, unit, phase, status, entered, budget, spent, of, ol, ou, sf, sl, su) in rows
    ]


def open_flags(pilots: QuerySet[Pilot]) -> list[OpenFlag]:
    """The open flags of the selected pilots (one query)."""
    rows = (
        Flag.objects.filter(resolved_at__isnull=True, pilot__in=pilots.values("id"))
        .order_by("pilot_id", "kind", "id")
        .values_list("pilot_id", "kind", "severity", "detail")
    )
    return [OpenFlag(pilot_id=p, kind=kind, severity=severity, detail=detail) for p, kind, severity, detail in rows]


def latest_kpi_readings(pilots: QuerySet[Pilot], *, as_of: dt.date) -> list[KpiLatest]:
    """Every KPI of the selected pilots with its latest reading on or before ``as_of`` (one query).

    Each latest reading is one probe of the (kpi, measured_on) index, which brings back its
    value, date and source together as one JSON object; so the cost follows the number of
    KPIs asked about, not the number of readings behind them.
    """
    latest = (
        KpiReading.objects.filter(kpi=OuterRef("pk"), measured_on__lte=as_of)
        .order_by("-measured_on")
        .values(reading=JSONObject(value="value", on="measured_on", source="source"))[:1]
    )
    rows = (
        Kpi.objects.filter(pilot__in=pilots.values("id"))
        .annotate(latest=Subquery(latest, output_field=JSONField()))
        .order_by("pilot_id", "id")
        .values_list("pilot_id", "name", "unit", "direction", "baseline", "target", "latest")
    )
    return [
        KpiLatest(
            pilot_id=pilot_id,
            name=name,
            unit=unit,
            direction=direction,
            baseline=baseline,
            target=target,
            latest_value=float(reading["value"]) if reading else None,
            latest_on=dt.date.fromisoformat(reading["on"]) if reading else None,
            latest_source=reading["source"] if reading else "",
        )
        for pilot_id, name, unit, direction, baseline, target, reading in rows
    ]


def _end_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def flags_by_week(pilots: QuerySet[Pilot], *, as_of: dt.date, weeks: int = 12) -> list[WeekFlags]:
    """Flags of the selected pilots open at the end of each of the last ``weeks`` weeks (one query)."""
    ends = dashboard.week_ends(as_of, weeks)
    critical = Q(severity=Severity.CRITICAL)
    tallies: dict[str, Any] = {}
    for index, day in enumerate(ends):
        moment = _end_of_day(day)
        open_then = Q(raised_at__lt=moment) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=moment))
        tallies[f"critical_{index}"] = Count("id", filter=open_then & critical)
        tallies[f"warning_{index}"] = Count("id", filter=open_then & ~critical)
    counts = (
        Flag.objects.filter(pilot__in=pilots.values("id"))
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=_end_of_day(ends[0])))
        .aggregate(**tallies)
    )
    return [
        WeekFlags(on=day, critical=counts[f"critical_{index}"] or 0, warning=counts[f"warning_{index}"] or 0)
        for index, day in enumerate(ends)
    ]


def pilot_sponsors() -> QuerySet[AbstractBaseUser]:
    """People who sponsor at least one pilot, for the sponsor filter."""
    return (
        get_user_model()
        .objects.filter(Exists(Pilot.objects.filter(sponsor=OuterRef("pk"))))
        .order_by("first_name", "last_name", "username")
    )


@dataclass(frozen=True)
class PilotLink:
    key: str
    name: str
    count: int = 0


@dataclass(frozen=True)
class Integrity:
    """Gate overrides and goalposts moved after approval (the first few pilots of each), and the last scan."""

    overrides: list[PilotLink]
    overridden_pilots: int
    changed_after_approval: list[PilotLink]
    changed_pilots: int
    changes_after_approval: int
    scan: monitoring.ScanFreshness

    @property
    def more_overridden(self) -> int:
        return self.overridden_pilots - len(self.overrides)

    @property
    def more_changed(self) -> int:
        return self.changed_pilots - len(self.changed_after_approval)


@dataclass(frozen=True)
class Dashboard:
    """Everything the executive dashboard shows, for the pilots the filters select.

    Figures cover every selected pilot; the lists of pilots hold only the first rows the page
    shows (``*_count`` says how many there are), which keeps the cached copy small.
    """

    as_of: dt.date
    filters: DashboardFilters
    total_pilots: int
    pilot_count: int
    funnel: dashboard.Funnel
    phase_times: list[dashboard.PhaseTime]
    ageing: list[dashboard.Ageing]
    ageing_count: int
    blocked: list[dashboard.Blocked]
    blocked_count: int
    common_blockers: list[dashboard.Tally]
    flags_by_kind: list[dashboard.Tally]
    open_flags: int
    critical_flags: int
    flagged_pilots: int
    values: list[dashboard.PilotValue]
    values_count: int
    value: dashboard.ValueSummary
    spending: dashboard.Spending
    integrity: Integrity
    flag_weeks: list[WeekFlags]
    gates_known: bool
    # The filters' choices: business unit names, and (username, name) of every sponsor.
    unit_choices: list[str]
    sponsor_choices: list[tuple[str, str]]
    # When the figures were computed, and whether the data has changed since (they catch up within the bound).
    computed_at: dt.datetime | None = None
    behind_data: bool = False

    @property
    def past_limit(self) -> int:
        return sum(row.past_limit for row in self.phase_times)


def data_version() -> str:
    """A token that changes whenever a row the dashboard reads changes (one query, index lookups only).

    Models that keep a history (pilots, KPIs, readings, kill criteria, gate criteria) get a
    history row for every insert, update and delete, so the newest history id moves with
    each change. The other rows hanging off a pilot (check-ins, attestations, gate reviews,
    flags) are appended, so their newest id moves with each insert; a flag is also resolved
    in place, which the count of open flags catches. Found through the model registry, so
    the portfolio names no table of the gates app.
    """
    newest: list[tuple[str, str]] = []  # (table, id column)
    for model in sorted(registered_models.values(), key=lambda m: m._meta.label):
        manager = getattr(model, "history", None)
        if manager is not None:
            newest.append((manager.model._meta.db_table, manager.model._meta.pk.column))
    for relation in sorted(Pilot._meta.related_objects, key=lambda r: r.related_model._meta.label):
        meta = relation.related_model._meta
        if meta.db_table not in registered_models:
            newest.append((meta.db_table, meta.pk.column))
    quote = connection.ops.quote_name
    # Names come from the model registry, quoted; no value from a request reaches this SQL.
    parts = [f"(SELECT MAX({quote(column)}) FROM {quote(table)})" for table, column in newest]  # noqa: S608
    parts.append(f"(SELECT COUNT(*) FROM {quote(Flag._meta.db_table)} WHERE resolved_at IS NULL)")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        row = cursor.fetchone()
    return hashlib.sha256(repr(row).encode()).hexdigest()[:24]


def dashboard_data(filters: DashboardFilters, *, as_of: dt.date | None = None) -> Dashboard:
    """The dashboard for the pilots the filters select, as of a date (default today).

    Computing it reads the whole portfolio and asks the gates app for every active pilot's
    readiness, which takes seconds at two thousand pilots; so the latest board of each view
    (filters and date) is cached with the ``data_version()`` it was computed from. While
    owners and feeds record readings the version moves every second, so a board up to
    ``DASHBOARD_MAX_STALE_SECONDS`` old is served as it is, and from half that age one refresh
    task brings it up to date (``freshness.dashboard_plan``); an older one is computed in the
    request, by one request at a time. The health scan's freshness is always read live.
    """
    as_of = as_of or timezone.localdate()
    key = _view_key(filters, as_of)
    version = data_version()
    latest = _cached(key)
    plan = freshness.dashboard_plan(
        latest.computed if latest else None,
        version=version,
        now=timezone.now(),
        max_stale_seconds=settings.DASHBOARD_MAX_STALE_SECONDS,
    )
    if plan is freshness.Plan.COMPUTE or latest is None:
        latest = _computed_once(key, filters, as_of, version, stale=latest)
    elif plan is freshness.Plan.SERVE_STALE_AND_REFRESH:
        refresh_soon(filters, as_of=as_of)
    board = latest.board
    scan = monitoring.last_scan_freshness(timezone.now())
    return replace(
        board,
        integrity=replace(board.integrity, scan=scan),
        computed_at=latest.computed.computed_at,
        behind_data=latest.computed.version != version,
    )


def refresh_soon(filters: DashboardFilters, *, as_of: dt.date) -> bool:
    """Ask a worker to bring a view's board up to date, unless someone is at it already (True if asked).

    Views call it for a board behind the data; the health scan for today's unfiltered view,
    so the first executive of the day finds the figures computed.
    """
    if not _lock(_view_key(filters, as_of)):
        return False
    _queue_refresh(filters, as_of)
    return True


def dashboard_refresh(filters: DashboardFilters, *, as_of: dt.date) -> bool:
    """Bring a view's cached board up to date (the refresh task); False when it already was.

    Releases the view's lock, taken by the request that queued the refresh, whatever happens.
    """
    key = _view_key(filters, as_of)
    try:
        version = data_version()
        latest = _cached(key)
        if latest is not None and latest.computed.version == version:
            return False
        _compute_and_store(key, filters, as_of, version)
        return True
    finally:
        _unlock(key)


@dataclass(frozen=True)
class CachedBoard:
    computed: freshness.Computed
    board: Dashboard


def _view_key(filters: DashboardFilters, as_of: dt.date) -> str:
    view = f"{CACHE_VERSION}|{as_of.isoformat()}|{filters.as_query()}"
    return "dashboard:" + hashlib.sha256(view.encode()).hexdigest()


def _cached(key: str) -> CachedBoard | None:
    try:
        return cache.get(key)
    except Exception:
        logger.warning("Dashboard cache unavailable", exc_info=True)
        return None


def _lock(key: str) -> bool:
    """Take the view's lock: whoever holds it is bringing the board up to date. Taken if the cache is down."""
    try:
        return cache.add(f"{key}:lock", 1, REFRESH_LOCK_SECONDS)
    except Exception:
        # No cache, no board to share: every request computes its own, as without a cache.
        return True


def _unlock(key: str) -> None:
    try:
        cache.delete(f"{key}:lock")
    except Exception:
        logger.warning("Dashboard cache unavailable; its lock expires by itself", exc_info=True)


def _computed_once(
    key: str, filters: DashboardFilters, as_of: dt.date, version: str, *, stale: CachedBoard | None
) -> CachedBoard:
    """The board computed in this request, unless another request is computing it already.

    Then the stale board is served if there is one; if not (a cold cache: a deploy, a new
    day, a new filter), this request waits for the other's board, and computes its own only
    if none comes in time or the other gave up.
    """
    deadline = time.monotonic() + WAIT_FOR_BOARD_SECONDS
    while not _lock(key):
        if stale is not None:
            return stale
        if time.monotonic() >= deadline:
            # The other computation is slow or stuck; this person has waited long enough.
            return _compute_and_store(key, filters, as_of, version)
        time.sleep(WAIT_POLL_SECONDS)
        found = _cached(key)
        if found is not None:
            return found
    try:
        return _compute_and_store(key, filters, as_of, version)
    finally:
        _unlock(key)


def _compute_and_store(key: str, filters: DashboardFilters, as_of: dt.date, version: str) -> CachedBoard:
    # Stamped before computing: the figures are at least as new as this, and the version was read before it.
    computed = freshness.Computed(version=version, computed_at=timezone.now())
    latest = CachedBoard(computed=computed, board=_dashboard(filters, as_of))
    try:
        held = cache.get(key)
        # A slower computation that started earlier must not replace a newer board.
        if held is None or held.computed.computed_at <= computed.computed_at:
            cache.set(key, latest, CACHE_SECONDS)
    except Exception:
        logger.warning("Dashboard cache unavailable; not cached", exc_info=True)
    return latest


def _queue_refresh(filters: DashboardFilters, as_of: dt.date) -> None:
    from portfolio.tasks import refresh_dashboard

    chosen = {f.name: getattr(filters, f.name) for f in fields(filters) if getattr(filters, f.name)}
    try:
        # Expires with the lock: a refresh still queued by then is replaced by a newer one.
        refresh_dashboard.apply_async(args=[chosen, as_of.isoformat()], retry=False, expires=REFRESH_LOCK_SECONDS)
    except Exception:
        # The page is served either way. The lock stays until it expires, so a broker that is
        # down is tried again once per lock rather than by every view; past the bound, a
        # request computes the board itself.
        logger.warning("Could not queue a dashboard refresh; a later view computes it", exc_info=True)


def _dashboard(filters: DashboardFilters, as_of: dt.date) -> Dashboard:
    selected = filtered_pilots(filters)
    pilots = pilot_facts(selected, as_of=as_of)
    by_id = {pilot.id: pilot for pilot in pilots}
    total = Pilot.objects.count() if filters.active else len(pilots)

    flags = open_flags(selected)
    facing_a_gate = [
        pilot.id
        for pilot in pilots
        if pilot.status == Status.ACTIVE and pilot.phase != PHASE_ORDER[-1]  # the last phase has no gate ahead
    ]
    blockers = extensions.gate_blockers(facing_a_gate, as_of) if facing_a_gate else {}
    blocked = dashboard.blocked_pilots(pilots, blockers, flags)

    in_production = selected.filter(
        phase__in=[Phase.PRODUCTION, Phase.SCALED], status__in=[Status.ACTIVE, Status.ON_HOLD]
    )
    values = dashboard.pilot_values(pilots, latest_kpi_readings(in_production, as_of=as_of))

    limits = dashboard.phase_limits(settings.HEALTH_THRESHOLDS)
    # The pilot page's own rule for "changed after approval", counted for every pilot at once.
    changes = selectors.changed_after_approval_counts([p.id for p in pilots] if filters.active else None)
    overrides = sorted(
        (PilotLink(by_id[pk].key, by_id[pk].name) for pk in extensions.gate_overrides() if pk in by_id),
        key=lambda link: link.name,
    )
    changed = sorted(
        (PilotLink(by_id[pk].key, by_id[pk].name, n) for pk, n in changes.items() if pk in by_id),
        key=lambda link: (-link.count, link.name),
    )
    integrity = Integrity(
        overrides=overrides[:LINKS_SHOWN],
        overridden_pilots=len(overrides),
        changed_after_approval=changed[:LINKS_SHOWN],
        changed_pilots=len(changed),
        changes_after_approval=sum(link.count for link in changed),
        scan=monitoring.last_scan_freshness(timezone.now()),
    )
    ageing = dashboard.ageing(pilots, limits)
    return Dashboard(
        as_of=as_of,
        filters=filters,
        total_pilots=total,
        pilot_count=len(pilots),
        funnel=dashboard.funnel((pilot.phase, pilot.status) for pilot in pilots),
        phase_times=dashboard.phase_times(pilots, limits),
        ageing=ageing[:AGEING_SHOWN],
        ageing_count=len(ageing),
        blocked=blocked[:BLOCKED_SHOWN],
        blocked_count=len(blocked),
        common_blockers=dashboard.common_blockers(blocked),
        flags_by_kind=dashboard.flags_by_kind(flags),
        open_flags=len(flags),
        critical_flags=sum(1 for flag in flags if flag.is_critical),
        flagged_pilots=len({flag.pilot_id for flag in flags}),
        values=values[:ROWS_SHOWN],
        values_count=len(values),
        value=dashboard.value_summary(pilots, values),
        spending=dashboard.spending(pilots),
        integrity=integrity,
        flag_weeks=flags_by_week(selected, as_of=as_of),
        gates_known=extensions.registry.gate_blockers is not None,
        unit_choices=list(selectors.business_units().values_list("name", flat=True)),
        sponsor_choices=[
            (username, _name(first, last, username))
            for username, first, last in pilot_sponsors().values_list("username", "first_name", "last_name")
        ],
    )


# -- a pilot's KPI chart ------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiSeries:
    """One KPI's readings with the lines drawn beside them: baseline, target and kill thresholds."""

    pilot_key: str
    pilot_name: str
    kpi_key: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    target: float
    readings: list[tuple[dt.date, float, str]]  # (measured on, value, source), oldest first
    kill_thresholds: list[tuple[str, float]]  # (comparator, threshold)


def kpi_series(pilot_key: str, kpi_key: str, *, as_of: dt.date | None = None) -> KpiSeries:
    """A KPI's chart data, looked up by its pilot's key and its own; raises ``Kpi.DoesNotExist`` (three queries)."""
    kpi = Kpi.objects.select_related("pilot").get(pilot__key=pilot_key, key=kpi_key)
    thresholds = KillCriterion.objects.filter(kpi=kpi, threshold__isnull=False)
    return _series(kpi.pilot, [kpi], list(thresholds.values_list("kpi_id", "comparator", "threshold")), as_of)[0]


def kpi_series_of_pilot(pilot: Pilot, *, as_of: dt.date | None = None) -> list[KpiSeries]:
    """Every KPI of the pilot with its readings and kill thresholds, in the order of the page.

    One query for the readings when the pilot comes from ``selectors.pilot_detail`` (its
    ``kpi_list`` and ``kill_criterion_list`` are loaded already), three otherwise.
    """
    kpis = getattr(pilot, "kpi_list", None)
    if kpis is None:
        kpis = list(Kpi.objects.filter(pilot=pilot).order_by("id"))
    criteria = getattr(pilot, "kill_criterion_list", None)
    if criteria is None:
        criteria = list(KillCriterion.objects.filter(pilot=pilot))
    thresholds = [(c.kpi_id, c.comparator, c.threshold) for c in criteria if c.kpi_id and c.threshold is not None]
    return _series(pilot, kpis, thresholds, as_of)


def _series(
    pilot: Pilot, kpis: list[Kpi], thresholds: list[tuple[int, str, float]], as_of: dt.date | None
) -> list[KpiSeries]:
    as_of = as_of or timezone.localdate()
    readings: dict[int, list[tuple[dt.date, float, str]]] = {kpi.pk: [] for kpi in kpis}
    for kpi_id, measured_on, value, source in (
        KpiReading.objects.filter(kpi_id__in=list(readings), measured_on__lte=as_of)
        .order_by("kpi_id", "measured_on")
        .values_list("kpi_id", "measured_on", "value", "source")
    ):
        readings[kpi_id].append((measured_on, value, source))
    lines: dict[int, list[tuple[str, float]]] = {kpi.pk: [] for kpi in kpis}
    for kpi_id, comparator, threshold in sorted(thresholds, key=lambda line: line[2]):
        if kpi_id in lines:
            lines[kpi_id].append((comparator, threshold))
    return [
        KpiSeries(
            pilot_key=pilot.key,
            pilot_name=pilot.name,
            kpi_key=kpi.key,
            name=kpi.name,
            unit=kpi.unit,
            direction=kpi.direction,
            baseline=kpi.baseline,
            target=kpi.target,
            readings=readings[kpi.pk],
            kill_thresholds=lines[kpi.pk],
        )
        for kpi in kpis
    ]


# -- the CSV export -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRow:
    pilot: PilotFacts
    limit_days: int | None
    flags: list[OpenFlag]
    blockers: list[str]
    value: dashboard.PilotValue | None


def export_rows(pilots: QuerySet[Pilot], *, as_of: dt.date | None = None) -> list[ExportRow]:
    """One row per selected pilot with its flags, next-gate blockers and value (a fixed number of queries)."""
    as_of = as_of or timezone.localdate()
    facts = pilot_facts(pilots, as_of=as_of)
    flags: dict[int, list[OpenFlag]] = {}
    for flag in open_flags(pilots):
        flags.setdefault(flag.pilot_id, []).append(flag)
    facing_a_gate = [p.id for p in facts if p.status == Status.ACTIVE and p.phase != PHASE_ORDER[-1]]
    blockers = extensions.gate_blockers(facing_a_gate, as_of) if facing_a_gate else {}
    in_production = pilots.filter(phase__in=[Phase.PRODUCTION, Phase.SCALED])
    values = {
        row.pilot.id: row for row in dashboard.pilot_values(facts, latest_kpi_readings(in_production, as_of=as_of))
    }
    limits = dashboard.phase_limits(settings.HEALTH_THRESHOLDS)
    return [
        ExportRow(
            pilot=pilot,
            limit_days=limits.get(pilot.phase) if pilot.is_live else None,
            flags=flags.get(pilot.id, []),
            blockers=list(blockers.get(pilot.id, ())),
            value=values.get(pilot.id),
        )
        for pilot in facts
    ]
