"""An executive filters the dashboard in a real browser: htmx swaps the figures and the address follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.factories import BusinessUnitFactory, KpiFactory, KpiReadingFactory, PilotFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def portfolio(db):
    # Every signed-in person may read the dashboard; no role needed (and a flushed database has no groups).
    UserFactory(username="erin", first_name="Erin", last_name="Executive")
    finance, operations = BusinessUnitFactory(name="Finance"), BusinessUnitFactory(name="Operations")
    PilotFactory.create_batch(2, business_unit=finance, phase="poc")
    live = PilotFactory(name="Invoice matching", business_unit=finance, phase="production")
    KpiReadingFactory(kpi=KpiFactory(pilot=live, name="Auto-match rate", baseline=40, target=80), value=60)
    PilotFactory.create_batch(3, business_unit=operations, phase="pilot")


def funnel_cell(page, phase: str, column: int):
    return page.locator("#funnel-heading ~ .split table tbody tr", has_text=phase).locator("td").nth(column)


def test_an_executive_filters_the_dashboard_and_the_address_can_be_shared(page, portfolio):
    sign_in(page, "erin")
    page.goto("/")
    expect(page.locator(".scope__text")).to_contain_text("6 pilots in the portfolio")
    expect(funnel_cell(page, "Proof of concept", 0)).to_have_text("2")
    expect(funnel_cell(page, "Pilot", 0)).to_have_text("3")
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("Business unit").select_option("Finance")

    page.wait_for_url("**/?unit=Finance")
    expect(page.locator(".scope__text")).to_contain_text("3 of 6 pilots match the filters")
    expect(page.get_by_role("status").filter(has_text="pilots match")).to_have_text("3 of 6 pilots match the filters.")
    expect(funnel_cell(page, "Pilot", 0)).to_have_text("0")
    expect(funnel_cell(page, "Production", 0)).to_have_text("1")
    reached, delivering = page.locator(".stat__value").nth(0), page.locator(".stat__value").nth(1)
    expect(reached).to_have_text("33%")
    expect(delivering).to_have_text("33%")
    expect(page.get_by_role("img", name="Phase funnel.")).to_be_visible()
    # htmx swapped the figures in place: no page load happened.
    assert page.evaluate("window.stillTheSamePage") is True

    page.reload()

    expect(page.locator(".scope__text")).to_contain_text("3 of 6 pilots match the filters")
    expect(page.get_by_label("Business unit")).to_have_value("Finance")
    expect(reached).to_have_text("33%")


def test_clearing_the_filters_brings_back_the_whole_portfolio(page, portfolio):
    sign_in(page, "erin")
    page.goto("/?unit=Operations")
    expect(page.locator(".scope__text")).to_contain_text("3 of 6 pilots")

    page.get_by_label("Business unit").select_option("")

    page.wait_for_url(lambda url: url.endswith("/"))
    expect(page.locator(".scope__text")).to_contain_text("6 pilots in the portfolio")
