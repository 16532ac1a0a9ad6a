"""A large, realistic, deterministic portfolio for the benchmark, written fast with COPY (DESIGN 9).

Two steps. ``plan_portfolio`` is pure: from the sizes, a date and a seed it decides every
person, pilot, KPI, kill criterion and check-in and the shape of each KPI's readings, so
the same arguments always give the same portfolio. ``generate_portfolio`` writes the plan
into PostgreSQL with psycopg 3's ``COPY ... FROM STDIN`` (never one ORM save per row); the
million readings are produced lazily, merged in date order (as a live database receives
them, one week after another), so they never sit in memory at once.

The mix is what a real portfolio looks like to the health scan: most pilots are healthy,
some have drifting KPIs, stopped reporting, lost their owner or sponsor, sit too long in a
phase or have met a kill criterion, so the scan raises a realistic number of flags.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.utils.text import slugify

from portfolio.models import (
    BusinessUnit,
    CheckIn,
    Comparator,
    Confidence,
    Direction,
    KillCriterion,
    Kpi,
    KpiReading,
    Phase,
    Pilot,
    Source,
    Status,
)
from portfolio.roles import EXECUTIVES, PORTFOLIO_OFFICE

BENCH_PASSWORD = "bench-portfolio-2026"
NULL = "\\N"  # COPY text format
EMAIL_DOMAIN = "bench.example"

BUSINESS_UNITS = (
    "Customer Service",
    "Finance",
    "Operations",
    "Supply Chain",
    "Human Resources",
    "Sales and Marketing",
    "Legal and Compliance",
    "IT",
)
FIRST_NAMES = (
    "Ada", "Amara", "Ben", "Carla", "Chen", "Daniel", "Elena", "Emeka", "Fatima", "Felix", "Grace", "Hannah",
    "Hugo", "Ines", "Ivan", "Jonas", "Julia", "Kenji", "Lara", "Leo", "Lucia", "Maja", "Marco", "Mei", "Nadia",
    "Noah", "Olga", "Omar", "Priya", "Rafael", "Ravi", "Rosa", "Sami", "Sofia", "Tariq", "Tess", "Umar", "Vera",
    "Wei", "Yusuf", "Zara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Alvarez", "Andersen", "Bauer", "Berg", "Brown", "Costa", "Dubois", "Fischer", "Garcia", "Hansen",
    "Ibrahim", "Ito", "Jansen", "Kim", "Kowalski", "Larsen", "Lopez", "Martin", "Meyer", "Moreau", "Murphy", "Nair",
    "Novak", "Okafor", "Patel", "Popescu", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Tanaka", "Visser",
    "Walsh", "Weber", "Wong", "Yilmaz",
)  # fmt: skip
PILOT_SUBJECTS = (
    "Invoice", "Claims", "Contract", "Demand", "Ticket", "Fraud", "Churn", "Maintenance", "Route", "Candidate",
    "Document", "Pricing", "Inventory", "Quality", "Call", "Email", "Supplier", "Credit", "Shift", "Knowledge",
)  # fmt: skip
PILOT_TASKS = (
    "matching", "triage", "review", "forecasting", "summarisation", "detection", "scoring", "assistant",
    "routing", "extraction", "classification", "copilot", "planning", "search",
)  # fmt: skip


@dataclass(frozen=True)
class KpiTemplate:
    key: str
    name: str
    unit: str
    direction: str
    baseline_range: tuple[float, float]
    # How much better than the baseline the target is, as a fraction of the baseline.
    improvement_range: tuple[float, float]
    ceiling: float | None = None


KPI_TEMPLATES = (
    KpiTemplate("handle-time", "Average handle time", "min", Direction.DECREASE, (6, 14), (0.15, 0.4)),
    KpiTemplate("first-contact-resolution", "First-contact resolution", "%", Direction.INCREASE, (55, 75), (0.08, 0.25), 99),  # noqa: E501
    KpiTemplate("cost-per-case", "Cost per case", "EUR", Direction.DECREASE, (8, 40), (0.1, 0.35)),
    KpiTemplate("accuracy", "Extraction accuracy", "%", Direction.INCREASE, (70, 90), (0.04, 0.12), 99.5),
    KpiTemplate("cycle-time", "Cycle time", "days", Direction.DECREASE, (3, 20), (0.2, 0.5)),
    KpiTemplate("csat", "Customer satisfaction", "points", Direction.INCREASE, (3.2, 4.1), (0.05, 0.15), 5),
    KpiTemplate("error-rate", "Error rate", "%", Direction.DECREASE, (2, 12), (0.2, 0.5)),
    KpiTemplate("throughput", "Cases per agent per day", "cases", Direction.INCREASE, (20, 60), (0.1, 0.4)),
    KpiTemplate("forecast-error", "Forecast error (MAPE)", "%", Direction.DECREASE, (12, 30), (0.15, 0.4)),
    KpiTemplate("weekly-users", "Weekly active users", "users", Direction.INCREASE, (20, 400), (0.5, 2.0)),
    KpiTemplate("automation-rate", "Automation rate", "%", Direction.INCREASE, (10, 40), (0.3, 1.0), 95),
    KpiTemplate("backlog", "Open backlog", "cases", Direction.DECREASE, (200, 2000), (0.2, 0.5)),
    KpiTemplate("hours-saved", "Hours saved per week", "hours", Direction.INCREASE, (5, 50), (0.5, 2.0)),
    KpiTemplate("false-positives", "False positive rate", "%", Direction.DECREASE, (5, 25), (0.2, 0.5)),
    KpiTemplate("downtime", "Unplanned downtime", "hours", Direction.DECREASE, (10, 60), (0.2, 0.5)),
    KpiTemplate("on-time-delivery", "On-time delivery", "%", Direction.INCREASE, (80, 92), (0.03, 0.07), 99.5),
)  # fmt: skip

# The portfolio's shape. Weights, not percentages: they need not add up to 100.
PHASE_WEIGHTS = {Phase.POC: 35, Phase.PILOT: 30, Phase.PRODUCTION: 20, Phase.SCALED: 15}
KILLED_SHARE = {Phase.POC: 0.18, Phase.PILOT: 0.15, Phase.PRODUCTION: 0.04, Phase.SCALED: 0.01}
ON_HOLD_SHARE = 0.08
# Days since the start, by the phase the pilot is in now: (fewest, most, most often).
AGE_RANGE = {
    Phase.POC: (14, 200, 30),
    Phase.PILOT: (120, 700, 250),
    Phase.PRODUCTION: (300, 1200, 500),
    Phase.SCALED: (500, 1500, 800),
}
NO_OWNER_SHARE = 0.03
INACTIVE_OWNER_SHARE = 0.02
NO_SPONSOR_SHARE = 0.04
INACTIVE_SPONSOR_SHARE = 0.03
OWNER_IS_SPONSOR_SHARE = 0.01
EXECUTIVE_SPONSOR_SHARE = 0.25
STALE_SHARE = 0.08  # stopped reporting readings
LAPSED_SPONSOR_SHARE = 0.12  # the sponsor stopped checking in
NO_CHECKIN_SHARE = 0.03
NO_KPI_SHARE = 0.02
NO_BASELINE_SHARE = 0.04  # of KPIs
DRIFTING_SHARE = 0.08  # of KPIs of active pilots
API_SOURCE_SHARE = 0.3  # of KPIs: readings from a system feed rather than a form
API_READ_RATIO = 3  # a feed is read this many times as often as a form
NO_KILL_CRITERIA_SHARE = {Phase.POC: 0.4, Phase.PILOT: 0.08, Phase.PRODUCTION: 0.05, Phase.SCALED: 0.05}
MEASURABLE_CRITERION_SHARE = 0.65
CRITERION_MET_SHARE = 0.05
REVIEW_SCHEDULED_SHARE = 0.5
LONGEST_KPI_COUNT = 9


@dataclass(frozen=True)
class PlannedUser:
    username: str
    first_name: str
    last_name: str
    active: bool = True
    group: str | None = None


@dataclass(frozen=True)
class PlannedPilot:
    key: str
    name: str
    business_unit: str
    problem: str
    outcome: str
    owner: int | None  # index into Plan.users
    sponsor: int | None
    phase: str
    status: str
    started_on: dt.date
    phase_entered_on: dt.date
    next_review_on: dt.date | None
    budget: int
    spent: int


@dataclass(frozen=True)
class Series:
    """The shape of a KPI's readings as progress from baseline (0) to target (1).

    ``count`` readings spread evenly from ``first_on`` to ``last_on``: the early ones rise
    along an ease-out curve towards ``reach`` with noise, the last ones are exactly ``tail``
    (oldest first), which decides whether the scan sees the KPI drifting.
    """

    first_on: dt.date
    last_on: dt.date
    count: int
    reach: float
    tail: tuple[float, ...]
    noise: float
    seed: int

    @property
    def capacity(self) -> int:
        """At most one reading a day."""
        return (self.last_on - self.first_on).days + 1


@dataclass(frozen=True)
class PlannedKpi:
    pilot: int  # index into Plan.pilots
    key: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    baseline_on: dt.date | None
    target: float
    target_on: dt.date | None
    # Where readings start when no baseline was recorded.
    reference: float
    source: str
    series: Series

    def value_at(self, progress: float) -> float:
        start = self.reference if self.baseline is None else self.baseline
        return round(start + progress * (self.target - start), 2)


@dataclass(frozen=True)
class PlannedCriterion:
    pilot: int
    key: str
    description: str
    kpi: int | None  # index into Plan.kpis
    comparator: str | None
    threshold: float | None
    evaluate_on: dt.date | None


@dataclass(frozen=True)
class PlannedCheckIn:
    pilot: int
    sponsor: int  # index into Plan.users
    on: dt.date
    confidence: str
    note: str


@dataclass
class Plan:
    as_of: dt.date
    users: list[PlannedUser] = field(default_factory=list)
    pilots: list[PlannedPilot] = field(default_factory=list)
    kpis: list[PlannedKpi] = field(default_factory=list)
    criteria: list[PlannedCriterion] = field(default_factory=list)
    checkins: list[PlannedCheckIn] = field(default_factory=list)

    @property
    def reading_count(self) -> int:
        return sum(kpi.series.count for kpi in self.kpis)


@dataclass(frozen=True)
class GeneratedPortfolio:
    """What was written, for the progress lines and the benchmark sections."""

    as_of: dt.date
    seconds: float
    counts: dict[str, int]
    sample_pilot_keys: list[str]
    executive_username: str


def plan_portfolio(
    *,
    pilots: int = 2000,
    kpis: int = 10_000,
    readings: int = 1_000_000,
    as_of: dt.date,
    seed: int = 1,
    executives: int = 20,
    owners: int | None = None,
    sponsors: int | None = None,
) -> Plan:
    """Decide the whole portfolio; the same arguments always give the same plan."""
    if pilots < 1 or kpis < 0 or readings < 0:
        raise ValueError("the benchmark needs at least one pilot and no negative sizes")
    rng = random.Random(seed)
    plan = Plan(as_of=as_of)
    owner_ids = _plan_people(plan, rng, "owner", owners or max(1, round(pilots / 4)), INACTIVE_OWNER_SHARE)
    sponsor_ids = _plan_people(plan, rng, "sponsor", sponsors or max(1, round(pilots / 25)), INACTIVE_SPONSOR_SHARE)
    executive_ids = _plan_people(plan, rng, "executive", executives, 0.0, group=EXECUTIVES)
    _plan_people(plan, rng, "office", max(1, min(3, pilots // 500)), 0.0, group=PORTFOLIO_OFFICE)

    stories = [_plan_pilot(plan, rng, number, owner_ids, sponsor_ids, executive_ids) for number in range(pilots)]
    kpi_counts = _spread(kpis, [0 if rng.random() < NO_KPI_SHARE else 1 for _ in range(pilots)], rng)
    for index, (pilot, story) in enumerate(zip(plan.pilots, stories, strict=True)):
        templates = _kpi_templates(rng, kpi_counts[index])
        for position, (template, key) in enumerate(templates):
            series_seed = seed * 1_000_003 + len(plan.kpis)
            plan.kpis.append(_plan_kpi(rng, index, pilot, story, template, key, position, series_seed))
    _allocate_readings(plan, readings)
    measurable: dict[int, list[int]] = {}
    for kpi_index, kpi in enumerate(plan.kpis):
        if kpi.baseline is not None:
            measurable.setdefault(kpi.pilot, []).append(kpi_index)
    for index, (pilot, story) in enumerate(zip(plan.pilots, stories, strict=True)):
        _plan_criteria(plan, rng, index, pilot, measurable.get(index, []))
        _plan_checkins(plan, rng, index, pilot, story)
    return plan


@dataclass(frozen=True)
class _Story:
    """How a pilot behaves over time, decided once and read by its KPIs and check-ins."""

    ended_on: dt.date  # the last day anything happened: as_of, or when it was killed or put on hold
    readings_end_on: dt.date
    checkins_end_on: dt.date | None  # None: no check-ins at all


def _plan_people(
    plan: Plan, rng: random.Random, role: str, count: int, inactive_share: float, group: str | None = None
) -> list[int]:
    indexes = []
    for number in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = f"{role}{number:04d}.{first}.{last}".lower()
        plan.users.append(PlannedUser(username, first, last, active=rng.random() >= inactive_share, group=group))
        indexes.append(len(plan.users) - 1)
    return indexes


def _days_before(day: dt.date, low: int, high: int, rng: random.Random) -> dt.date:
    return day - dt.timedelta(days=rng.randint(low, high))


def _plan_pilot(
    plan: Plan,
    rng: random.Random,
    number: int,
    owner_ids: list[int],
    sponsor_ids: list[int],
    executive_ids: list[int],
) -> _Story:
    as_of = plan.as_of
    phase = rng.choices(list(PHASE_WEIGHTS), weights=list(PHASE_WEIGHTS.values()))[0]
    started_on = as_of - dt.timedelta(days=round(rng.triangular(*AGE_RANGE[phase])))
    age = (as_of - started_on).days
    # Most pilots move through a phase in time; the rest are the stuck ones the scan should find.
    days_in_phase = {
        Phase.POC: age,
        Phase.PILOT: round(rng.triangular(20, 300, 60)),
        Phase.PRODUCTION: rng.randint(30, 500),
        Phase.SCALED: rng.randint(30, 400),
    }[phase]
    phase_entered_on = max(started_on, as_of - dt.timedelta(days=min(days_in_phase, age)))

    roll = rng.random()
    if roll < KILLED_SHARE[phase]:
        status = Status.KILLED
        ended_on = min(as_of - dt.timedelta(days=1), phase_entered_on + dt.timedelta(days=rng.randint(20, 200)))
    elif roll < KILLED_SHARE[phase] + ON_HOLD_SHARE:
        status = Status.ON_HOLD
        ended_on = min(as_of, phase_entered_on + dt.timedelta(days=rng.randint(30, 200)))
    else:
        status = Status.ACTIVE
        ended_on = as_of
    ended_on = max(ended_on, started_on)

    owner = None if rng.random() < NO_OWNER_SHARE else rng.choice(owner_ids)
    roll = rng.random()
    if roll < NO_SPONSOR_SHARE:
        sponsor = None
    elif roll < NO_SPONSOR_SHARE + OWNER_IS_SPONSOR_SHARE and owner is not None:
        sponsor = owner
    elif roll < NO_SPONSOR_SHARE + OWNER_IS_SPONSOR_SHARE + EXECUTIVE_SPONSOR_SHARE and executive_ids:
        sponsor = rng.choice(executive_ids)
    else:
        sponsor = rng.choice(sponsor_ids)

    readings_end_on = ended_on
    if status == Status.ACTIVE and rng.random() < STALE_SHARE:
        readings_end_on = max(started_on, _days_before(as_of, 25, 160, rng))
    roll = rng.random()
    if sponsor is None or roll < NO_CHECKIN_SHARE:
        checkins_end_on = None
    elif roll < NO_CHECKIN_SHARE + LAPSED_SPONSOR_SHARE:
        checkins_end_on = _days_before(ended_on, 65, 220, rng)
    else:
        checkins_end_on = _days_before(ended_on, 0, 35, rng)

    subject, task = rng.choice(PILOT_SUBJECTS), rng.choice(PILOT_TASKS)
    name = f"{subject} {task}"
    budget = rng.randrange(50_000, 2_000_000, 5_000)
    plan.pilots.append(
        PlannedPilot(
            key=f"{slugify(name)}-{number + 1:04d}",
            name=name,
            business_unit=rng.choice(BUSINESS_UNITS),
            problem=f"{subject} {task} takes too long and is done by hand, so cases wait and errors slip through.",
            outcome="" if rng.random() < 0.05 else f"Faster, cheaper {subject.lower()} {task} with fewer errors.",
            owner=owner,
            sponsor=sponsor,
            phase=phase,
            status=status,
            started_on=started_on,
            phase_entered_on=phase_entered_on,
            next_review_on=as_of + dt.timedelta(days=rng.randint(-45, 90))
            if rng.random() < REVIEW_SCHEDULED_SHARE
            else None,
            budget=budget,
            spent=round(budget * rng.uniform(0.05, 1.1)),
        )
    )
    return _Story(ended_on=ended_on, readings_end_on=readings_end_on, checkins_end_on=checkins_end_on)


def _spread(total: int, wanted: list[int], rng: random.Random) -> list[int]:
    """``total`` KPIs over the pilots that want some: one each, the rest at random, at most LONGEST_KPI_COUNT each.

    Only when the sizes leave no other way (more KPIs than the wanting pilots can hold)
    does a pilot get more.
    """
    counts = [0] * len(wanted)
    eligible = [index for index, wants in enumerate(wanted) if wants] or list(range(len(wanted)))
    for index in eligible[:total]:
        counts[index] = 1
    remaining = total - sum(counts)
    roomy = list(eligible)
    while remaining:
        if not roomy:
            roomy = list(eligible)
        position = rng.randrange(len(roomy))
        index = roomy[position]
        counts[index] += 1
        remaining -= 1
        if counts[index] >= LONGEST_KPI_COUNT:
            # Swap-remove: order does not matter, and the draw stays O(1).
            roomy[position] = roomy[-1]
            roomy.pop()
    return counts


def _kpi_templates(rng: random.Random, count: int) -> list[tuple[KpiTemplate, str]]:
    picked = rng.sample(KPI_TEMPLATES, min(count, len(KPI_TEMPLATES)))
    # More KPIs than templates only happens with odd sizes; number the repeats.
    while len(picked) < count:
        picked.append(rng.choice(KPI_TEMPLATES))
    seen: Counter[str] = Counter()
    result = []
    for template in picked:
        seen[template.key] += 1
        key = template.key if seen[template.key] == 1 else f"{template.key}-{seen[template.key]}"
        result.append((template, key))
    return result


def _plan_kpi(
    rng: random.Random,
    pilot_index: int,
    pilot: PlannedPilot,
    story: _Story,
    template: KpiTemplate,
    key: str,
    position: int,
    series_seed: int,
) -> PlannedKpi:
    reference = round(rng.uniform(*template.baseline_range), 2)
    improvement = rng.uniform(*template.improvement_range)
    if template.direction == Direction.INCREASE:
        target = reference * (1 + improvement)
        if template.ceiling is not None:
            target = min(target, template.ceiling)
    else:
        target = reference * (1 - improvement)
    target = round(target, 2)
    if target == reference:
        target = round(reference + (0.01 if template.direction == Direction.INCREASE else -0.01), 2)

    # Later KPIs were added a little after the start.
    first_on = min(story.readings_end_on, pilot.started_on + dt.timedelta(days=position * rng.randint(0, 10)))
    has_baseline = rng.random() >= NO_BASELINE_SHARE
    last_on = story.readings_end_on
    if position and rng.random() < 0.2:
        # Some KPIs are read less faithfully than the pilot's main one.
        last_on = max(first_on, _days_before(story.readings_end_on, 0, 20, rng))

    drifting = pilot.status != Status.KILLED and has_baseline and rng.random() < DRIFTING_SHARE
    # What got the killed ones killed: the value never came.
    reach = rng.uniform(-0.3, 0.3) if pilot.status == Status.KILLED else rng.uniform(0.2, 1.15)
    if drifting and rng.random() < 0.5:
        # The last two readings worse than the baseline.
        tail = (rng.uniform(0.05, 0.3), rng.uniform(-0.3, -0.05), rng.uniform(-0.4, -0.05))
    elif drifting:
        # Three readings in a row, each further from target than the one before.
        top = rng.uniform(0.4, 0.9)
        step = rng.uniform(0.08, 0.2)
        tail = (top, top - step, top - 2 * step)
    else:
        tail = tuple(reach + rng.gauss(0, 0.04) for _ in range(3))
        if pilot.status != Status.KILLED:
            # Healthy means not drifting: never below the baseline, never three steps away from target.
            tail = tuple(max(0.02, score) for score in tail)
            if tail[0] > tail[1] > tail[2]:
                tail = (tail[0], tail[2], tail[1])

    return PlannedKpi(
        pilot=pilot_index,
        key=key,
        name=template.name,
        unit=template.unit,
        direction=template.direction,
        baseline=reference if has_baseline else None,
        baseline_on=pilot.started_on if has_baseline else None,
        target=target,
        target_on=pilot.started_on + dt.timedelta(days=365),
        reference=reference,
        source=Source.API if rng.random() < API_SOURCE_SHARE else Source.FORM,
        series=Series(
            first_on=first_on,
            last_on=max(first_on, last_on),
            count=0,
            reach=reach,
            tail=tail,
            noise=rng.uniform(0.02, 0.08),
            seed=series_seed,
        ),
    )


def _allocate_readings(plan: Plan, total: int) -> None:
    """Share ``total`` readings among the KPIs in proportion to how long each was measured.

    A system feed is read about three times as often as a form is filled in. Largest
    remainders, capped at one reading a day, so the total is exact: at the default
    sizes forms are read about weekly and feeds every two or three days.
    """
    capacities = [kpi.series.capacity for kpi in plan.kpis]
    room = sum(capacities)
    if total > room:
        raise ValueError(
            f"{total} readings do not fit: at one a day these KPIs can hold {room}; ask for more KPIs or fewer readings"
        )
    if not plan.kpis:
        return
    weights = [
        capacity * (API_READ_RATIO if kpi.source == Source.API else 1)
        for capacity, kpi in zip(capacities, plan.kpis, strict=True)
    ]
    weight = sum(weights)
    shares = [total * share / weight for share in weights]
    counts = [min(capacity, math.floor(share)) for capacity, share in zip(capacities, shares, strict=True)]
    missing = total - sum(counts)
    by_remainder = sorted(range(len(counts)), key=lambda i: (counts[i] - shares[i], i))
    while missing:
        for index in by_remainder:
            if missing and counts[index] < capacities[index]:
                counts[index] += 1
                missing -= 1
    plan.kpis[:] = [
        PlannedKpi(**{**kpi.__dict__, "series": Series(**{**kpi.series.__dict__, "count": count})})
        for kpi, count in zip(plan.kpis, counts, strict=True)
    ]


def series_days_and_progress(series: Series) -> tuple[np.ndarray, np.ndarray]:
    """Each reading's day (a date ordinal) and its progress, oldest first.

    ``count`` distinct days spread evenly from first_on to last_on, the last on last_on.
    numpy, because it is a million values: in plain Python the readings alone took longer
    than writing them.
    """
    count = series.count
    if count == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    tail = np.asarray(series.tail[-count:], dtype=float)
    early = count - len(tail)
    time_share = np.arange(1, early + 1) / (early + 1)
    noise = np.random.default_rng(series.seed).normal(0.0, series.noise, early)
    progress = np.concatenate([series.reach * (1 - (1 - time_share) ** 2) + noise, tail])
    if count == 1:
        return np.array([series.last_on.toordinal()]), progress
    step = (series.capacity - 1) / (count - 1)
    return series.first_on.toordinal() + np.rint(np.arange(count) * step).astype(np.int64), progress


def kpi_readings(kpi: PlannedKpi) -> list[tuple[dt.date, float]]:
    """The KPI's readings as (date, value), oldest first."""
    days, values = _days_and_values(kpi)
    return [(dt.date.fromordinal(day), value) for day, value in zip(days.tolist(), values.tolist(), strict=True)]


