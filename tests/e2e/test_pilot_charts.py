"""A pilot page's KPI charts in a real browser: shown at once as images, inline once drawn."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.e2e.conftest import sign_in
from tests.factories import TODAY, KillCriterionFactory, KpiFactory, KpiReadingFactory, PilotFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_charts_of_a_pilot_nobody_opened_load_as_images_then_come_inline(page):
    UserFactory(username="erin", roles=["executive"])
    pilot = PilotFactory(key="ticket-triage", name="Support ticket triage", phase="pilot")
    resolved = KpiFactory(
        pilot=pilot, key="auto-resolved", name="Auto-resolved tickets", unit="%", baseline=20, target=60
    )
    for week in range(12):
        KpiReadingFactory(kpi=resolved, value=25 + 2.5 * week, measured_on=TODAY - dt.timedelta(weeks=12 - week))
    KillCriterionFactory(pilot=pilot, kpi=resolved, comparator="below", threshold=15)
    KpiFactory(
        pilot=pilot, key="handle-time", name="Handle time", unit="min", baseline=9, target=6, direction="decrease"
    )

    sign_in(page, "erin")
    page.goto("/pilots/ticket-triage/")
    images = page.locator("img.chart__img")
    assert images.count() == 2
    for index in range(2):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())
    assert images.first.get_attribute("alt").startswith("12 readings of Auto-resolved tickets")
    box = images.first.bounding_box()
    assert box and box["width"] > 300 and 0.4 < box["height"] / box["width"] < 0.6

    # Drawn by those requests, the charts now come inline with the page.
    page.reload()
    charts = page.get_by_role("img", name="12 readings of Auto-resolved tickets", exact=False)
    assert charts.count() == 1
    assert page.locator("svg.chart__svg").count() == 2
    assert page.locator("img.chart__img").count() == 0
    assert page.locator("svg.chart__svg").first.get_by_text("Kill if below 15 %").is_visible()
