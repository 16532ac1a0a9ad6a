from __future__ import annotations

import pytest

from tests.factories import KpiReadingFactory


@pytest.mark.django_db
def test_a_reading_builds_its_whole_pilot():
    reading = KpiReadingFactory()
    assert reading.kpi.pilot.owner.username.startswith("user")
