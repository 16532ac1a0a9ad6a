"""Writes to the portfolio: each keeps its invariants and queues the pilot's rescan after commit."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from portfolio import bulk_readings, tokens
from portfolio.goalposts import condition_problem, target_problem
from portfolio.models import (
    ApiToken,
    BusinessUnit,
    CheckIn,
    KillCriterion,
    Kpi,
    KpiReading,
    Phase,
    Pilot,
    Source,
)
from portfolio.preregistration import (
    FROZEN_KILL_CRITERION_FIELDS,
    FROZEN_KPI_FIELDS,
    ReasonRequired,
    goalposts_frozen,
)
from portfolio.reading_upload import UploadRow
from portfolio.readings import ReadingProblem, check_reading_date
from portfolio.tasks import rescan_pilot_after_commit


class ReadingExists(Exception):
    """A reading for that KPI and date exists and replacing it was not confirmed."""

    def __init__(self, existing: KpiReading) -> None:
        super().__init__(f"{existing.kpi.name} already has a reading for {existing.measured_on:%d %b %Y}")
        self.existing = existing


def reading_record(
    *,
    kpi: Kpi,
    measured_on: dt.date,
    value: float,
    note: str = "",
    recorded_by: AbstractBaseUser | None,
    source: str = Source.FORM,
    replace: bool = False,
    today: dt.date | None = None,
) -> KpiReading:
    """Record one reading; a second one for the same date replaces the first only if ``replace``.

    Submitting the same value twice for the same date (a double click) records one
    reading and is not an error. The replaced value stays in the reading's history.
    """
    check_reading_date(measured_on, started_on=kpi.pilot.started_on, today=today or timezone.localdate())
    try:
        with transaction.atomic():
            existing = KpiReading.objects.select_for_update().filter(kpi=kpi, measured_on=measured_on).first()
            if existing is None:
                reading = KpiReading(
                    kpi=kpi, measured_on=measured_on, value=value, note=note, recorded_by=recorded_by, source=source
                )
                reading.full_clean()
                reading.save()
            elif existing.value == value and existing.note == note:
                return existing
            elif not replace:
                raise ReadingExists(existing)
            else:
                existing.value, existing.note = value, note
                existing.recorded_by, existing.source, existing.recorded_at = recorded_by, source, timezone.now()
                existing.save()
                reading = existing
    except IntegrityError:
        # A concurrent submit of the same reading won the insert: treat it like the
        # double click it almost always is.
        existing = KpiReading.objects.get(kpi=kpi, measured_on=measured_on)
        if existing.value == value and existing.note == note:
            return existing
        raise ReadingExists(existing) from None
    rescan_pilot_after_commit(kpi.pilot_id)
    return reading


# -- Edits: optimistic locking and the goalpost freeze ------------------------------------------

Versioned = TypeVar("Versioned", Pilot, Kpi, KillCriterion)

# What the edit forms may change; phase and status belong to gate decisions.
PILOT_EDITABLE_FIELDS = (
    "name",
    "business_unit",
    "problem",
    "outcome",
    "owner",
    "sponsor",
    "next_review_on",
    "budget",
    "spent",
)
KPI_EDITABLE_FIELDS = ("name", "unit", "direction", "baseline", "baseline_on", "target", "target_on")
KILL_CRITERION_EDITABLE_FIELDS = ("description", "kpi", "comparator", "threshold", "evaluate_on")


class StaleEdit(Exception):
    """Someone saved the object after the form was read: the edit is refused, never merged."""

    def __init__(self, current: models.Model) -> None:
        super().__init__(f"This {current._meta.verbose_name} was changed by someone else in the meantime.")
        self.current = current


def _locked(model: type[Versioned], pk: int, version: int) -> Versioned:
    # The row lock makes the version check and the save one step: two people saving
    # the same version at once cannot both pass the check.
    current = model.objects.select_for_update().get(pk=pk)
    if current.version != version:
        raise StaleEdit(current)
    return current


def _apply(instance: models.Model, changes: Mapping[str, Any], allowed: Sequence[str]) -> list[str]:
    """Set the fields whose value differs; the names of those that changed."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    changed = []
    for name, value in changes.items():
        model_field = instance._meta.get_field(name)
        if model_field.is_relation:
            old, new = getattr(instance, model_field.attname), value.pk if value is not None else None
        else:
            old, new = getattr(instance, name), value
        if old != new:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _require_reason(pilot: Pilot, changed: Sequence[str], frozen: Sequence[str], reason: str) -> None:
    if goalposts_frozen(pilot.phase) and set(changed) & set(frozen) and not reason.strip():
        raise ReasonRequired(
            "This pilot has passed its first gate, so its goalposts are frozen: say why they change. "
            "The reason is shown on the pilot page."
        )


