"""The health scan: evaluate the rules for the portfolio and bring the open flags in line.

Set-based (DESIGN 5 and 9): the facts of every pilot are loaded in a fixed number of
queries, the pure rules of ``portfolio.health`` run in Python, and the difference with
the open flags is written in three statements, however many pilots there are.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Sequence

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from portfolio import health, webhooks
from portfolio.json_rows import rows_table
from portfolio.models import CheckIn, Flag, KillCriterion, Kpi, KpiReading, Pilot, ScanRun, Status

logger = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock that serialises scans (any 64-bit number that
# nothing else in the database uses).
SCAN_LOCK_KEY = 7_350_118_402

Subject = tuple[int, str, int | None, int | None]


def scan_portfolio(*, as_of: dt.date | None = None, pilot_ids: Sequence[int] | None = None) -> ScanRun:
    """Scan every pilot (or only ``pilot_ids``) as of ``as_of``, default today in TIME_ZONE.

    A full scan is recorded as a ScanRun, failed ones with their error. A per-pilot
    rescan returns an unsaved ScanRun with its counts: the monitor (dashboard,
    /healthz) watches the periodic scan, and a stream of rescans after user writes
    must not make a dead beat look alive.
    """
    as_of = as_of or timezone.localdate()
    pilot_ids = None if pilot_ids is None else list(pilot_ids)
    run = ScanRun(as_of=as_of, started_at=timezone.now())
    recorded = pilot_ids is None
    if recorded:
        run.save()
    try:
        with transaction.atomic():
            _serialise_scans()
            facts = load_facts(as_of=as_of, pilot_ids=pilot_ids)
            findings = {pilot.id: health.evaluate(pilot, as_of, settings.HEALTH_THRESHOLDS) for pilot in facts}
            raised, resolved = _sync_flags(findings, pilot_ids=pilot_ids)
            run.flags_raised, run.flags_resolved = len(raised), len(resolved)
            # Announced only if this transaction commits: a scan that fails and retries
            # must not tell a chat channel about flags that were never raised.
            webhooks.flags_changed_after_commit(raised_ids=raised, resolved_ids=resolved)
            run.pilots_scanned = len(facts)
    except Exception as exc:
        run.finished_at = timezone.now()
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        if recorded:
            _save_failed_run(run)
        raise
    run.finished_at = timezone.now()
    if recorded:
        run.save(update_fields=["finished_at", "pilots_scanned", "flags_raised", "flags_resolved"])
    return run


def _save_failed_run(run: ScanRun) -> None:
    try:
        run.save(update_fields=["finished_at", "error"])
    except DatabaseError:
        # The database may be what failed; the original error is what matters.
        logger.exception("Could not record the failure of scan run %s", run.pk)


def _serialise_scans() -> None:
    # Two scans at once (two beats, a manual run, a rescan after a write) must not
    # both insert the same flag. SQLite already serialises writers (BEGIN IMMEDIATE);
    # on PostgreSQL the lock is held until the transaction ends, and the facts and
    # the open flags are read after taking it, so a later scan sees an earlier one's
    # flags. The unique index on open flags stays the last line of defence.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SCAN_LOCK_KEY])


def _live_pilots(path: str, pilot_ids: Sequence[int] | None) -> Q:
    # Killed pilots get no findings, so their KPIs, readings and check-ins are not loaded.
    condition = Q(**{f"{path}status__in": [Status.ACTIVE, Status.ON_HOLD]})
    if pilot_ids is not None:
        condition &= Q(**{f"{path}id__in": pilot_ids})
    return condition


def load_facts(*, as_of: dt.date, pilot_ids: Sequence[int] | None = None) -> list[health.PilotFacts]:
    """The facts the rules need, for every pilot or the given ones, in five queries."""
    pilots = Pilot.objects.all() if pilot_ids is None else Pilot.objects.filter(id__in=pilot_ids)
    live = _live_pilots("pilot__", pilot_ids)

    readings: dict[int, list[health.Reading]] = defaultdict(list)
    latest_three = (
        KpiReading.objects.filter(measured_on__lte=as_of)
        .filter(_live_pilots("kpi__pilot__", pilot_ids))
        .annotate(position=Window(RowNumber(), partition_by=[F("kpi_id")], order_by=[F("measured_on").desc()]))
        .filter(position__lte=3)
        .order_by("kpi_id", "-measured_on")
        .values_list("kpi_id", "measured_on", "value")
    )
    for kpi_id, measured_on, value in latest_three:
        readings[kpi_id].append(health.Reading(measured_on, value))

    kpis: dict[int, list[health.KpiFacts]] = defaultdict(list)
    for row in (
        Kpi.objects.filter(live)
        .order_by("id")
        .values("id", "pilot_id", "key", "name", "unit", "direction", "baseline", "target")
    ):
        pilot_id = row.pop("pilot_id")
        kpis[pilot_id].append(health.KpiFacts(**row, last_readings=tuple(readings.get(row["id"], ()))))

    criteria: dict[int, list[health.KillCriterionFacts]] = defaultdict(list)
    for row in (
        KillCriterion.objects.filter(live)
        .order_by("id")
        .values("id", "pilot_id", "key", "description", "kpi_id", "comparator", "threshold", "evaluate_on")
    ):
        pilot_id = row.pop("pilot_id")
        criteria[pilot_id].append(health.KillCriterionFacts(**row))

    latest_checkins = dict(
        CheckIn.objects.filter(live, on__lte=as_of)
        .order_by()
        .values("pilot_id")
        .annotate(latest=Max("on"))
        .values_list("pilot_id", "latest")
    )

    facts = []
    for row in pilots.order_by("id").values(
        "id",
        "key",
        "status",
        "phase",
        "started_on",
        "phase_entered_on",
        "next_review_on",
        "owner_id",
        "owner__is_active",
        "sponsor_id",
        "sponsor__is_active",
    ):
        facts.append(
            health.PilotFacts(
                id=row["id"],
                key=row["key"],
                status=row["status"],
                phase=row["phase"],
                started_on=row["started_on"],
                phase_entered_on=row["phase_entered_on"],
                next_review_on=row["next_review_on"],
                owner_id=row["owner_id"],
                owner_active=bool(row["owner__is_active"]),
                sponsor_id=row["sponsor_id"],
                sponsor_active=bool(row["sponsor__is_active"]),
                latest_checkin_on=latest_checkins.get(row["id"]),
                kpis=tuple(kpis.get(row["id"], ())),
                kill_criteria=tuple(criteria.get(row["id"], ())),
            )
        )
    return facts


def _sync_flags(
    findings: dict[int, list[health.Finding]], *, pilot_ids: list[int] | None
) -> tuple[list[int], list[int]]:
    """Raise, keep and resolve flags so the open ones are exactly ``findings``; the ids (raised, resolved)."""
    open_flags = Flag.objects.filter(resolved_at__isnull=True).order_by()
    if pilot_ids is not None:
        # A per-pilot rescan must leave every other pilot's flags alone.
        open_flags = open_flags.filter(pilot_id__in=pilot_ids)
    open_ids: dict[Subject, int] = {
        (pilot_id, kind, kpi_id, kill_criterion_id): flag_id
        for flag_id, pilot_id, kind, kpi_id, kill_criterion_id in open_flags.values_list(
            "id", "pilot_id", "kind", "kpi_id", "kill_criterion_id"
        )
    }
    wanted: dict[Subject, health.Finding] = {
        (pilot_id, *finding.subject): finding for pilot_id, found in findings.items() for finding in found
    }

    now = timezone.now()
    kept = [{"id": open_ids[subject], "detail": wanted[subject].detail} for subject in wanted if subject in open_ids]
    new = [
        {
            "pilot_id": subject[0],
            "kind": str(finding.kind),
            "kpi_id": finding.kpi_id,
            "kill_criterion_id": finding.kill_criterion_id,
            "severity": str(finding.severity),
            "detail": finding.detail,
        }
        for subject, finding in wanted.items()
        if subject not in open_ids
    ]
    gone = [{"id": flag_id} for subject, flag_id in open_ids.items() if subject not in wanted]

    resolved = _execute_with_rows(
        "UPDATE {table} SET resolved_at = %s WHERE resolved_at IS NULL AND id IN (SELECT j.id FROM {rows}) "
        "RETURNING id",
        [now],
        gone,
        {"id": "bigint"},
        returning=True,
    )
    _execute_with_rows(
        "UPDATE {table} SET last_seen_at = %s, detail = j.detail FROM {rows} "
        "WHERE {table}.id = j.id AND {table}.resolved_at IS NULL",
        [now],
        kept,
        {"id": "bigint", "detail": "text"},
    )
    # ON CONFLICT DO NOTHING: should a flag slip past the lock, the partial unique
    # index on open flags turns the duplicate into a no-op instead of an error.
    raised = _execute_with_rows(
        "INSERT INTO {table} (pilot_id, kind, kpi_id, kill_criterion_id, severity, detail, raised_at, last_seen_at) "
        "SELECT j.pilot_id, j.kind, j.kpi_id, j.kill_criterion_id, j.severity, j.detail, %s, %s "
        "FROM {rows} WHERE true ON CONFLICT DO NOTHING RETURNING id",
        [now, now],
        new,
        {
            "pilot_id": "bigint",
            "kind": "text",
            "kpi_id": "bigint",
            "kill_criterion_id": "bigint",
            "severity": "text",
            "detail": "text",
        },
        returning=True,
    )
    return raised, resolved


def _execute_with_rows(
    statement: str,
    leading_params: list[dt.datetime],
    rows: list[dict],
    columns: dict[str, str],
    *,
    returning: bool = False,
) -> int | list[int]:
    """Run ``statement`` with ``rows`` as the table ``j``; the number of rows changed, or the ids it returns.

    With ``returning`` the statement ends in ``RETURNING id`` and the ids are given back:
    the webhooks announce exactly the flags this scan raised and resolved.

    The rows travel as one JSON parameter (``portfolio.json_rows``), so a statement stays
    one query whether it touches ten flags or ten thousand. It runs even with no rows,
    so every scan issues the same statements.
    """
    sql = statement.format(table=connection.ops.quote_name(Flag._meta.db_table), rows=rows_table(columns))
    params = [connection.ops.adapt_datetimefield_value(value) for value in leading_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, json.dumps(rows)])
        if returning:
            return [row[0] for row in cursor.fetchall()]
        return cursor.rowcount