def _days_and_values(kpi: PlannedKpi) -> tuple[np.ndarray, np.ndarray]:
    days, progress = series_days_and_progress(kpi.series)
    start = kpi.reference if kpi.baseline is None else kpi.baseline
    return days, np.round(start + progress * (kpi.target - start), 2)


def _plan_criteria(plan: Plan, rng: random.Random, pilot_index: int, pilot: PlannedPilot, kpis: list[int]) -> None:
    if rng.random() < NO_KILL_CRITERIA_SHARE[pilot.phase]:
        return
    for number in range(1, rng.randint(1, 3) + 1):
        evaluate_on = pilot.started_on + dt.timedelta(days=rng.choice([90, 120, 180, 270, 365]))
        if not kpis or rng.random() >= MEASURABLE_CRITERION_SHARE:
            plan.criteria.append(
                PlannedCriterion(
                    pilot=pilot_index,
                    key=f"criterion-{number}",
                    description="Stop if the business owner cannot name the process that would adopt the tool.",
                    kpi=None,
                    comparator=None,
                    threshold=None,
                    evaluate_on=evaluate_on,
                )
            )
            continue
        kpi_index = rng.choice(kpis)
        kpi = plan.kpis[kpi_index]
        latest = kpi.series.tail[-1] if kpi.series.count else None
        # In progress terms a criterion is met when the latest reading falls below its
        # threshold: "below" a value for a KPI that should rise, "above" one that should fall.
        if latest is not None and rng.random() < CRITERION_MET_SHARE:
            threshold_progress = latest + 0.05
            evaluate_on = min(evaluate_on, plan.as_of)
        else:
            threshold_progress = rng.uniform(-0.9, -0.5)
        comparator = Comparator.BELOW if kpi.direction == Direction.INCREASE else Comparator.ABOVE
        threshold = kpi.value_at(threshold_progress)
        plan.criteria.append(
            PlannedCriterion(
                pilot=pilot_index,
                key=f"criterion-{number}",
                description=f"Stop if {kpi.name.lower()} is {comparator} {threshold:g} {kpi.unit}".rstrip(),
                kpi=kpi_index,
                comparator=comparator,
                threshold=threshold,
                evaluate_on=evaluate_on,
            )
        )