def _save(instance: models.Model, *, by: AbstractBaseUser | None, reason: str = "") -> None:
    instance._history_user = by
    instance._change_reason = reason.strip() or None
    instance.full_clean()
    instance.save()


def _raise_problems(problems: Mapping[str, str]) -> None:
    if problems:
        raise ValidationError(dict(problems))


def pilot_create(
    *,
    key: str,
    name: str,
    business_unit: BusinessUnit,
    started_on: dt.date,
    problem: str = "",
    outcome: str = "",
    owner: AbstractBaseUser | None = None,
    sponsor: AbstractBaseUser | None = None,
    next_review_on: dt.date | None = None,
    budget: Any = None,
    spent: Any = None,
    created_by: AbstractBaseUser | None,
) -> Pilot:
    """A new pilot in proof of concept; the portfolio office's."""
    if Pilot.objects.filter(key=key).exists():
        raise ValidationError({"key": f'A pilot with the key "{key}" exists; keys are unique.'})
    pilot = Pilot(
        key=key,
        name=name,
        business_unit=business_unit,
        problem=problem,
        outcome=outcome,
        owner=owner,
        sponsor=sponsor,
        phase=Phase.POC,
        started_on=started_on,
        phase_entered_on=started_on,
        next_review_on=next_review_on,
        budget=budget,
        spent=spent,
    )
    try:
        with transaction.atomic():
            _save(pilot, by=created_by)
    except IntegrityError:
        raise ValidationError({"key": f'A pilot with the key "{key}" was just created; keys are unique.'}) from None
    rescan_pilot_after_commit(pilot.pk)
    return pilot


@transaction.atomic
def pilot_update(
    *, pilot: Pilot, version: int, changes: Mapping[str, Any], updated_by: AbstractBaseUser | None
) -> Pilot:
    """Save the pilot's edited fields if nobody saved it since ``version``; raises StaleEdit otherwise."""
    current = _locked(Pilot, pilot.pk, version)
    changed = _apply(current, changes, PILOT_EDITABLE_FIELDS)
    if not changed:
        return current
    current.version += 1
    _save(current, by=updated_by)
    # A new owner or sponsor, or a new review date, changes the pilot's flags.
    rescan_pilot_after_commit(current.pk)
    return current


def kpi_create(
    *,
    pilot: Pilot,
    key: str,
    name: str,
    target: float,
    unit: str = "",
    direction: str = "increase",
    baseline: float | None = None,
    baseline_on: dt.date | None = None,
    target_on: dt.date | None = None,
    created_by: AbstractBaseUser | None,
    reason: str = "",
) -> Kpi:
    """A new KPI; after the first gate it is a new goalpost and needs a reason."""
    _require_reason(pilot, FROZEN_KPI_FIELDS, FROZEN_KPI_FIELDS, reason)
    problems = {}
    if Kpi.objects.filter(pilot=pilot, key=key).exists():
        problems["key"] = f'This pilot already has a KPI with the key "{key}".'
    if problem := target_problem(direction, baseline, target):
        problems["target"] = problem
    _raise_problems(problems)
    kpi = Kpi(
        pilot=pilot,
        key=key,
        name=name,
        unit=unit,
        direction=direction,
        baseline=baseline,
        baseline_on=baseline_on,
        target=target,
        target_on=target_on,
    )
    with transaction.atomic():
        _save(kpi, by=created_by, reason=reason)
    rescan_pilot_after_commit(pilot.pk)
    return kpi


