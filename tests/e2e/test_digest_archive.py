"""An owner reads last Monday's digest in the app, as it was mailed, in a real browser."""

from __future__ import annotations

import pytest

from portfolio.digests.delivery import send_week
from tests.e2e.conftest import sign_in
from tests.factories import FlagFactory, PilotFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_opens_their_digest_from_the_archive(page):
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Owner")
    pilot = PilotFactory(key="invoice-matching", name="<script>alert(1)</script> matching", owner=owner)
    FlagFactory(pilot=pilot, kind="stale", detail="No KPI reading for 30 days")
    send_week()

    sign_in(page, "olivia")
    page.get_by_role("link", name="Digests").click()
    page.get_by_role("link", name="needs you").click()

    frame = page.frame_locator("iframe.digest-frame")
    assert frame.get_by_role("heading", name="Your pilots this week").is_visible()
    assert frame.get_by_text("No KPI reading for 30 days").is_visible()
    # The pilot's name is shown as text, not run: the page has no dialog and shows the brackets.
    assert frame.get_by_role("link", name="<script>alert(1)</script> matching").is_visible()
    assert (
        frame.get_by_role("link", name="Open the KPIs →")
        .get_attribute("href")
        .endswith("/pilots/invoice-matching/#kpis")
    )
