from __future__ import annotations

import datetime as dt

import pytest

from portfolio.models import KpiReading, Source
from portfolio.readings import ReadingProblem
from portfolio.services import ReadingExists, reading_record
from tests.factories import TODAY, KpiFactory


@pytest.fixture
def kpi(pilot):
    return KpiFactory(pilot=pilot, key="match-rate", name="Match rate")


def test_it_records_a_reading(kpi, owner):
    reading = reading_record(kpi=kpi, measured_on=TODAY, value=61.5, recorded_by=owner, today=TODAY)
    assert KpiReading.objects.get() == reading
    assert (reading.value, reading.source, reading.recorded_by) == (61.5, Source.FORM, owner)


def test_a_double_submit_records_one_reading(kpi, owner):
    first = reading_record(kpi=kpi, measured_on=TODAY, value=61.5, recorded_by=owner, today=TODAY)
    second = reading_record(kpi=kpi, measured_on=TODAY, value=61.5, recorded_by=owner, today=TODAY)
    assert first.pk == second.pk
    assert KpiReading.objects.count() == 1


def test_another_value_for_the_same_date_needs_confirmation(kpi, owner):
    reading_record(kpi=kpi, measured_on=TODAY, value=61.5, recorded_by=owner, today=TODAY)
    with pytest.raises(ReadingExists) as refused:
        reading_record(kpi=kpi, measured_on=TODAY, value=70.0, recorded_by=owner, today=TODAY)
    assert refused.value.existing.value == 61.5
    assert KpiReading.objects.get().value == 61.5


def test_a_confirmed_replacement_keeps_both_values_in_the_history(kpi, owner):
    reading_record(kpi=kpi, measured_on=TODAY, value=61.5, recorded_by=owner, today=TODAY)
    reading_record(kpi=kpi, measured_on=TODAY, value=70.0, recorded_by=owner, replace=True, today=TODAY)
    reading = KpiReading.objects.get()
    assert reading.value == 70.0
    assert [h.value for h in reading.history.order_by("history_date")] == [61.5, 70.0]


def test_a_reading_before_the_start_is_refused_and_not_saved(kpi, owner):
    with pytest.raises(ReadingProblem):
        reading_record(
            kpi=kpi, measured_on=kpi.pilot.started_on - dt.timedelta(days=1), value=1, recorded_by=owner, today=TODAY
        )
    assert not KpiReading.objects.exists()


def test_it_queues_a_rescan_of_the_pilot_after_commit(kpi, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        reading_record(kpi=kpi, measured_on=TODAY, value=61.5, recorded_by=owner, today=TODAY)
    assert len(callbacks) == 1
