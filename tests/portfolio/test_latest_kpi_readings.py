"""Each KPI's latest reading up to a date, in one query, agrees with looking each KPI up on its own."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolio.models import Kpi, KpiReading, Pilot
from portfolio.selectors_dashboard import latest_kpi_readings
from tests.factories import TODAY, KpiFactory, KpiReadingFactory, PilotFactory

pytestmark = pytest.mark.django_db


def one_by_one(as_of: dt.date) -> list[tuple]:
    """The latest reading of every KPI, asked KPI by KPI: the plain meaning of the query."""
    rows = []
    for kpi in Kpi.objects.order_by("pilot_id", "id"):
        reading = KpiReading.objects.filter(kpi=kpi, measured_on__lte=as_of).order_by("-measured_on").first()
        rows.append(
            (
                kpi.pilot_id,
                kpi.name,
                reading.value if reading else None,
                reading.measured_on if reading else None,
                reading.source if reading else "",
            )
        )
    return rows


@pytest.fixture
def kpis():
    pilot, other = PilotFactory(), PilotFactory()
    never_read = KpiFactory(pilot=pilot, name="Never read")
    weekly = KpiFactory(pilot=pilot, name="Weekly")
    for days, value, source in [(21, 1 / 3, "form"), (14, -0.1, "api"), (7, 1e-9, "form"), (-7, 99.0, "api")]:
        KpiReadingFactory(kpi=weekly, measured_on=TODAY - dt.timedelta(days=days), value=value, source=source)
    only_future = KpiFactory(pilot=other, name="Read only after the date")
    KpiReadingFactory(kpi=only_future, measured_on=TODAY + dt.timedelta(days=1), value=5)
    whole = KpiFactory(pilot=other, name="Whole numbers")
    KpiReadingFactory(kpi=whole, measured_on=TODAY, value=45.0, source="api")
    large = KpiFactory(pilot=other, name="Large")
    KpiReadingFactory(kpi=large, measured_on=TODAY - dt.timedelta(days=400), value=123_456_789.123456, source="form")
    return [never_read, weekly, only_future, whole, large]


@pytest.mark.parametrize("days_back", [0, 7, 10, 30, 500])
def test_the_latest_readings_are_those_of_each_kpi_asked_on_its_own(kpis, days_back):
    as_of = TODAY - dt.timedelta(days=days_back)
    # SQLite asks once per connection whether it has JSON functions; that is not this query.
    assert connection.features.supports_json_field

    with CaptureQueriesContext(connection) as queries:
        found = latest_kpi_readings(Pilot.objects.all(), as_of=as_of)

    assert len(queries) == 1
    assert [(k.pilot_id, k.name, k.latest_value, k.latest_on, k.latest_source) for k in found] == one_by_one(as_of)
    for kpi in found:
        assert kpi.latest_value is None or type(kpi.latest_value) is float
        assert kpi.latest_on is None or type(kpi.latest_on) is dt.date


def test_the_latest_reading_of_a_kpi_on_the_date_itself_counts(kpis):
    [whole] = [k for k in latest_kpi_readings(Pilot.objects.all(), as_of=TODAY) if k.name == "Whole numbers"]

    assert (whole.latest_value, whole.latest_on, whole.latest_source) == (45.0, TODAY, "api")