@transaction.atomic
def kpi_update(
    *, kpi: Kpi, version: int, changes: Mapping[str, Any], updated_by: AbstractBaseUser | None, reason: str = ""
) -> Kpi:
    """Save a KPI's edited fields; frozen goalposts need a reason, a stale version raises StaleEdit."""
    current = _locked(Kpi, kpi.pk, version)
    changed = _apply(current, changes, KPI_EDITABLE_FIELDS)
    if not changed:
        return current
    _require_reason(kpi.pilot, changed, FROZEN_KPI_FIELDS, reason)
    _raise_problems({"target": p} if (p := target_problem(current.direction, current.baseline, current.target)) else {})
    current.version += 1
    _save(current, by=updated_by, reason=reason)
    rescan_pilot_after_commit(current.pilot_id)
    return current


def _check_condition(pilot: Pilot, kpi: Kpi | None, comparator: str | None, threshold: float | None) -> None:
    problems = condition_problem(kpi is not None, comparator, threshold)
    if kpi is not None and kpi.pilot_id != pilot.pk:
        problems["kpi"] = "Pick a KPI of this pilot."
    _raise_problems(problems)


def kill_criterion_create(
    *,
    pilot: Pilot,
    key: str,
    description: str,
    kpi: Kpi | None = None,
    comparator: str | None = None,
    threshold: float | None = None,
    evaluate_on: dt.date | None = None,
    created_by: AbstractBaseUser | None,
    reason: str = "",
) -> KillCriterion:
    """A new kill criterion; after the first gate it needs a reason."""
    _require_reason(pilot, FROZEN_KILL_CRITERION_FIELDS, FROZEN_KILL_CRITERION_FIELDS, reason)
    if KillCriterion.objects.filter(pilot=pilot, key=key).exists():
        raise ValidationError({"key": f'This pilot already has a kill criterion with the key "{key}".'})
    _check_condition(pilot, kpi, comparator, threshold)
    criterion = KillCriterion(
        pilot=pilot,
        key=key,
        description=description,
        kpi=kpi,
        comparator=comparator or None,
        threshold=threshold,
        evaluate_on=evaluate_on,
    )
    with transaction.atomic():
        _save(criterion, by=created_by, reason=reason)
    rescan_pilot_after_commit(pilot.pk)
    return criterion


@transaction.atomic
def kill_criterion_update(
    *,
    criterion: KillCriterion,
    version: int,
    changes: Mapping[str, Any],
    updated_by: AbstractBaseUser | None,
    reason: str = "",
) -> KillCriterion:
    """Save a kill criterion's edited fields; frozen ones need a reason, a stale version raises StaleEdit."""
    current = _locked(KillCriterion, criterion.pk, version)
    changes = {**changes, "comparator": changes["comparator"] or None} if "comparator" in changes else changes
    changed = _apply(current, changes, KILL_CRITERION_EDITABLE_FIELDS)
    if not changed:
        return current
    _require_reason(criterion.pilot, changed, FROZEN_KILL_CRITERION_FIELDS, reason)
    _check_condition(criterion.pilot, current.kpi, current.comparator, current.threshold)
    current.version += 1
    _save(current, by=updated_by, reason=reason)
    rescan_pilot_after_commit(current.pilot_id)
    return current


# -- Sponsor check-ins ---------------------------------------------------------------------------


def checkin_record(
    *,
    pilot: Pilot,
    sponsor: AbstractBaseUser,
    on: dt.date,
    confidence: str,
    note: str = "",
    today: dt.date | None = None,
) -> CheckIn:
    """The sponsor's check-in; the same check-in submitted twice is recorded once."""
    if pilot.sponsor_id != sponsor.pk:
        raise PermissionError("Only the pilot's sponsor records check-ins.")
    today = today or timezone.localdate()
    if on > today:
        raise ValidationError({"on": f"The date {on:%d %b %Y} is in the future; a check-in is of what you know now."})
    if on < pilot.started_on:
        started = f"{pilot.started_on:%d %b %Y}"
        raise ValidationError({"on": f"The date {on:%d %b %Y} is before the pilot started ({started})."})
    with transaction.atomic():
        # Serialises a double click on PostgreSQL (SQLite writers are serial anyway).
        Pilot.objects.select_for_update().only("id").get(pk=pilot.pk)
        same = CheckIn.objects.filter(pilot=pilot, sponsor=sponsor, on=on, confidence=confidence, note=note).first()
        if same is not None:
            return same
        checkin = CheckIn(pilot=pilot, sponsor=sponsor, on=on, confidence=confidence, note=note)
        checkin.full_clean()
        checkin.save()
    rescan_pilot_after_commit(pilot.pk)
    return checkin


