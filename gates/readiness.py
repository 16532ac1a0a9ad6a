"""Gate readiness: whether each criterion of a pilot's next gate is met, and why, in one sentence.

Pure functions over plain data (DESIGN 2 and 4), shared by the gate review page, the
decision service that snapshots them, and the dashboard's "what blocks each pilot".
The loader that fills these dataclasses from the database is ``gates.selectors``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from gates.models import AutoRule, CriterionKind
from portfolio.health import Reading, progress
from portfolio.models import Direction, Status, next_phase

# "A sponsor check-in in the last 30 days" (DESIGN 4).
SPONSOR_ENGAGED_DAYS = 30
# "Last 3 readings" of Value demonstrated and Targets met.
READINGS_COUNTED = 3


@dataclass(frozen=True)
class KpiFacts:
    id: int
    name: str
    unit: str
    direction: str
    baseline: float | None
    baseline_on: dt.date | None
    target: float
    # Newest first, at most three, all on or before the date readiness is judged at.
    last_readings: tuple[Reading, ...] = ()


@dataclass(frozen=True)
class Evidence:
    """The latest attestation of one criterion for one pilot."""

    attested_on: dt.date
    attested_by: str
    text: str


@dataclass(frozen=True)
class PilotFacts:
    """What the gate criteria look at, as of one date."""

    id: int
    phase: str
    status: str = Status.ACTIVE
    problem: str = ""
    outcome: str = ""
    owner_name: str | None = None  # None: nobody is named
    owner_active: bool = False
    sponsor_name: str | None = None
    sponsor_active: bool = False
    kpis: tuple[KpiFacts, ...] = ()
    kill_criteria_count: int = 0
    latest_checkin_on: dt.date | None = None
    critical_flags: tuple[str, ...] = ()  # the details of the open critical flags
    evidence: Mapping[int, Evidence] = field(default_factory=dict)  # by criterion id


@dataclass(frozen=True)
class Criterion:
    """A gate criterion as the rules need it (a plain copy of ``GateCriterion``)."""

    id: int
    code: str
    label: str
    kind: str
    rule: str = ""
    order: int = 0
    help_text: str = ""

    @property
    def is_attested(self) -> bool:
        return self.kind == CriterionKind.ATTESTED


@dataclass(frozen=True)
class CriterionState:
    criterion: Criterion
    met: bool
    reason: str
    evidence: Evidence | None = None
    # The last day the evidence counts (attested criteria with evidence only).
    valid_until: dt.date | None = None


def next_gate(phase: str, status: str) -> str | None:
    """The gate a pilot faces next, named by the phase it leaves; None when killed or fully scaled."""
    if status == Status.KILLED or next_phase(phase) is None:
        return None
    return phase


def readiness(
    facts: PilotFacts, criteria: Iterable[Criterion], as_of: dt.date, *, valid_days: int
) -> list[CriterionState]:
    """The state of each criterion, in the order given (the gate's active criteria)."""
    return [criterion_state(criterion, facts, as_of, valid_days=valid_days) for criterion in criteria]


def unmet_labels(states: Iterable[CriterionState]) -> list[str]:
    return [state.criterion.label for state in states if not state.met]


def criterion_state(criterion: Criterion, facts: PilotFacts, as_of: dt.date, *, valid_days: int) -> CriterionState:
    if criterion.is_attested:
        return attested(criterion, facts.evidence.get(criterion.id), as_of, valid_days=valid_days)
    rule = AUTO_RULES.get(criterion.rule)
    if rule is None:
        return CriterionState(criterion, False, f"No automatic check is defined for rule '{criterion.rule}'")
    met, reason = rule(facts, as_of)
    return CriterionState(criterion, met, reason)


# Formatting: reasons are sentences a person reads beside the criterion.


@functools.lru_cache(maxsize=4096)
def _date(day: dt.date) -> str:
    # Cached: the dashboard words thousands of reasons, mostly about the same few days.
    return f"{day.day} {day:%b %Y}"


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _number(value: float) -> str:
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _quantity(value: float, unit: str) -> str:
    return f"{_number(value)} {unit}" if unit else _number(value)


def _names(kpis: list[KpiFacts]) -> str:
    quoted = [f"'{kpi.name}'" for kpi in kpis]
    if len(quoted) == 1:
        return f"KPI {quoted[0]}"
    return "KPIs " + ", ".join(quoted[:-1]) + " and " + quoted[-1]


# Attested criteria: evidence counts for ``valid_days`` days, the day it is recorded being day 0.


def attested(criterion: Criterion, evidence: Evidence | None, as_of: dt.date, *, valid_days: int) -> CriterionState:
    if evidence is None:
        return CriterionState(criterion, False, "No evidence recorded")
    if evidence.attested_on > as_of:
        return CriterionState(criterion, False, f"The evidence is dated {_date(evidence.attested_on)}, in the future")
    valid_until = evidence.attested_on + dt.timedelta(days=valid_days)
    age = (as_of - evidence.attested_on).days
    if age > valid_days:
        expired = age - valid_days
        reason = (
            f"Evidence expired {_days(expired)} ago "
            f"(recorded {_date(evidence.attested_on)} by {evidence.attested_by}; it counts for {valid_days} days)"
        )
        return CriterionState(criterion, False, reason, evidence, valid_until)
    recorded = f"Evidence recorded {_date(evidence.attested_on)} by {evidence.attested_by}"
    reason = f"{recorded}, valid until {_date(valid_until)}"
    return CriterionState(criterion, True, reason, evidence, valid_until)


# Automatic criteria: one function per AutoRule, (met, reason).


def owner_assigned(facts: PilotFacts, as_of: dt.date) -> tuple[bool, str]:
    if facts.owner_name is None:
        return False, "No owner named"
    if not facts.owner_active:
        return False, f"The owner, {facts.owner_name}, has an inactive account"
    return True, f"{facts.owner_name} is the owner"


def sponsor_assigned(facts: PilotFacts, as_of: dt.date) -> tuple[bool, str]:
    if facts.sponsor_name is None:
        return False, "No executive sponsor named"
    if not facts.sponsor_active:
        return False, f"The sponsor, {facts.sponsor_name}, has an inactive account"
    return True, f"{facts.sponsor_name} is the sponsor"


def outcome_defined(facts: PilotFacts, as_of: dt.date) -> tuple[bool, str]:
    problem, outcome = bool(facts.problem.strip()), bool(facts.outcome.strip())
    if not problem and not outcome:
        return False, "Neither the problem nor the business outcome is written down"
    if not problem:
        return False, "The problem (the workflow bottleneck) is not written down"
    if not outcome:
        return False, "The business outcome sought is not written down"
    return True, "Problem and business outcome are written down"


def metrics_defined(facts: PilotFacts, as_of: dt.date) -> tuple[bool, str]:
    count = len(facts.kpis)
    if not count:
        return False, "No KPI defined"
    return True, f"{count} KPI{'' if count == 1 else 's'} with a target"


def baseline_measured(facts: PilotFacts, as_of: dt.date) -> tuple[bool, str]:
    if not facts.kpis:
        return False, "No KPI to measure a baseline for"
    missing = [kpi for kpi in facts.kpis if kpi.baseline is None]
    if missing:
        return False, f"No baseline for {_names(missing)}"
    undated = [kpi for kpi in facts.kpis if kpi.baseline_on is None]
    if undated:
        return False, f"The baseline of {_names(undated)} has no date"
    future = [kpi for kpi in facts.kpis if kpi.baseline_on > as_of]
    if future:
        first = future[0]
        return False, f"The baseline of KPI '{first.name}' is dated {_date(first.baseline_on)}, after today"
    if len(facts.kpis) == 1:
        return True, f"Baseline of KPI '{facts.kpis[0].name}' measured {_date(facts.kpis[0].baseline_on)}"
    return True, f"Every KPI has a baseline measured on or before {_date(as_of)}"


def kill_criteria_set(facts: PilotFacts, as_of: dt.date) -> tuple[bool, str]:
    count = facts.kill_criteria_count
    if not count:
        return False, "No kill criteria set"
    return True, f"{count} kill criteri{'on' if count == 1 else 'a'} set"


def _counted_readings(kpi: KpiFacts, as_of: dt.date) -> list[Reading]:
    readings = sorted((r for r in kpi.last_readings if r.on <= as_of), key=lambda r: r.on, reverse=True)
    return readings[:READINGS_COUNTED]


def value_demonstrated(facts: PilotFacts, as_of: dt.date) -> tuple[bool, str]:
    if not facts.kpis:
        return False, "No KPI to demonstrate value with"
    with_baseline = [kpi for kpi in facts.kpis if kpi.baseline is not None]
    if not with_baseline:
        return False, "No KPI has a baseline to compare readings with"
    for kpi in with_baseline:
        readings = _counted_readings(kpi, as_of)
        scores = [progress(kpi, reading.value) for reading in readings]
        if len(readings) == READINGS_COUNTED and all(score is not None and score > 0 for score in scores):
            return True, f"KPI '{kpi.name}' beat its baseline in each of its last {READINGS_COUNTED} readings"
    return False, f"No KPI beat its baseline in each of its last {READINGS_COUNTED} readings"


def sponsor_engaged(facts: PilotFacts, as_of: dt.date) -> tuple[bool, str]:
    latest = facts.latest_checkin_on
    if latest is None or latest > as_of:
        return False, "No sponsor check-in recorded"
    age = (as_of - latest).days
    if age > SPONSOR_ENGAGED_DAYS:
        return False, f"The last sponsor check-in was {_days(age)} ago (it must be within {SPONSOR_ENGAGED_DAYS})"
    when = "today" if age == 0 else f"{_days(age)} ago"
    return True, f"Sponsor checked in {when} ({_date(latest)})"


def _meets_target(kpi: KpiFacts, value: float) -> bool:
    if kpi.direction == Direction.DECREASE:
        return value <= kpi.target
    return value >= kpi.target


def targets_met(facts: PilotFacts, as_of: dt.date) -> tuple[bool, str]:
    if not facts.kpis:
        return False, "No KPI defined"
    for kpi in facts.kpis:
        readings = _counted_readings(kpi, as_of)
        if len(readings) < READINGS_COUNTED:
            count = len(readings)
            return False, f"KPI '{kpi.name}' has {count} reading{'' if count == 1 else 's'}, {READINGS_COUNTED} needed"
        for reading in readings:
            if not _meets_target(kpi, reading.value):
                return False, (
                    f"KPI '{kpi.name}' missed its target of {_quantity(kpi.target, kpi.unit)} "
                    f"on {_date(reading.on)} ({_quantity(reading.value, kpi.unit)})"
                )
    return True, f"Every KPI met its target in each of its last {READINGS_COUNTED} readings"


def no_critical_flags(facts: PilotFacts, as_of: dt.date) -> tuple[bool, str]:
    count = len(facts.critical_flags)
    if not count:
        return True, "No critical flag open"
    first = facts.critical_flags[0]
    if count == 1:
        return False, f"A critical flag is open: {first}"
    return False, f"{count} critical flags are open, among them: {first}"


# Keyed by the plain values: looking a str up among enum members is needlessly slow.
AUTO_RULES = {
    AutoRule.OWNER_ASSIGNED: owner_assigned,
    AutoRule.SPONSOR_ASSIGNED: sponsor_assigned,
    AutoRule.OUTCOME_DEFINED: outcome_defined,
    AutoRule.METRICS_DEFINED: metrics_defined,
    AutoRule.BASELINE_MEASURED: baseline_measured,
    AutoRule.KILL_CRITERIA_SET: kill_criteria_set,
    AutoRule.VALUE_DEMONSTRATED: value_demonstrated,
    AutoRule.SPONSOR_ENGAGED: sponsor_engaged,
    AutoRule.TARGETS_MET: targets_met,
    AutoRule.NO_CRITICAL_FLAGS: no_critical_flags,
}
AUTO_RULES = {str(rule.value): check for rule, check in AUTO_RULES.items()}
# The rules that look at readings: the loader fetches readings only for gates that use one.
READING_RULES = frozenset({AutoRule.VALUE_DEMONSTRATED.value, AutoRule.TARGETS_MET.value})
