"""What the executive dashboard concludes from plain facts: funnel, time in phase, blockers and value.

Pure functions over plain data (no database), so each figure is tested on its own and the
dashboard, its charts and its CSV export agree. The queries that feed them live in
``portfolio.selectors_dashboard``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from portfolio import health
from portfolio.models import PHASE_ORDER, FlagKind, Phase, Severity, Source, Status, next_phase

# IDC: about 4 of every 33 proofs of concept reach production (DESIGN section 1).
INDUSTRY_REACHED_PRODUCTION = Fraction(4, 33)
PHASE_LABELS: dict[str, str] = dict(Phase.choices)
STATUS_LABELS: dict[str, str] = dict(Status.choices)
FLAG_LABELS: dict[str, str] = dict(FlagKind.choices)
LIVE_STATUSES = frozenset({Status.ACTIVE.value, Status.ON_HOLD.value})
# The question is what keeps pilots from production: that gate first, scaling last.
GATE_PRIORITY = {Phase.PILOT.value: 0, Phase.POC.value: 1, Phase.PRODUCTION.value: 2}


def share(part: int | float | Decimal, whole: int | float | Decimal) -> float | None:
    """``part / whole`` as a float, or None when there is no whole to divide."""
    if not whole:
        return None
    return float(part) / float(whole)


def phase_index(phase: str) -> int:
    return PHASE_ORDER.index(phase)


def reached(phase: str, milestone: str) -> bool:
    """A pilot now in ``phase`` (whatever its status) entered every phase up to it: killed ones keep theirs."""
    return phase_index(phase) >= phase_index(milestone)


@dataclass(frozen=True)
class PilotFacts:
    """What the dashboard shows of one pilot; people as display names, never ids."""

    id: int
    key: str
    name: str
    business_unit: str
    phase: str
    status: str
    phase_entered_on: dt.date
    days_in_phase: int
    owner: str = ""
    sponsor: str = ""
    budget: Decimal | None = None
    spent: Decimal | None = None

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS.get(self.phase, self.phase)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


# -- the funnel ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    """Of the pilots that entered a phase: how many went on, were killed in it, or are still there."""

    phase: str
    label: str
    entered: int
    went_on: int
    killed: int
    active: int
    on_hold: int
    is_last: bool

    @property
    def still_there(self) -> int:
        return self.active + self.on_hold

    @property
    def conversion(self) -> float | None:
        """Share of those that entered which passed the next gate; None for the last phase or nobody."""
        return None if self.is_last else share(self.went_on, self.entered)

    @property
    def kill_rate(self) -> float | None:
        return share(self.killed, self.entered)


@dataclass(frozen=True)
class Funnel:
    stages: list[FunnelStage]
    total: int
    reached_production: int

    @property
    def reached_production_share(self) -> float | None:
        return share(self.reached_production, self.total)

    @property
    def industry_share(self) -> float:
        return float(INDUSTRY_REACHED_PRODUCTION)

    @property
    def beats_industry(self) -> bool | None:
        reached_share = self.reached_production_share
        return None if reached_share is None else reached_share > self.industry_share


def funnel(pilots: Iterable[tuple[str, str]]) -> Funnel:
    """The funnel of (phase, status) pairs, one per pilot."""
    tally = Counter(pilots)
    stages = []
    for phase in PHASE_ORDER:
        entered = sum(n for (p, _), n in tally.items() if reached(p, phase))
        beyond = sum(n for (p, _), n in tally.items() if phase_index(p) > phase_index(phase))
        stages.append(
            FunnelStage(
                phase=phase,
                label=PHASE_LABELS[phase],
                entered=entered,
                went_on=beyond,
                killed=tally[(phase, Status.KILLED.value)],
                active=tally[(phase, Status.ACTIVE.value)],
                on_hold=tally[(phase, Status.ON_HOLD.value)],
                is_last=next_phase(phase) is None,
            )
        )
    reached_production = sum(n for (p, _), n in tally.items() if reached(p, Phase.PRODUCTION))
    return Funnel(stages=stages, total=sum(tally.values()), reached_production=reached_production)


# -- time in phase ------------------------------------------------------------------------------


def phase_limits(thresholds: Mapping[str, int]) -> dict[str, int]:
    """Days a pilot may spend in a phase before it counts as stuck (the health rule's limits)."""
    return {
        Phase.POC.value: thresholds["stuck_in_poc_after_days"],
        Phase.PILOT.value: thresholds["stuck_in_pilot_after_days"],
    }


@dataclass(frozen=True)
class PhaseTime:
    phase: str
    label: str
    pilots: int
    median_days: float | None
    longest_days: int | None
    limit_days: int | None
    past_limit: int


def phase_times(pilots: Iterable[PilotFacts], limits: Mapping[str, int]) -> list[PhaseTime]:
    """Median and longest days in phase of the live pilots, per phase; killed pilots no longer wait."""
    days: dict[str, list[int]] = {phase: [] for phase in PHASE_ORDER}
    for pilot in pilots:
        if pilot.is_live:
            days[pilot.phase].append(pilot.days_in_phase)
    rows = []
    for phase in PHASE_ORDER:
        limit = limits.get(phase)
        values = days[phase]
        rows.append(
            PhaseTime(
                phase=phase,
                label=PHASE_LABELS[phase],
                pilots=len(values),
                median_days=statistics.median(values) if values else None,
                longest_days=max(values, default=None),
                limit_days=limit,
                past_limit=sum(1 for value in values if limit is not None and value > limit),
            )
        )
    return rows


@dataclass(frozen=True)
class Ageing:
    pilot: PilotFacts
    limit_days: int | None

    @property
    def past_limit(self) -> bool:
        return self.limit_days is not None and self.pilot.days_in_phase > self.limit_days

    @property
    def days_over(self) -> int | None:
        return None if self.limit_days is None else self.pilot.days_in_phase - self.limit_days

    @property
    def share_of_limit(self) -> float | None:
        """How much of its phase limit the pilot has used (1.0 = at the limit)."""
        return None if not self.limit_days else self.pilot.days_in_phase / self.limit_days


def ageing(pilots: Iterable[PilotFacts], limits: Mapping[str, int]) -> list[Ageing]:
    """Live pilots, those past their phase limit first (furthest over first), then nearest their limit.

    Phases without a limit (production, scaled) come last, longest in phase first.
    """
    rows = [Ageing(pilot=pilot, limit_days=limits.get(pilot.phase)) for pilot in pilots if pilot.is_live]

    def rank(row: Ageing) -> tuple[int, float, str]:
        used = row.share_of_limit
        if row.past_limit:
            return (0, -float(row.days_over or 0), row.pilot.name)
        if used is not None:
            return (1, -used, row.pilot.name)
        return (2, -float(row.pilot.days_in_phase), row.pilot.name)

    return sorted(rows, key=rank)


# -- blockers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenFlag:
    pilot_id: int
    kind: str
    severity: str
    detail: str = ""

    @property
    def label(self) -> str:
        return FLAG_LABELS.get(self.kind, self.kind)

    @property
    def is_critical(self) -> bool:
        return self.severity == Severity.CRITICAL


@dataclass(frozen=True)
class Blocked:
    """An active pilot, the gate it faces next, what it still lacks for it and its open flags."""

    pilot: PilotFacts
    next_phase: str
    blockers: list[str]
    flags: list[OpenFlag]

    @property
    def next_phase_label(self) -> str:
        return PHASE_LABELS[self.next_phase]

    @property
    def ready(self) -> bool:
        return not self.blockers


def blocked_pilots(
    pilots: Iterable[PilotFacts], blockers: Mapping[int, Sequence[str]], flags: Iterable[OpenFlag]
) -> list[Blocked]:
    """Every active pilot with a gate ahead: the production gate first, then pilot approval, then scale.

    Within a gate, fewest blockers first (nearest to passing); critical flags before warnings.
    """
    flags_by_pilot: dict[int, list[OpenFlag]] = {}
    for flag in sorted(flags, key=lambda f: (not f.is_critical, f.label)):
        flags_by_pilot.setdefault(flag.pilot_id, []).append(flag)
    rows = []
    for pilot in pilots:
        ahead = next_phase(pilot.phase)
        if pilot.status != Status.ACTIVE or ahead is None:
            continue
        rows.append(
            Blocked(
                pilot=pilot,
                next_phase=ahead,
                blockers=list(blockers.get(pilot.id, ())),
                flags=flags_by_pilot.get(pilot.id, []),
            )
        )
    return sorted(rows, key=lambda row: (GATE_PRIORITY[row.pilot.phase], len(row.blockers), row.pilot.name))


@dataclass(frozen=True)
class Tally:
    """How many pilots share one blocker or one kind of open flag."""

    label: str
    pilots: int
    kind: str = ""
    severity: str = ""


def common_blockers(rows: Iterable[Blocked]) -> list[Tally]:
    """Unmet criteria by the number of active pilots they block, most common first."""
    counts = Counter(label for row in rows for label in set(row.blockers))
    return [Tally(label=label, pilots=n) for label, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def flags_by_kind(flags: Iterable[OpenFlag]) -> list[Tally]:
    """Pilots per kind of open flag: critical kinds first, then the most common."""
    pilots: dict[str, set[int]] = {}
    severity: dict[str, str] = {}
    for flag in flags:
        pilots.setdefault(flag.kind, set()).add(flag.pilot_id)
        severity[flag.kind] = flag.severity
    tallies = [
        Tally(label=FLAG_LABELS.get(kind, kind), pilots=len(ids), kind=kind, severity=severity[kind])
        for kind, ids in pilots.items()
    ]
    return sorted(tallies, key=lambda t: (t.severity != Severity.CRITICAL, -t.pilots, t.label))


# -- value --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiLatest:
    """A KPI with its latest reading as of the dashboard's date, if any."""

    pilot_id: int
    name: str
    unit: str
    direction: str
    baseline: float | None
    target: float
    latest_value: float | None = None
    latest_on: dt.date | None = None
    latest_source: str = ""

    @property
    def progress(self) -> float | None:
        """Progress of the latest reading from baseline (0) to target (1): the health rules' measure."""
        if self.latest_value is None:
            return None
        return health.progress(self, self.latest_value)  # type: ignore[arg-type]

    @property
    def beats_baseline(self) -> bool:
        progress = self.progress
        return progress is not None and progress > 0

    @property
    def system_fed(self) -> bool:
        return self.latest_source == Source.API


@dataclass(frozen=True)
class PilotValue:
    """A pilot in production or beyond: does some KPI's latest reading beat its baseline, and by how much."""

    pilot: PilotFacts
    kpis: list[KpiLatest]

    @property
    def best(self) -> KpiLatest | None:
        """The KPI furthest along toward its target; a system-fed one wins a tie."""
        scored = [kpi for kpi in self.kpis if kpi.progress is not None]
        return max(scored, key=lambda kpi: (kpi.progress, kpi.system_fed), default=None)

    @property
    def delivers_value(self) -> bool:
        return self.pilot.is_live and any(kpi.beats_baseline for kpi in self.kpis)

    @property
    def shown_by_system(self) -> bool:
        """Value that a system feed shows, not only the owner's own figures."""
        return self.delivers_value and any(kpi.beats_baseline and kpi.system_fed for kpi in self.kpis)

    @property
    def why_not(self) -> str:
        """Why no value is shown, in words; empty when it is."""
        if self.delivers_value:
            return ""
        if not self.pilot.is_live:
            return "Killed"
        if not self.kpis:
            return "No KPI defined"
        if all(kpi.baseline is None for kpi in self.kpis):
            return "No baseline to compare with"
        if all(kpi.latest_value is None for kpi in self.kpis):
            return "No readings yet"
        return "No KPI beats its baseline"


def pilot_values(pilots: Iterable[PilotFacts], kpis: Iterable[KpiLatest]) -> list[PilotValue]:
    """Pilots in production or beyond with their KPIs; those furthest toward target first, no value last."""
    by_pilot: dict[int, list[KpiLatest]] = {}
    for kpi in kpis:
        by_pilot.setdefault(kpi.pilot_id, []).append(kpi)
    rows = [
        PilotValue(pilot=pilot, kpis=by_pilot.get(pilot.id, []))
        for pilot in pilots
        if reached(pilot.phase, Phase.PRODUCTION)
    ]

    def rank(row: PilotValue) -> tuple[int, float, str]:
        best = row.best
        if row.delivers_value and best is not None:
            return (0, -(best.progress or 0.0), row.pilot.name)
        return (1 if row.pilot.is_live else 2, 0.0, row.pilot.name)

    return sorted(rows, key=rank)


@dataclass(frozen=True)
class ValueSummary:
    """The one measure that matters: investments that reached production and deliver measurable value."""

    pilots: int
    reached_production: int
    delivering: int
    shown_by_system: int
    spent: Decimal
    spent_delivering: Decimal

    @property
    def delivering_share(self) -> float | None:
        return share(self.delivering, self.pilots)

    @property
    def spent_delivering_share(self) -> float | None:
        return share(self.spent_delivering, self.spent)

    @property
    def self_reported_only(self) -> int:
        return self.delivering - self.shown_by_system


def value_summary(pilots: Sequence[PilotFacts], values: Iterable[PilotValue]) -> ValueSummary:
    values = list(values)
    delivering = [row for row in values if row.delivers_value]
    return ValueSummary(
        pilots=len(pilots),
        reached_production=len(values),
        delivering=len(delivering),
        shown_by_system=sum(1 for row in delivering if row.shown_by_system),
        spent=sum((pilot.spent or Decimal(0) for pilot in pilots), Decimal(0)),
        spent_delivering=sum((row.pilot.spent or Decimal(0) for row in delivering), Decimal(0)),
    )


@dataclass(frozen=True)
class Money:
    """Budget and spend of a group of pilots."""

    label: str
    pilots: int
    budget: Decimal
    spent: Decimal
    phase: str = ""
    unbudgeted: int = 0  # pilots without a budget recorded

    @property
    def spent_share(self) -> float | None:
        return share(self.spent, self.budget)


@dataclass(frozen=True)
class Spending:
    by_phase: list[Money]
    killed: Money
    total: Money


def spending(pilots: Iterable[PilotFacts]) -> Spending:
    """Budget and spend of the live pilots per phase, the spend sunk in killed pilots, and the total."""

    def money(label: str, group: list[PilotFacts], phase: str = "") -> Money:
        return Money(
            label=label,
            phase=phase,
            pilots=len(group),
            budget=sum((p.budget or Decimal(0) for p in group), Decimal(0)),
            spent=sum((p.spent or Decimal(0) for p in group), Decimal(0)),
            unbudgeted=sum(1 for p in group if p.budget is None),
        )

    pilots = list(pilots)
    live = [p for p in pilots if p.is_live]
    return Spending(
        by_phase=[money(PHASE_LABELS[phase], [p for p in live if p.phase == phase], phase) for phase in PHASE_ORDER],
        killed=money("Killed (sunk)", [p for p in pilots if not p.is_live]),
        total=money("All pilots", pilots),
    )


# -- flags over time ----------------------------------------------------------------------------


def week_ends(as_of: dt.date, weeks: int = 12) -> list[dt.date]:
    """The last ``weeks`` days one week apart, ending on ``as_of``, oldest first."""
    return [as_of - dt.timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


@dataclass(frozen=True)
class WeekFlags:
    """Flags open at the end of a day: critical and warning."""

    on: dt.date
    critical: int
    warning: int

    @property
    def total(self) -> int:
        return self.critical + self.warning
