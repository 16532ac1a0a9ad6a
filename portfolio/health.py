"""Health rules: which flags a pilot deserves as of a date D (DESIGN section 5).

Pure functions over plain data, so they are tested without a database and shared by
the scan, its Celery tasks and the scan_health command. Each rule is a small function
of (facts, D, thresholds); ``evaluate`` runs the rules that apply to the pilot's status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from portfolio.models import PHASE_ORDER, Comparator, FlagKind, Phase, Severity, Status


class Reading(NamedTuple):
    on: dt.date
    value: float


@dataclass(frozen=True)
class KpiFacts:
    id: int
    key: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    target: float
    # Newest first, at most three, all on or before D (the rules re-check the dates).
    last_readings: tuple[Reading, ...] = ()


@dataclass(frozen=True)
class KillCriterionFacts:
    id: int
    key: str
    description: str
    kpi_id: int | None = None
    comparator: str | None = None
    threshold: float | None = None
    evaluate_on: dt.date | None = None

    @property
    def is_measurable(self) -> bool:
        return self.kpi_id is not None and self.comparator is not None and self.threshold is not None


@dataclass(frozen=True)
class PilotFacts:
    id: int
    key: str
    status: str
    phase: str
    started_on: dt.date
    phase_entered_on: dt.date
    next_review_on: dt.date | None = None
    owner_id: int | None = None
    owner_active: bool = False
    sponsor_id: int | None = None
    sponsor_active: bool = False
    latest_checkin_on: dt.date | None = None
    kpis: tuple[KpiFacts, ...] = ()
    kill_criteria: tuple[KillCriterionFacts, ...] = ()


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    detail: str
    kpi_id: int | None = None
    kill_criterion_id: int | None = None

    @property
    def subject(self) -> tuple[str, int | None, int | None]:
        """What makes a flag unique within its pilot: kind and the KPI or kill criterion."""
        return (self.kind, self.kpi_id, self.kill_criterion_id)


Thresholds = Mapping[str, int]
Rule = Callable[[PilotFacts, dt.date, Thresholds], Iterable[Finding]]


# Formatting: details are sentences a person reads in a digest or on the pilot page.


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _date(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _number(value: float) -> str:
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _quantity(value: float, unit: str) -> str:
    return f"{_number(value)} {unit}" if unit else _number(value)


# Facts as of D: the loader only passes what is dated on or before D, but a rule
# must not be fooled by a later date if it is handed one.


def age_in_days(facts: PilotFacts, as_of: dt.date) -> int:
    return (as_of - facts.started_on).days


def readings_until(kpi: KpiFacts, as_of: dt.date) -> list[Reading]:
    """The KPI's readings dated on or before D, newest first (at most three)."""
    return sorted((r for r in kpi.last_readings if r.on <= as_of), key=lambda r: r.on, reverse=True)[:3]


def latest_reading_on(facts: PilotFacts, as_of: dt.date) -> dt.date | None:
    """The date of the latest reading of any KPI on or before D."""
    dates = [readings[0].on for kpi in facts.kpis if (readings := readings_until(kpi, as_of))]
    return max(dates, default=None)


def progress(kpi: KpiFacts, value: float) -> float | None:
    """How far ``value`` went from baseline (0) to target (1); negative is worse than baseline."""
    if kpi.baseline is None or kpi.target == kpi.baseline:
        return None
    return (value - kpi.baseline) / (kpi.target - kpi.baseline)


def _is_pilot_phase_or_later(phase: str) -> bool:
    return phase in PHASE_ORDER and PHASE_ORDER.index(phase) >= PHASE_ORDER.index(Phase.PILOT)


# The rules, in the order of the table in DESIGN section 5.


