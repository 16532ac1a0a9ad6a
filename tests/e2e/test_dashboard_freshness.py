"""An executive opens the dashboard just after an owner recorded a reading: the page says when its figures are from."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.factories import KpiFactory, KpiReadingFactory, PilotFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_figures_behind_the_data_say_when_they_are_from(page, settings):
    settings.DASHBOARD_MAX_STALE_SECONDS = 60
    UserFactory(username="erin", first_name="Erin", last_name="Executive")
    kpi = KpiFactory(pilot=PilotFactory(name="Invoice matching", phase="production"), baseline=40, target=80)
    KpiReadingFactory(kpi=kpi, measured_on=timezone.localdate() - dt.timedelta(days=7), value=30)
    sign_in(page, "erin")
    page.goto("/")
    freshness = page.locator(".scope .freshness")
    expect(freshness).to_have_count(0)

    KpiReadingFactory(kpi=kpi, measured_on=timezone.localdate(), value=60)
    page.reload()

    expect(freshness).to_be_visible()
    expect(freshness).to_have_text(re.compile(r"^· figures as of \d\d:\d\d, newer changes follow shortly$"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator(".scope").screenshot(path=str(ARTIFACTS / "dashboard-freshness-line.png"))
