"""A person signs in and finds a pilot through the list, in a real browser."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import sign_in
from tests.factories import KpiFactory, KpiReadingFactory, PilotFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_executive_signs_in_filters_the_list_and_opens_a_pilot(page):
    UserFactory(username="erin", first_name="Erin", last_name="Executive", roles=["executive"])
    pilot = PilotFactory(key="ticket-triage", name="Support ticket triage", phase="pilot")
    PilotFactory(key="invoice-matching", name="Invoice matching", phase="poc")
    kpi = KpiFactory(pilot=pilot, name="Auto-resolved tickets", unit="%")
    KpiReadingFactory(kpi=kpi, value=63.0)

    sign_in(page, "erin")
    page.goto("/pilots/")
    page.get_by_label("Phase").select_option("pilot")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state("networkidle")

    assert "phase=pilot" in page.url
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    page.get_by_role("link", name="Support ticket triage").click()
    page.wait_for_url("**/pilots/ticket-triage/")
    assert page.get_by_role("heading", name="Support ticket triage").is_visible()
    assert page.get_by_role("row", name="Auto-resolved tickets").is_visible()


def test_a_wrong_password_keeps_the_username_and_says_so(page):
    UserFactory(username="erin")
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("erin")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_label("Username").input_value() == "erin"
    assert "/accounts/login/" in page.url
    assert page.get_by_text("correct username and password").is_visible()
