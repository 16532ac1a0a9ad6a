"""readings_import_csv: a previewed upload is recorded all at once or not at all."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import IntegrityError

from portfolio.models import KpiReading, Source
from portfolio.reading_upload import KpiRef, UploadRow, parse_upload, with_existing
from portfolio.readings import ReadingProblem
from portfolio.services import readings_import_csv
from tests.factories import TODAY, KpiFactory, KpiReadingFactory, PilotFactory


@pytest.fixture
def kpi(pilot):
    return KpiFactory(pilot=pilot, key="match-rate", name="Match rate")


def plan_for(pilot, text):
    kpis = [KpiRef(k.pk, k.key, k.name) for k in pilot.kpis.all()]
    return parse_upload(text, kpis=kpis, started_on=pilot.started_on, today=TODAY)


def test_it_records_every_row_as_a_csv_reading_and_rescans_once(pilot, kpi, owner, django_capture_on_commit_callbacks):
    plan = plan_for(
        pilot, "kpi,date,value,note\n" + "".join(f"match-rate,2026-11-{d:02d},{d},n{d}\n" for d in range(1, 16))
    )

    with django_capture_on_commit_callbacks() as callbacks:
        result = readings_import_csv(pilot=pilot, rows=plan.rows, recorded_by=owner, today=TODAY)

    assert (result.created, result.replaced, result.unchanged) == (15, 0, 0)
    readings = KpiReading.objects.order_by("measured_on")
    assert [r.value for r in readings] == [float(d) for d in range(1, 16)]
    assert {(r.source, r.recorded_by) for r in readings} == {(Source.CSV, owner)}
    assert KpiReading.history.filter(history_user=owner, history_change_reason="CSV upload").count() == 15
    assert len(callbacks) == 1


def test_a_row_for_a_recorded_date_replaces_it_and_the_history_keeps_both(pilot, kpi, owner):
    old = KpiReadingFactory(kpi=kpi, measured_on=dt.date(2026, 11, 9), value=55.0)
    plan = with_existing(
        plan_for(pilot, "kpi,date,value\nmatch-rate,2026-11-09,61.5\nmatch-rate,2026-11-10,62\n"),
        {(kpi.pk, dt.date(2026, 11, 9)): (55.0, "")},
    )

    result = readings_import_csv(pilot=pilot, rows=plan.rows, recorded_by=owner, today=TODAY)

    assert (result.created, result.replaced) == (1, 1)
    old.refresh_from_db()
    assert (old.value, old.source) == (61.5, Source.CSV)
    assert [h.value for h in old.history.order_by("history_date", "history_id")] == [55.0, 61.5]


def test_unchanged_rows_are_counted_and_left_alone(pilot, kpi, owner):
    KpiReadingFactory(kpi=kpi, measured_on=dt.date(2026, 11, 9), value=61.5, note="")
    plan = plan_for(pilot, "kpi,date,value\nmatch-rate,2026-11-09,61.5\n")

    result = readings_import_csv(pilot=pilot, rows=plan.rows, recorded_by=owner, today=TODAY)

    assert (result.created, result.replaced, result.unchanged) == (0, 0, 1)
    assert KpiReading.history.count() == 1


def test_rows_with_problems_record_nothing(pilot, kpi, owner):
    plan = plan_for(pilot, "kpi,date,value\nmatch-rate,2026-11-09,61.5\nmatch-rate,2026-11-10,lots\n")

    with pytest.raises(ReadingProblem, match="Line 3"):
        readings_import_csv(pilot=pilot, rows=plan.rows, recorded_by=owner, today=TODAY)

    assert not KpiReading.objects.exists()


def test_another_pilots_kpi_is_refused_even_if_a_row_names_it(pilot, kpi, owner):
    foreign = KpiFactory(pilot=PilotFactory(), key="foreign")
    row = UploadRow(
        line=2,
        kpi_key="foreign",
        date_text="2026-11-09",
        value_text="1",
        note="",
        kpi=KpiRef(foreign.pk, "foreign", "Foreign"),
        measured_on=dt.date(2026, 11, 9),
        value=1.0,
    )

    with pytest.raises(ReadingProblem, match="not a KPI of this pilot"):
        readings_import_csv(pilot=pilot, rows=[row], recorded_by=owner, today=TODAY)

    assert not KpiReading.objects.exists()


def test_a_failure_halfway_records_nothing(pilot, kpi, owner):
    plan = plan_for(pilot, "kpi,date,value\nmatch-rate,2026-11-09,61.5\nmatch-rate,2026-11-10,62\n")

    with (
        mock.patch("portfolio.services.bulk_update_with_history", side_effect=IntegrityError("boom")),
        pytest.raises(IntegrityError),
    ):
        readings_import_csv(pilot=pilot, rows=plan.rows, recorded_by=owner, today=TODAY)

    assert not KpiReading.objects.exists()
    assert not KpiReading.history.exists()
