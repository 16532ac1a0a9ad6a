"""The batch service behind the API: all or nothing, a fixed number of queries, history for replacements."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError

from portfolio import services
from portfolio.models import KpiReading, Source
from portfolio.services import BatchConflicts, BatchInvalid, BatchReading, readings_record_batch
from tests.factories import TODAY, KpiFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def kpi(pilot):
    pilot.started_on = TODAY - dt.timedelta(days=2000)
    pilot.phase_entered_on = pilot.started_on
    pilot.save()
    return KpiFactory(pilot=pilot, key="match-rate")


def batch(kpi, size: int, value: float = 1.0) -> list[BatchReading]:
    return [BatchReading(kpi, TODAY - dt.timedelta(days=n), value + n) for n in range(size)]


def test_a_batch_costs_a_handful_of_queries_not_one_per_reading(kpi, owner, django_assert_max_num_queries):
    # Inserts go in chunks (SQLite takes at most 999 parameters a statement), so a
    # thousand readings cost a few more statements than ten, never a thousand.
    with django_assert_max_num_queries(6):
        readings_record_batch(items=batch(kpi, 10), recorded_by=owner, today=TODAY)
    KpiReading.objects.all().delete()

    with django_assert_max_num_queries(24):
        readings_record_batch(items=batch(kpi, 1000), recorded_by=owner, today=TODAY)

    assert KpiReading.objects.count() == 1000


def test_new_readings_get_a_history_row_like_those_from_the_form(kpi, owner):
    readings_record_batch(items=batch(kpi, 3), recorded_by=owner, today=TODAY)

    assert KpiReading.history.filter(history_type="+", history_user=owner).count() == 3


def test_a_replaced_reading_written_in_bulk_keeps_its_old_value_in_the_history(kpi, owner):
    # Imports and the demo write readings without history rows.
    KpiReading.objects.bulk_create([KpiReading(kpi=kpi, measured_on=TODAY, value=40.0, source=Source.IMPORT)])

    result = readings_record_batch(items=[BatchReading(kpi, TODAY, 64.0)], recorded_by=owner, replace=True, today=TODAY)

    reading = KpiReading.objects.get()
    assert (result.replaced, reading.value) == (1, 64.0)
    assert [(h.value, h.source) for h in reading.history.order_by("history_date", "history_id")] == [
        (40.0, Source.IMPORT),
        (64.0, Source.API),
    ]


def test_a_conflict_writes_nothing_not_even_the_new_dates(kpi, owner):
    KpiReading.objects.create(kpi=kpi, measured_on=TODAY, value=40.0)

    with pytest.raises(BatchConflicts) as refused:
        readings_record_batch(items=batch(kpi, 5), recorded_by=owner, today=TODAY)

    assert [(c.index, c.existing_value, c.value) for c in refused.value.reasons] == [(0, 40.0, 1.0)]
    assert str(refused.value) == "1 date(s) already have a different reading; nothing was recorded."
    assert KpiReading.objects.count() == 1


def test_a_value_that_is_not_a_finite_number_is_refused(kpi, owner):
    with pytest.raises(BatchInvalid) as refused:
        readings_record_batch(items=[BatchReading(kpi, TODAY, float("nan"))], recorded_by=owner, today=TODAY)

    assert [(p.index, p.field) for p in refused.value.reasons] == [(0, "value")]
    assert str(refused.value) == "1 reading(s) cannot be recorded; nothing was recorded."


def test_a_batch_that_loses_a_race_for_a_date_is_read_again(kpi, owner, monkeypatch):
    real_write = services._batch_write
    calls = []

    def racing(items, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            # Another writer inserts the same date between our read and our insert.
            KpiReading.objects.create(kpi=kpi, measured_on=TODAY, value=1.0)
            raise IntegrityError("duplicate key")
        return real_write(items, **kwargs)

    monkeypatch.setattr(services, "_batch_write", racing)

    result = readings_record_batch(items=batch(kpi, 3), recorded_by=owner, today=TODAY)

    assert (result.created, result.unchanged) == (2, 1)