def _plan_checkins(plan: Plan, rng: random.Random, pilot_index: int, pilot: PlannedPilot, story: _Story) -> None:
    if pilot.sponsor is None or story.checkins_end_on is None:
        return
    every = rng.randint(21, 45)
    on = pilot.started_on + dt.timedelta(days=rng.randint(7, 21))
    while on <= story.checkins_end_on:
        confidence = rng.choices(
            [Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW],
            weights=[2, 5, 3] if pilot.status == Status.KILLED else [5, 4, 1],
        )[0]
        note = "" if rng.random() < 0.7 else f"Reviewed progress with the owner; confidence {confidence}."
        plan.checkins.append(PlannedCheckIn(pilot_index, pilot.sponsor, on, confidence, note))
        on += dt.timedelta(days=every)


# Writing: COPY into PostgreSQL.


def generate_portfolio(
    *,
    pilots: int = 2000,
    kpis: int = 10_000,
    readings: int = 1_000_000,
    as_of: dt.date,
    seed: int = 1,
    executives: int = 20,
) -> GeneratedPortfolio:
    """Plan the portfolio and write it into the current (PostgreSQL) database in one transaction."""
    if connection.vendor != "postgresql":
        raise RuntimeError(f"The benchmark generator writes with PostgreSQL's COPY, not {connection.vendor}.")
    started = time.perf_counter()
    plan = plan_portfolio(pilots=pilots, kpis=kpis, readings=readings, as_of=as_of, seed=seed, executives=executives)
    with transaction.atomic():
        counts = _write(plan)
    samples = _sample_pilot_keys(plan)
    executive = next(user.username for user in plan.users if user.group == EXECUTIVES) if executives else ""
    return GeneratedPortfolio(
        as_of=as_of,
        seconds=time.perf_counter() - started,
        counts=counts,
        sample_pilot_keys=samples,
        executive_username=executive,
    )