def no_owner(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    if facts.owner_id is not None:
        return []
    return [Finding(FlagKind.NO_OWNER, Severity.CRITICAL, "No owner named")]


def owner_inactive(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    if facts.owner_id is None or facts.owner_active:
        return []
    return [Finding(FlagKind.OWNER_INACTIVE, Severity.CRITICAL, "The owner's account is inactive")]


def no_sponsor(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    if facts.sponsor_id is None:
        return [Finding(FlagKind.NO_SPONSOR, Severity.WARNING, "No executive sponsor named")]
    if not facts.sponsor_active:
        return [Finding(FlagKind.NO_SPONSOR, Severity.WARNING, "The sponsor's account is inactive")]
    return []


def owner_is_sponsor(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    if facts.owner_id is None or facts.owner_id != facts.sponsor_id:
        return []
    detail = "The owner is also the sponsor, so nobody answers for the owner"
    return [Finding(FlagKind.OWNER_IS_SPONSOR, Severity.WARNING, detail)]


def sponsor_lapsed(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    limit = thresholds["sponsor_lapsed_after_days"]
    if facts.sponsor_id is None or not facts.sponsor_active:
        return []
    age = age_in_days(facts, as_of)
    if age <= limit:
        return []
    checkin = facts.latest_checkin_on
    if checkin is None or checkin > as_of:
        detail = f"No sponsor check-in yet, {_days(age)} after the start"
    elif (as_of - checkin).days > limit:
        detail = f"No sponsor check-in for {_days((as_of - checkin).days)}"
    else:
        return []
    return [Finding(FlagKind.SPONSOR_LAPSED, Severity.WARNING, detail)]


def no_kpi(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    if facts.kpis:
        return []
    return [Finding(FlagKind.NO_KPI, Severity.WARNING, "No KPI defined")]


def stale(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    limit = thresholds["stale_after_days"]
    age = age_in_days(facts, as_of)
    if age <= limit:
        return []
    latest = latest_reading_on(facts, as_of)
    if latest is None:
        detail = f"No reading yet, {_days(age)} after the start"
    elif (as_of - latest).days > limit:
        detail = f"No KPI reading for {_days((as_of - latest).days)}"
    else:
        return []
    return [Finding(FlagKind.STALE, Severity.WARNING, detail)]


def no_baseline(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    if not _is_pilot_phase_or_later(facts.phase):
        return []
    return [
        Finding(FlagKind.NO_BASELINE, Severity.WARNING, f"{kpi.name} has no baseline", kpi_id=kpi.id)
        for kpi in facts.kpis
        if kpi.baseline is None
    ]


def no_kill_criteria(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    if not _is_pilot_phase_or_later(facts.phase) or facts.kill_criteria:
        return []
    return [Finding(FlagKind.NO_KILL_CRITERIA, Severity.WARNING, "No kill criteria set")]


def _drift_detail(kpi: KpiFacts, as_of: dt.date) -> str | None:
    readings = readings_until(kpi, as_of)
    scores = [progress(kpi, r.value) for r in readings]
    if any(score is None for score in scores):
        return None
    if len(readings) >= 2 and scores[0] < 0 and scores[1] < 0:
        last_two = ", ".join(_quantity(r.value, kpi.unit) for r in reversed(readings[:2]))
        baseline = _quantity(kpi.baseline, kpi.unit)
        return f"Last two readings of {kpi.name} ({last_two}) are worse than its baseline of {baseline}"
    # Newest first: each reading is strictly further from target than the one before it.
    if len(readings) == 3 and scores[0] < scores[1] < scores[2]:
        values = " → ".join(_number(r.value) for r in reversed(readings))
        return f"{kpi.name} moved further from target three readings in a row: {values}"
    return None


def drifting(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    findings = []
    for kpi in facts.kpis:
        detail = _drift_detail(kpi, as_of)
        if detail is not None:
            findings.append(Finding(FlagKind.DRIFTING, Severity.WARNING, detail, kpi_id=kpi.id))
    return findings


def stuck(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    limits = {
        Phase.POC: ("proof of concept", thresholds["stuck_in_poc_after_days"]),
        Phase.PILOT: ("pilot", thresholds["stuck_in_pilot_after_days"]),
    }
    if facts.phase not in limits:
        return []
    label, limit = limits[facts.phase]
    days_in_phase = (as_of - facts.phase_entered_on).days
    if days_in_phase <= limit:
        return []
    return [Finding(FlagKind.STUCK, Severity.WARNING, f"In {label} for {_days(days_in_phase)} (limit {limit})")]


def _is_beyond(value: float, comparator: str, threshold: float) -> bool:
    if comparator == Comparator.BELOW:
        return value < threshold
    if comparator == Comparator.ABOVE:
        return value > threshold
    return False


def kill_criterion_met(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    kpis = {kpi.id: kpi for kpi in facts.kpis}
    findings = []
    for criterion in facts.kill_criteria:
        # A criterion without a date applies from the start (decision of the lead).
        if not criterion.is_measurable or (criterion.evaluate_on is not None and criterion.evaluate_on > as_of):
            continue
        kpi = kpis.get(criterion.kpi_id)
        readings = readings_until(kpi, as_of) if kpi else []
        if not readings or not _is_beyond(readings[0].value, criterion.comparator, criterion.threshold):
            continue
        detail = (
            f"Kill criterion met: {kpi.name} is {_quantity(readings[0].value, kpi.unit)}, "
            f"{criterion.comparator} {_quantity(criterion.threshold, kpi.unit)}"
        )
        if criterion.evaluate_on is not None:
            detail += f" (since {_date(criterion.evaluate_on)})"
        findings.append(Finding(FlagKind.KILL_CRITERION_MET, Severity.CRITICAL, detail, kill_criterion_id=criterion.id))
    return findings


def review_overdue(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    due = facts.next_review_on
    if due is None or due >= as_of:
        return []
    detail = f"Review was due on {_date(due)}, {_days((as_of - due).days)} ago"
    return [Finding(FlagKind.REVIEW_OVERDUE, Severity.WARNING, detail)]


ACTIVE_OR_ON_HOLD = frozenset({Status.ACTIVE.value, Status.ON_HOLD.value})
ACTIVE_ONLY = frozenset({Status.ACTIVE.value})

# Each rule with the statuses it applies to; killed pilots appear in none.
RULES: tuple[tuple[Rule, frozenset[str]], ...] = (
    (no_owner, ACTIVE_OR_ON_HOLD),
    (owner_inactive, ACTIVE_OR_ON_HOLD),
    (no_sponsor, ACTIVE_OR_ON_HOLD),
    (owner_is_sponsor, ACTIVE_OR_ON_HOLD),
    (sponsor_lapsed, ACTIVE_ONLY),
    (no_kpi, ACTIVE_ONLY),
    (stale, ACTIVE_ONLY),
    (no_baseline, ACTIVE_ONLY),
    (no_kill_criteria, ACTIVE_ONLY),
    (drifting, ACTIVE_ONLY),
    (stuck, ACTIVE_ONLY),
    (kill_criterion_met, ACTIVE_ONLY),
    (review_overdue, ACTIVE_OR_ON_HOLD),
)


def evaluate(facts: PilotFacts, as_of: dt.date, thresholds: Thresholds) -> list[Finding]:
    """Every flag the pilot deserves as of D."""
    return [
        finding for rule, statuses in RULES if facts.status in statuses for finding in rule(facts, as_of, thresholds)
    ]
