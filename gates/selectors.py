"""Reads of the phase gates: readiness facts for many pilots at once, reviews, timelines.

Set-based like the health scan (DESIGN 5 and 9): the facts of any number of pilots load
in a fixed number of queries, and the pure rules of ``gates.readiness`` run in Python.
``gate_blockers``, ``gate_decisions`` and ``gate_overrides`` are what ``portfolio``
reads through ``portfolio.extensions`` (registered in ``GatesConfig.ready``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Lookup, Max, Min, Prefetch, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from gates import readiness
from gates.models import Attestation, Decision, GateCriterion, GateReview, GateReviewItem
from portfolio.extensions import GateDecision
from portfolio.health import Reading
from portfolio.models import PHASE_ORDER, CheckIn, Flag, KillCriterion, Kpi, KpiReading, Phase, Pilot, Severity, Status


def _person_name(first: str | None, last: str | None, username: str | None) -> str | None:
    if username is None:
        return None
    return f"{first or ''} {last or ''}".strip() or username


def active_criteria(gates: Iterable[str] | None = None) -> dict[str, list[readiness.Criterion]]:
    """The active criteria of each gate (or of the given ones), in their order (one query)."""
    rows = GateCriterion.objects.filter(active=True).order_by("gate", "order", "id")
    if gates is not None:
        rows = rows.filter(gate__in=list(gates))
    by_gate: dict[str, list[readiness.Criterion]] = defaultdict(list)
    for row in rows.values("id", "gate", "code", "label", "kind", "rule", "order", "help_text"):
        gate = row.pop("gate")
        by_gate[gate].append(readiness.Criterion(**row))
    return by_gate


class _AmongIds(Lookup):
    """``column = ANY(ids)`` with the ids as one parameter.

    The dashboard asks for thousands of pilots: an ``IN (%s, %s, ...)`` list that long
    costs more to build and parse than the query costs to run.
    """

    lookup_name = "among_ids"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        return [int(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            # As an array literal in text: psycopg adapts a list element by element in Python.
            return f"{lhs} = ANY(%s::bigint[])", [*params, _array_literal(self.rhs)]
        # The left side is the compiled column, never input.
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*params, json.dumps(self.rhs)]  # noqa: S608


def _array_literal(ids: Iterable[int]) -> str:
    return "{" + ",".join(map(str, ids)) + "}"


def among(column: str, ids: Iterable[int]) -> _AmongIds:
    return _AmongIds(F(column), list(ids))


# The columns the rules read, in the order the loops below unpack them.
_PILOT_COLUMNS = (
    "id",
    "phase",
    "status",
    "problem",
    "outcome",
    "owner__username",
    "owner__first_name",
    "owner__last_name",
    "owner__is_active",
    "sponsor__username",
    "sponsor__first_name",
    "sponsor__last_name",
    "sponsor__is_active",
)
_KPI_COLUMNS = ("id", "pilot_id", "name", "unit", "direction", "baseline", "baseline_on", "target")


def readiness_facts(
    pilot_ids: Iterable[int],
    *,
    as_of: dt.date,
    needs_readings: Callable[[str, str], bool] | None = None,
    gated_only: bool = False,
) -> dict[int, readiness.PilotFacts]:
    """The facts of the given pilots as of a date, in eight queries whatever their number.

    Only readings, check-ins and attestations dated on or before ``as_of`` count.
    Readings are loaded for the pilots whose (phase, status) ``needs_readings`` accepts
    (default: all): only two rules need them and they are by far the biggest table.
    ``gated_only`` leaves out the pilots with no gate ahead (killed, or scaled).
    """
    return {
        facts.id: facts
        for facts in iter_readiness_facts(pilot_ids, as_of=as_of, needs_readings=needs_readings, gated_only=gated_only)
    }


def iter_readiness_facts(
    pilot_ids: Iterable[int],
    *,
    as_of: dt.date,
    needs_readings: Callable[[str, str], bool] | None = None,
    gated_only: bool = False,
) -> Iterator[readiness.PilotFacts]:
    """``readiness_facts`` one pilot at a time, in the order of their ids (the queries all run first).

    For a caller that keeps only a verdict per pilot (the dashboard's blockers), each
    pilot's facts go as soon as they are judged: thousands of facts alive at once are
    promoted through the garbage collector's generations until a full collection of
    the whole process runs, which at the dashboard's size cost more than the queries.
    Rows are read as tuples, not dicts, and the facts built from them positionally.
    """
    pilot_rows = list(Pilot.objects.filter(among("id", pilot_ids)).order_by("id").values_list(*_PILOT_COLUMNS))
    if gated_only:
        pilot_rows = [row for row in pilot_rows if readiness.next_gate(row[1], row[2]) is not None]
    ids = [row[0] for row in pilot_rows]
    reading_pilots = [row[0] for row in pilot_rows if needs_readings is None or needs_readings(row[1], row[2])]

    kpi_rows: dict[int, list[tuple]] = defaultdict(list)
    for row in Kpi.objects.filter(among("pilot_id", ids)).order_by("pilot_id", "id").values_list(*_KPI_COLUMNS):
        kpi_rows[row[1]].append(row)
    readings = _last_readings([row[0] for pilot_id in reading_pilots for row in kpi_rows.get(pilot_id, ())], as_of)
    kill_criteria = dict(
        KillCriterion.objects.filter(among("pilot_id", ids))
        .order_by()
        .values("pilot_id")
        .annotate(count=Count("id"))
        .values_list("pilot_id", "count")
    )
    latest_checkins = dict(
        CheckIn.objects.filter(among("pilot_id", ids), on__lte=as_of)
        .order_by()
        .values("pilot_id")
        .annotate(latest=Max("on"))
        .values_list("pilot_id", "latest")
    )
    critical_flags: dict[int, list[str]] = defaultdict(list)
    for pilot_id, detail in (
        Flag.objects.filter(among("pilot_id", ids), resolved_at__isnull=True, severity=Severity.CRITICAL)
        .order_by("pilot_id", "kind", "id")
        .values_list("pilot_id", "detail")
    ):
        critical_flags[pilot_id].append(detail)
    evidence = _latest_evidence(ids, as_of)

    for (
        pilot_id,
        phase,
        status,
        problem,
        outcome,
        owner,
        owner_first,
        owner_last,
        owner_active,
        sponsor,
        sponsor_first,
        sponsor_last,
        sponsor_active,
    ) in pilot_rows:
        yield readiness.PilotFacts(
            id=pilot_id,
            phase=phase,
            status=status,
            problem=problem,
            outcome=outcome,
            owner_name=_person_name(owner_first, owner_last, owner),
            owner_active=bool(owner_active),
            sponsor_name=_person_name(sponsor_first, sponsor_last, sponsor),
            sponsor_active=bool(sponsor_active),
            kpis=tuple(_kpi_facts(row, readings.get(row[0], ())) for row in kpi_rows.get(pilot_id, ())),
            kill_criteria_count=kill_criteria.get(pilot_id, 0),
            latest_checkin_on=latest_checkins.get(pilot_id),
            critical_flags=tuple(critical_flags.get(pilot_id, ())),
            evidence=evidence.get(pilot_id, {}),
        )


ReadingRow = tuple[int, dt.date, float]  # kpi_id, measured_on, value


def _last_readings(kpi_ids: Sequence[int], as_of: dt.date) -> dict[int, tuple[ReadingRow, ...]]:
    """The last three readings on or before ``as_of`` of each KPI, newest first (one query).

    As the rows the database sends: ``_kpi_facts`` makes the ``Reading`` objects one pilot
    at a time (see ``iter_readiness_facts``), while plain tuples of dates and numbers drop
    out of what the garbage collector tracks.
    """
    if not kpi_ids:
        return {}
    if connection.vendor == "postgresql":
        # A lateral join reads three rows per KPI through the (kpi_id, measured_on)
        # index; the window function of the SQLite branch would sort every reading of
        # the portfolio, which the dashboard cannot afford with a million of them.
        table = connection.ops.quote_name(KpiReading._meta.db_table)
        # The table name comes from the model, never from input.
        sql = (
            "SELECT k.id, r.measured_on, r.value FROM unnest(%s::bigint[]) AS k(id) "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT measured_on, value FROM {table} "
            "WHERE kpi_id = k.id AND measured_on <= %s ORDER BY measured_on DESC LIMIT 3) AS r "
            # Grouped by KPI, newest first, whatever plan runs it (a sort of a few thousand rows).
            "ORDER BY k.id, r.measured_on DESC"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # Thousands of cheap index probes look expensive to the planner, whose
            # just-in-time compilation would then cost more than the query itself.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(sql, [_array_literal(kpi_ids), as_of])
            rows = cursor.fetchall()
    else:
        rows = (
            KpiReading.objects.filter(among("kpi_id", kpi_ids), measured_on__lte=as_of)
            .annotate(position=Window(RowNumber(), partition_by=[F("kpi_id")], order_by=[F("measured_on").desc()]))
            .filter(position__lte=readiness.READINGS_COUNTED)
            .order_by("kpi_id", "-measured_on")
            .values_list("kpi_id", "measured_on", "value")
        )
    return {kpi_id: tuple(listed) for kpi_id, listed in groupby(rows, key=itemgetter(0))}


def _kpi_facts(row: tuple, readings: Sequence[ReadingRow]) -> readiness.KpiFacts:
    """A KPI's facts from its row (``_KPI_COLUMNS``) and its last readings' rows."""
    kpi_id, _, name, unit, direction, baseline, baseline_on, target = row
    last_readings = tuple([Reading(measured_on, value) for _, measured_on, value in readings]) if readings else ()
    return readiness.KpiFacts(kpi_id, name, unit, direction, baseline, baseline_on, target, last_readings)


def _latest_evidence(pilot_ids: Sequence[int], as_of: dt.date) -> dict[int, dict[int, readiness.Evidence]]:
    """The latest attestation on or before ``as_of`` per (pilot, criterion) (one query)."""
    attestations = Attestation.objects.filter(among("pilot_id", pilot_ids), attested_on__lte=as_of)
    if connection.features.can_distinct_on_fields:
        # PostgreSQL: the first row of each (pilot, criterion) in one sorted pass. Numbering
        # every attestation with the window function below took 35 ms where this takes
        # 21 (4,000 latest of 12,000 attestations).
        attestations = attestations.order_by("pilot_id", "criterion_id", "-attested_on", "-id").distinct(
            "pilot_id", "criterion_id"
        )
    else:
        attestations = attestations.annotate(
            position=Window(
                RowNumber(),
                partition_by=[F("pilot_id"), F("criterion_id")],
                order_by=[F("attested_on").desc(), F("id").desc()],
            )
        ).filter(position=1)
    rows = attestations.values_list(
        "pilot_id",
        "criterion_id",
        "attested_on",
        "evidence",
        "attested_by__username",
        "attested_by__first_name",
        "attested_by__last_name",
    )
    evidence: dict[int, dict[int, readiness.Evidence]] = defaultdict(dict)
    for pilot_id, criterion_id, attested_on, text, username, first, last in rows:
        evidence[pilot_id][criterion_id] = readiness.Evidence(
            attested_on=attested_on, attested_by=_person_name(first, last, username) or "", text=text
        )
    return evidence


# -- readiness of pilots ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GateReadiness:
    """A pilot's next gate and the state of each of its active criteria."""

    gate: str  # the phase the gate leaves
    from_phase: str
    to_phase: str
    states: list[readiness.CriterionState]

    @property
    def label(self) -> str:
        return GATE_LABELS[self.gate]

    @property
    def met_count(self) -> int:
        return sum(1 for state in self.states if state.met)

    @property
    def unmet(self) -> list[readiness.CriterionState]:
        return [state for state in self.states if not state.met]

    @property
    def is_ready(self) -> bool:
        return not self.unmet


GATE_LABELS = {
    Phase.POC: "Pilot approval",
    Phase.PILOT: "Production readiness",
    Phase.PRODUCTION: "Scale decision",
}


def _valid_days() -> int:
    return settings.ATTESTATION_VALID_DAYS


def pilot_readiness(pilot: Pilot, *, as_of: dt.date | None = None) -> GateReadiness | None:
    """The readiness of the pilot's next gate, or None when no gate is ahead (killed, or scaled)."""
    as_of = as_of or timezone.localdate()
    gate = readiness.next_gate(pilot.phase, pilot.status)
    if gate is None:
        return None
    criteria = active_criteria([gate]).get(gate, [])
    facts = readiness_facts([pilot.pk], as_of=as_of)[pilot.pk]
    states = readiness.readiness(facts, criteria, as_of, valid_days=_valid_days())
    return GateReadiness(gate=gate, from_phase=gate, to_phase=_after(gate), states=states)


def _after(phase: str) -> str:
    return PHASE_ORDER[PHASE_ORDER.index(phase) + 1]


def gate_blockers(pilot_ids: Iterable[int], as_of: dt.date) -> dict[int, list[str]]:
    """For each given pilot with a gate ahead, the labels of its next gate's unmet criteria.

    Eight queries whatever the number of pilots (the dashboard asks for thousands),
    and on PostgreSQL the statement that turns JIT off for the readings. Killed and
    fully scaled pilots have no gate ahead and are left out.
    """
    criteria = active_criteria()
    reading_gates = {
        gate for gate, listed in criteria.items() if any(c.rule in readiness.READING_RULES for c in listed)
    }
    valid_days = _valid_days()
    blockers = {}
    for pilot in iter_readiness_facts(
        pilot_ids,
        as_of=as_of,
        needs_readings=lambda phase, status: readiness.next_gate(phase, status) in reading_gates,
        gated_only=True,
    ):
        gate = readiness.next_gate(pilot.phase, pilot.status)
        states = readiness.readiness(pilot, criteria.get(gate, []), as_of, valid_days=valid_days)
        blockers[pilot.id] = readiness.unmet_labels(states)
    return blockers


# -- decisions ---------------------------------------------------------------------------------------


def gate_decisions(since: dt.date, until: dt.date) -> list[GateDecision]:
    """Gate decisions recorded with ``decided_on`` in [since, until], oldest first (one query)."""
    reviews = (
        GateReview.objects.filter(decided_on__gte=since, decided_on__lte=until)
        .select_related("pilot", "decided_by")
        .order_by("decided_on", "id")
    )
    return [
        GateDecision(
            pilot_id=review.pilot_id,
            pilot_key=review.pilot.key,
            pilot_name=review.pilot.name,
            from_phase=review.from_phase,
            to_phase=review.to_phase,
            decision=review.decision,
            decided_by=_display(review.decided_by),
            decided_on=review.decided_on,
            override_justification=review.override_justification,
        )
        for review in reviews
    ]


def gate_overrides() -> set[int]:
    """Ids of the pilots whose latest advance was an override (one query)."""
    latest_advances = (
        GateReview.objects.filter(decision=Decision.ADVANCE)
        .annotate(
            position=Window(
                RowNumber(), partition_by=[F("pilot_id")], order_by=[F("decided_on").desc(), F("id").desc()]
            )
        )
        .filter(position=1)
        .values_list("pilot_id", "override_justification")
    )
    return {pilot_id for pilot_id, justification in latest_advances if justification}


def _display(user: object | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()  # type: ignore[attr-defined]


def pilot_reviews(pilot: Pilot) -> QuerySet[GateReview]:
    """The pilot's gate reviews, newest first, with who decided and each one's snapshot (two queries)."""
    return (
        GateReview.objects.filter(pilot=pilot)
        .select_related("decided_by")
        .prefetch_related(Prefetch("items", queryset=GateReviewItem.objects.order_by("order", "id")))
        .order_by("-decided_on", "-id")
    )


# -- the timeline of the pilot page -----------------------------------------------------------------


@dataclass
class TimelinePhase:
    """One phase of a pilot's life: when it was entered and left, and the reviews held in it."""

    phase: str
    label: str
    entered_on: dt.date | None = None
    left_on: dt.date | None = None
    state: str = "upcoming"  # passed | current | killed | upcoming
    days: int | None = None  # from entering to leaving, or to today for the current phase
    reviews: list[GateReview] = field(default_factory=list)


def pilot_timeline(pilot: Pilot, *, today: dt.date | None = None) -> list[TimelinePhase]:
    """Each phase with its dates and the reviews decided in it, oldest first (two queries).

    A phase starts on the advance that led into it, or else on the date the pilot's
    history shows it entering the phase (a pilot imported past a phase without its
    review); a phase with neither shows no date rather than an invented one.
    """
    today = today or timezone.localdate()
    reviews = list(GateReview.objects.filter(pilot=pilot).select_related("decided_by").order_by("decided_on", "id"))
    entered: dict[str, dt.date] = dict(
        Pilot.history.filter(id=pilot.pk)
        .order_by()
        .values("phase")
        .annotate(first=Min("phase_entered_on"))
        .values_list("phase", "first")
    )
    labels = dict(Phase.choices)
    current = PHASE_ORDER.index(pilot.phase)
    timeline = [TimelinePhase(phase=phase, label=labels[phase]) for phase in PHASE_ORDER]
    for review in reviews:
        timeline[PHASE_ORDER.index(review.from_phase)].reviews.append(review)
        if review.decision == Decision.ADVANCE:
            entered[review.to_phase] = review.decided_on
    entered[Phase.POC] = pilot.started_on
    entered[pilot.phase] = pilot.phase_entered_on
    for index, entry in enumerate(timeline[: current + 1]):
        entry.entered_on = entered.get(entry.phase)
        if index < current:
            entry.state = "passed"
            entry.left_on = entered.get(PHASE_ORDER[index + 1])
        elif pilot.status == Status.KILLED:
            entry.state = "killed"
            kills = [review for review in entry.reviews if review.decision == Decision.KILL]
            entry.left_on = kills[-1].decided_on if kills else None
        else:
            entry.state = "current"
        end = entry.left_on or (today if entry.state == "current" else None)
        if entry.entered_on is not None and end is not None:
            entry.days = (end - entry.entered_on).days
    if pilot.status == Status.KILLED:
        # Phases a killed pilot never reached are not part of its story.
        timeline = timeline[: current + 1]
    return timeline
