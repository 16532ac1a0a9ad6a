"""Writes to the portfolio: each keeps its invariants and queues the pilot's rescan after commit."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from portfolio.models import Kpi, KpiReading, Source
from portfolio.readings import check_reading_date
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