# -- Readings from a CSV upload ------------------------------------------------------------------


@dataclass(frozen=True)
class ImportedReadings:
    created: int
    replaced: int
    unchanged: int


def readings_import_csv(
    *, pilot: Pilot, rows: Sequence[UploadRow], recorded_by: AbstractBaseUser | None, today: dt.date | None = None
) -> ImportedReadings:
    """Record every row of a previewed upload in one transaction, or none of them.

    The preview was the confirmation, so a row for a date that has a reading replaces
    it (the history keeps the old value). Rows must be free of problems; each is
    checked again here, as the service is the last word on what is recorded.
    """
    today = today or timezone.localdate()
    kpis = {kpi.pk: kpi for kpi in Kpi.objects.filter(pilot=pilot)}
    for row in rows:
        if row.problems or row.kpi is None or row.measured_on is None or row.value is None:
            raise ReadingProblem(f"Line {row.line} has a problem; nothing was recorded.")
        if row.kpi.id not in kpis:
            raise ReadingProblem(f'Line {row.line}: "{row.kpi_key}" is not a KPI of this pilot; nothing was recorded.')
        check_reading_date(row.measured_on, started_on=pilot.started_on, today=today)
    now = timezone.now()
    created: list[KpiReading] = []
    replaced: list[KpiReading] = []
    unchanged = 0
    with transaction.atomic():
        existing = {
            (reading.kpi_id, reading.measured_on): reading
            for reading in KpiReading.objects.select_for_update().filter(
                kpi_id__in={row.kpi.id for row in rows}, measured_on__in={row.measured_on for row in rows}
            )
        }
        for row in rows:
            reading = existing.get((row.kpi.id, row.measured_on))
            if reading is None:
                created.append(
                    KpiReading(
                        kpi=kpis[row.kpi.id],
                        measured_on=row.measured_on,
                        value=row.value,
                        note=row.note,
                        recorded_by=recorded_by,
                        source=Source.CSV,
                        recorded_at=now,
                    )
                )
            elif (reading.value, reading.note) == (row.value, row.note):
                unchanged += 1
            else:
                reading.value, reading.note = row.value, row.note
                reading.recorded_by, reading.source, reading.recorded_at = recorded_by, Source.CSV, now
                replaced.append(reading)
        # In bulk, with their history rows: 5,000 readings one by one would take seconds.
        bulk_create_with_history(
            created, KpiReading, batch_size=500, default_user=recorded_by, default_change_reason="CSV upload"
        )
        bulk_update_with_history(
            replaced,
            KpiReading,
            ["value", "note", "recorded_by", "source", "recorded_at"],
            batch_size=500,
            default_user=recorded_by,
            default_change_reason="CSV upload",
        )
    rescan_pilot_after_commit(pilot.pk)
    return ImportedReadings(created=len(created), replaced=len(replaced), unchanged=unchanged)


# -- Business units and people -------------------------------------------------------------------


def business_unit_create(*, name: str) -> BusinessUnit:
    """A new business unit; names are unique, whatever their case."""
    name = name.strip()
    if BusinessUnit.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f'There is already a business unit called "{name}".'})
    unit = BusinessUnit(name=name)
    unit.full_clean()
    unit.save()
    return unit


def business_unit_rename(*, unit: BusinessUnit, expected_name: str, name: str) -> BusinessUnit:
    """Rename a unit if it still has the name the form was read with; raises StaleEdit otherwise."""
    name = name.strip()
    if BusinessUnit.objects.filter(name__iexact=name).exclude(pk=unit.pk).exists():
        raise ValidationError({"name": f'There is already a business unit called "{name}".'})
    BusinessUnit(pk=unit.pk, name=name).full_clean(validate_unique=False)
    # Units carry no version: the name itself is compared and set in one statement.
    if not BusinessUnit.objects.filter(pk=unit.pk, name=expected_name).update(name=name):
        raise StaleEdit(BusinessUnit.objects.get(pk=unit.pk))
    return BusinessUnit.objects.get(pk=unit.pk)


