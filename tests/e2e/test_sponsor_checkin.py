"""A sponsor sees a check-in due on "My pilots", records it there in place, then another from the pilot page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from portfolio.models import CheckIn
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.factories import CheckInFactory, PilotFactory, UserFactory

# Real commits for the live server; the serialised rollback keeps the gate criteria of the
# data migration for the tests that run after this one.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def sponsored_pilot():
    today = timezone.localdate()
    sponsor = UserFactory(username="sam", first_name="Sam", last_name="Sponsor")
    pilot = PilotFactory(
        key="claims-triage",
        name="Claims triage",
        owner=UserFactory(username="olivia", first_name="Olivia", last_name="Owner"),
        sponsor=sponsor,
        started_on=today - dt.timedelta(days=120),
    )
    CheckInFactory(pilot=pilot, sponsor=sponsor, on=today - dt.timedelta(days=45), confidence="high", note="Kick-off.")
    return pilot


def test_a_sponsor_records_a_check_in_from_my_pilots_and_from_the_pilot_page(page, sponsored_pilot):
    sign_in(page, "sam")

    assert page.url.endswith("/me/")
    needs = page.locator("#needs")
    assert "Check-in due" in needs.inner_text()
    assert "(45 days)" in needs.inner_text()
    page.evaluate("window.__stillTheSamePage = true")

    needs.get_by_role("link", name="Record a check-in").click()
    panel = page.locator("#checkin-claims-triage")
    form = panel.get_by_role("form", name="Record a check-in on Claims triage")
    # Forgetting the confidence is explained and the note is kept.
    form.get_by_label("Note").fill("Data feed slipped a week; asked for a recovery plan.")
    form.get_by_role("button", name="Record check-in").click()
    panel.locator(".field__error").get_by_text("Choose how confident you are").wait_for()
    assert "recovery plan" in panel.get_by_label("Note").input_value()

    panel.get_by_label("Medium").check()
    panel.get_by_role("button", name="Record check-in").click()
    panel.get_by_role("status").get_by_text("recorded: medium confidence").wait_for()
    page.locator("#needs").get_by_text("Nothing needs you right now").wait_for()
    assert page.evaluate("window.__stillTheSamePage") is True
    page.screenshot(path=str(ARTIFACTS / "sponsor_checkin_my_pilots.png"), full_page=True)

    checkin = CheckIn.objects.order_by("-id").first()
    assert (checkin.confidence, checkin.note) == ("medium", "Data feed slipped a week; asked for a recovery plan.")

    # On the pilot page the card with its list updates in place.
    page.goto(sponsored_pilot.get_absolute_url())
    card = page.locator("#checkins-card")
    card.get_by_label("Low").check()
    card.get_by_label("Note").fill("Recovery plan not delivered.")
    card.get_by_role("button", name="Record check-in").click()
    page.locator("#checkins-card").get_by_role("status").wait_for()
    items = page.locator("#checkins-card .plain-list > li")
    assert items.count() == 3
    assert "Recovery plan not delivered." in items.first.inner_text()
    assert CheckIn.objects.count() == 3