def _sample_pilot_keys(plan: Plan, count: int = 5) -> list[str]:
    """Active pilots with the most KPIs: the heaviest pilot pages of the portfolio."""
    kpis_per_pilot = Counter(kpi.pilot for kpi in plan.kpis)
    active = [index for index, pilot in enumerate(plan.pilots) if pilot.status == Status.ACTIVE]
    active.sort(key=lambda index: (-kpis_per_pilot[index], index))
    return [plan.pilots[index].key for index in active[:count]]


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` fresh primary keys from the table's own sequence, so COPY can write the rows with them."""
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy(model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """COPY ``rows`` into the model's table; ``names`` are field attnames (``owner_id``)."""
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in names)
    table = connection.ops.quote_name(model._meta.db_table)
    written = 0
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def _copy_lines(model: type[models.Model], names: Sequence[str], lines: Iterable[str], batch: int = 20_000) -> int:
    """COPY ready-made lines of text: for a million readings, adapting each value in psycopg is the bottleneck."""
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in names)
    table = connection.ops.quote_name(model._meta.db_table)
    written = 0
    pending: list[str] = []
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for line in lines:
            pending.append(line)
            if len(pending) == batch:
                copy.write("".join(pending))
                written += len(pending)
                pending.clear()
        copy.write("".join(pending))
    return written + len(pending)


@contextmanager
def _bulk_load(model: type[models.Model]) -> Iterator[None]:
    """Drop the table's indexes and foreign keys, and put them back after the load, as pg_restore does.

    Maintaining two indexes and queueing two deferred foreign-key checks per row cost more
    than the COPY itself; building each index once and checking each key in one join is
    several times faster. Inside the caller's transaction, so a failed load leaves nothing.
    """
    table = model._meta.db_table
    quoted = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        # Django's foreign keys are deferred: the checks queued by the rows written so far
        # (KPIs) must run before a table they touch can be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY contype DESC, conname",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) ORDER BY i.relname",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _, _ in constraints:
            cursor.execute(f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        # Unique constraints (their index) first, then the foreign keys, each checked in one pass.
        for name, definition, _ in constraints:
            cursor.execute(f"ALTER TABLE {quoted} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


USER_COLUMNS = (
    "id",
    "password",
    "is_superuser",
    "username",
    "first_name",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
)
PILOT_COLUMNS = (
    "id",
    "key",
    "name",
    "business_unit_id",
    "problem",
    "outcome",
    "owner_id",
    "sponsor_id",
    "phase",
    "status",
    "started_on",
    "phase_entered_on",
    "next_review_on",
    "budget",
    "spent",
    "created_at",
    "updated_at",
    "version",
)
KPI_COLUMNS = (
    "id",
    "pilot_id",
    "key",
    "name",
    "unit",
    "direction",
    "baseline",
    "baseline_on",
    "target",
    "target_on",
    "version",
)
READING_COLUMNS = ("kpi_id", "measured_on", "value", "note", "recorded_by_id", "source", "recorded_at")
CRITERION_COLUMNS = (
    "id",
    "pilot_id",
    "key",
    "description",
    "kpi_id",
    "comparator",
    "threshold",
    "evaluate_on",
    "version",
)
CHECKIN_COLUMNS = ("pilot_id", "sponsor_id", "on", "confidence", "note", "created_at")


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)


def _write(plan: Plan) -> dict[str, int]:
    user_model = get_user_model()
    user_ids = _reserve_ids(user_model, len(plan.users))
    password = make_password(BENCH_PASSWORD)
    joined = _at(plan.as_of - dt.timedelta(days=1600), 9)
    user_rows = [
        (
            user_id,
            password,
            False,
            user.username,
            user.first_name,
            user.last_name,
            f"{user.username}@{EMAIL_DOMAIN}",
            user.group == PORTFOLIO_OFFICE,
            user.active,
            joined,
        )
        for user_id, user in zip(user_ids, plan.users, strict=True)
    ]
    counts = {"people": _copy(user_model, USER_COLUMNS, user_rows)}
    groups = {name: Group.objects.get_or_create(name=name)[0].pk for name in (EXECUTIVES, PORTFOLIO_OFFICE)}
    memberships = [(uid, groups[user.group]) for uid, user in zip(user_ids, plan.users, strict=True) if user.group]
    _copy(user_model.groups.through, ("user_id", "group_id"), memberships)

    units = {name: BusinessUnit.objects.get_or_create(name=name)[0].pk for name in BUSINESS_UNITS}
    pilot_ids = _reserve_ids(Pilot, len(plan.pilots))
    pilot_rows = [
        (
            pilot_id,
            pilot.key,
            pilot.name,
            units[pilot.business_unit],
            pilot.problem,
            pilot.outcome,
            None if pilot.owner is None else user_ids[pilot.owner],
            None if pilot.sponsor is None else user_ids[pilot.sponsor],
            pilot.phase,
            pilot.status,
            pilot.started_on,
            pilot.phase_entered_on,
            pilot.next_review_on,
            pilot.budget,
            pilot.spent,
            _at(pilot.started_on, 9),
            _at(pilot.started_on, 9),
            1,
        )
        for pilot_id, pilot in zip(pilot_ids, plan.pilots, strict=True)
    ]
    counts["pilots"] = _copy(Pilot, PILOT_COLUMNS, pilot_rows)
    _copy_created_history(Pilot, PILOT_COLUMNS, pilot_rows, [pilot.started_on for pilot in plan.pilots])

    kpi_ids = _reserve_ids(Kpi, len(plan.kpis))
    kpi_rows = [
        (
            kpi_id,
            pilot_ids[kpi.pilot],
            kpi.key,
            kpi.name,
            kpi.unit,
            kpi.direction,
            kpi.baseline,
            kpi.baseline_on,
            kpi.target,
            kpi.target_on,
            1,
        )
        for kpi_id, kpi in zip(kpi_ids, plan.kpis, strict=True)
    ]
    counts["KPIs"] = _copy(Kpi, KPI_COLUMNS, kpi_rows)
    _copy_created_history(Kpi, KPI_COLUMNS, kpi_rows, [plan.pilots[kpi.pilot].started_on for kpi in plan.kpis])

    with _bulk_load(KpiReading):
        counts["readings"] = _copy_lines(KpiReading, READING_COLUMNS, _reading_lines(plan, kpi_ids, user_ids))

    criterion_ids = _reserve_ids(KillCriterion, len(plan.criteria))
    criterion_rows = [
        (
            criterion_id,
            pilot_ids[criterion.pilot],
            criterion.key,
            criterion.description,
            None if criterion.kpi is None else kpi_ids[criterion.kpi],
            criterion.comparator,
            criterion.threshold,
            criterion.evaluate_on,
            1,
        )
        for criterion_id, criterion in zip(criterion_ids, plan.criteria, strict=True)
    ]
    counts["kill criteria"] = _copy(KillCriterion, CRITERION_COLUMNS, criterion_rows)
    _copy_created_history(
        KillCriterion,
        CRITERION_COLUMNS,
        criterion_rows,
        [plan.pilots[criterion.pilot].started_on for criterion in plan.criteria],
    )

    checkin_rows = (
        (pilot_ids[c.pilot], user_ids[c.sponsor], c.on, c.confidence, c.note, _at(c.on, 16)) for c in plan.checkins
    )
    counts["check-ins"] = _copy(CheckIn, CHECKIN_COLUMNS, checkin_rows)
    return counts


def _copy_created_history(
    model: type[models.Model], columns: Sequence[str], rows: list[tuple[object, ...]], created_on: list[dt.date]
) -> None:
    """simple-history's "created" record of each row: the pilot page's history starts with it."""
    history_columns = (*columns, "history_date", "history_change_reason", "history_type", "history_user_id")
    history_rows = ((*row, _at(day, 9), None, "+", None) for row, day in zip(rows, created_on, strict=True))
    _copy(model.history.model, history_columns, history_rows)


def _reading_lines(plan: Plan, kpi_ids: list[int], user_ids: list[int], chunk: int = 100_000) -> Iterator[str]:
    """Every reading as a line of COPY text, in date order across KPIs, as a live database received them."""
    if not plan.kpis:
        return
    series = [_days_and_values(kpi) for kpi in plan.kpis]
    kpi_of = np.repeat(np.arange(len(plan.kpis)), [len(days) for days, _ in series])
    days = np.concatenate([days for days, _ in series])
    values = np.concatenate([values for _, values in series])
    del series
    order = np.lexsort((kpi_of, days))
    prefixes, suffixes = [], []
    for index, kpi in enumerate(plan.kpis):
        owner = plan.pilots[kpi.pilot].owner
        recorded_by = NULL if kpi.source == Source.API or owner is None else str(user_ids[owner])
        prefixes.append(str(kpi_ids[index]))
        suffixes.append(f"\t\t{recorded_by}\t{kpi.source}\t")
    day_texts: dict[int, tuple[str, str]] = {}
    for begin in range(0, len(order), chunk):
        picked = order[begin : begin + chunk]
        for kpi, day, value in zip(
            kpi_of[picked].tolist(), days[picked].tolist(), values[picked].tolist(), strict=True
        ):
            texts = day_texts.get(day)
            if texts is None:
                date_text = dt.date.fromordinal(day).isoformat()
                texts = day_texts[day] = (f"\t{date_text}\t", f"{date_text} 17:00:00+00\n")
            yield f"{prefixes[kpi]}{texts[0]}{value!r}{suffixes[kpi]}{texts[1]}"