def user_set_active(*, user: AbstractBaseUser, active: bool) -> None:
    """Activate or deactivate an account; the pilots it owns or sponsors are rescanned (owner_inactive...)."""
    with transaction.atomic():
        type(user).objects.filter(pk=user.pk).update(is_active=active)
        user.is_active = active
        pilots = Pilot.objects.filter(models.Q(owner=user) | models.Q(sponsor=user))
        for pilot_id in pilots.values_list("id", flat=True):
            rescan_pilot_after_commit(pilot_id)


# -- Readings in batches (the API) ---------------------------------------------------------------


@dataclass(frozen=True)
class BatchReading:
    """One reading of a batch: its KPI (with the pilot loaded), date, value and note."""

    kpi: Kpi
    measured_on: dt.date
    value: float
    note: str = ""


@dataclass(frozen=True)
class ItemProblem:
    """Why the item at ``index`` of a batch cannot be recorded."""

    index: int
    field: str
    message: str


Reason = TypeVar("Reason")


class BatchRefused(Exception, Generic[Reason]):
    """The batch is refused as a whole for ``reasons``, one per item or date at fault; nothing was recorded."""

    counted: ClassVar[str]

    def __init__(self, reasons: Sequence[Reason]) -> None:
        super().__init__(f"{len(reasons)} {self.counted}; nothing was recorded.")
        self.reasons = list(reasons)


class BatchInvalid(BatchRefused[ItemProblem]):
    """Some items break the reading rules; nothing was recorded."""

    counted = "reading(s) cannot be recorded"


@dataclass(frozen=True)
class BatchConflict:
    """An item for a date that already has another value, sent without ``replace``."""

    index: int
    kpi_key: str
    measured_on: dt.date
    existing_value: float
    value: float


class BatchConflicts(BatchRefused[BatchConflict]):
    """Some dates already have a different reading and replacing was not asked for; nothing was recorded."""

    counted = "date(s) already have a different reading"


@dataclass(frozen=True)
class BatchResult:
    created: int
    replaced: int
    unchanged: int


def readings_record_batch(
    *,
    items: Sequence[BatchReading],
    recorded_by: AbstractBaseUser | None,
    source: str = Source.API,
    replace: bool = False,
    today: dt.date | None = None,
) -> BatchResult:
    """Record a batch of readings keyed by (KPI, date): all of them in one transaction, or none.

    The same rules as ``reading_record``: each date lies between the pilot's start and
    today; an item equal to what is recorded is left alone (a resent batch is harmless);
    a different value for a recorded date needs ``replace``, and the replaced value stays
    in the reading's history. A handful of queries whatever the size of the batch, and
    one rescan per pilot after commit.
    """
    problems = readings_batch_problems(items, today=today or timezone.localdate())
    if problems:
        raise BatchInvalid(problems)
    if not items:
        return BatchResult(created=0, replaced=0, unchanged=0)
    try:
        result = _batch_write(items, recorded_by=recorded_by, source=source, replace=replace)
    except IntegrityError:
        # A concurrent writer inserted one of these dates between our read and our
        # insert; read again, which turns its rows into "unchanged" or conflicts.
        result = _batch_write(items, recorded_by=recorded_by, source=source, replace=replace)
    if result.created or result.replaced:
        for pilot_id in sorted({item.kpi.pilot_id for item in items}):
            rescan_pilot_after_commit(pilot_id)
    return result


def readings_batch_problems(items: Sequence[BatchReading], *, today: dt.date) -> list[ItemProblem]:
    """What the reading rules refuse in a batch, item by item (no database access)."""
    problems = []
    first_index: dict[tuple[int, dt.date], int] = {}
    for index, item in enumerate(items):
        if not math.isfinite(item.value):
            problems.append(ItemProblem(index, "value", "The value must be a finite number."))
        try:
            check_reading_date(item.measured_on, started_on=item.kpi.pilot.started_on, today=today)
        except ReadingProblem as problem:
            problems.append(ItemProblem(index, "on", str(problem)))
        key = (item.kpi.pk, item.measured_on)
        if key in first_index:
            duplicate = f"Item {first_index[key]} is for the same KPI and date; send one reading each."
            problems.append(ItemProblem(index, "on", duplicate))
        else:
            first_index[key] = index
    return problems


def _batch_write(
    items: Sequence[BatchReading], *, recorded_by: AbstractBaseUser | None, source: str, replace: bool
) -> BatchResult:
    now = timezone.now()
    user_id = None if recorded_by is None else recorded_by.pk
    created: list[tuple[int, dt.date, float, str]] = []
    replaced: list[tuple[KpiReading, BatchReading]] = []
    conflicts: list[BatchConflict] = []
    unchanged = 0
    with transaction.atomic():
        # The span of the batch's dates, not a list of a thousand: one index range scan
        # per KPI. It may fetch a few dates the batch does not name; they are not used.
        dates = [item.measured_on for item in items]
        existing = {
            (reading.kpi_id, reading.measured_on): reading
            for reading in KpiReading.objects.select_for_update().filter(
                kpi_id__in={item.kpi.pk for item in items}, measured_on__range=(min(dates), max(dates))
            )
        }
        for index, item in enumerate(items):
            reading = existing.get((item.kpi.pk, item.measured_on))
            if reading is None:
                created.append((item.kpi.pk, item.measured_on, item.value, item.note))
            elif (reading.value, reading.note) == (item.value, item.note):
                unchanged += 1
            elif not replace:
                conflicts.append(BatchConflict(index, item.kpi.key, item.measured_on, reading.value, item.value))
            else:
                replaced.append((reading, item))
        if conflicts:
            raise BatchConflicts(conflicts)
        # Plain SQL, one statement per step: the ORM's bulk_create with history rows
        # takes three times the API's budget for a batch of 1,000 (portfolio.bulk_readings).
        new_ids = bulk_readings.readings_insert(created, recorded_by_id=user_id, source=source, recorded_at=now)
        history = _replaced_values_to_keep([reading for reading, _ in replaced])
        history += [
            bulk_readings.HistoryRow(
                new_ids[(kpi_id, on)], kpi_id, on, value, note, user_id, source, now, "+", now, user_id
            )
            for kpi_id, on, value, note in created
        ]
        if replaced:
            bulk_readings.readings_update(
                [(reading.pk, item.value, item.note) for reading, item in replaced],
                recorded_by_id=user_id,
                source=source,
                recorded_at=now,
            )
            history += [
                bulk_readings.HistoryRow(
                    reading.pk,
                    reading.kpi_id,
                    reading.measured_on,
                    item.value,
                    item.note,
                    user_id,
                    source,
                    now,
                    "~",
                    now,
                    user_id,
                )
                for reading, item in replaced
            ]
        bulk_readings.history_insert(history)
    return BatchResult(created=len(created), replaced=len(replaced), unchanged=unchanged)


def _replaced_values_to_keep(readings: Sequence[KpiReading]) -> list[bulk_readings.HistoryRow]:
    """History rows with the old values of readings that have none (written in bulk by the demo or an import).

    Without them, replacing such a reading would lose its old value. Who recorded it is
    not carried over: better no name than the wrong one.
    """
    if not readings:
        return []
    with_history = set(
        KpiReading.history.filter(id__in=[r.pk for r in readings]).values_list("id", flat=True).distinct()
    )
    return [
        bulk_readings.HistoryRow(
            r.pk,
            r.kpi_id,
            r.measured_on,
            r.value,
            r.note,
            r.recorded_by_id,
            r.source,
            r.recorded_at,
            "+",
            r.recorded_at,
            None,
        )
        for r in readings
        if r.pk not in with_history
    ]


# -- API tokens ----------------------------------------------------------------------------------


def api_token_create(*, user: AbstractBaseUser, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row (which keeps only a hash) and the secret, to be shown once."""
    secret = tokens.token_generate()
    token = ApiToken(
        user=user,
        name=name.strip(),
        scope=scope,
        prefix=tokens.token_shown_prefix(secret),
        token_hash=tokens.token_hash(secret),
    )
    token.full_clean()
    token.save()
    return token, secret


def api_token_revoke(*, token: ApiToken, revoked_by: AbstractBaseUser) -> ApiToken:
    """Revoke a token for good; its owner or the portfolio office may. Revoking twice keeps the first time."""
    if not tokens.can_manage_token(revoked_by, token):
        raise PermissionError("Only the token's owner or the portfolio office may revoke it.")
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token
