"""An owner attests the last criteria of production readiness in place, and the sponsor advances the pilot."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gates.models import GateCriterion, GateReview
from portfolio.models import Phase, Pilot
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.factories import (
    AttestationFactory,
    CheckInFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
    UserFactory,
)

# Real commits for the live server; the serialised rollback keeps the gate criteria of the
# data migration for the tests that run after this one.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MONITORING = "Grafana board 'claims-model' pages the on-call analyst on error rate and drift."
GOVERNANCE = "DPIA signed off by the privacy office on 2 Nov; see the risk register entry RR-118."


@pytest.fixture
def pilot_nearly_ready_for_production() -> Pilot:
    today = timezone.localdate()
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Owner")
    sponsor = UserFactory(username="sam", first_name="Sam", last_name="Sponsor")
    pilot = PilotFactory(
        key="claims-triage",
        name="Claims triage",
        owner=owner,
        sponsor=sponsor,
        phase=Phase.PILOT,
        started_on=today - dt.timedelta(days=200),
        phase_entered_on=today - dt.timedelta(days=90),
    )
    kpi = KpiFactory(pilot=pilot, key="auto-routed", name="Claims routed automatically", baseline=20.0, target=60.0)
    for days_ago, value in [(15, 41.0), (8, 44.0), (1, 47.0)]:
        KpiReadingFactory(kpi=kpi, measured_on=today - dt.timedelta(days=days_ago), value=value)
    KillCriterionFactory(pilot=pilot, key="floor")
    CheckInFactory(pilot=pilot, sponsor=sponsor, on=today - dt.timedelta(days=6))
    for code in ("data_pipeline", "integration_plan", "change_management"):
        AttestationFactory(
            pilot=pilot, criterion=GateCriterion.objects.get(code=code), attested_on=today - dt.timedelta(days=12)
        )
    return pilot


def test_an_owner_attests_criterion_by_criterion_and_the_sponsor_advances_the_pilot(
    page, pilot_nearly_ready_for_production
):
    pilot = pilot_nearly_ready_for_production
    sign_in(page, "olivia")
    page.goto(f"/pilots/{pilot.key}/")
    page.get_by_role("link", name="Gate review").click()
    page.wait_for_url(f"**/pilots/{pilot.key}/gate/")
    assert page.get_by_text("6 of 8 criteria met.").is_visible()
    assert page.get_by_role("heading", name="Record the decision").count() == 0

    # A marker on the window survives only if the page is never reloaded.
    page.evaluate("window.notReloaded = true")
    for code, evidence in [("monitoring", MONITORING), ("governance", GOVERNANCE)]:
        criterion = page.locator(f"#criterion-{code}")
        criterion.get_by_label("Evidence (text or link)").fill(evidence)
        criterion.get_by_role("button", name="Record evidence").click()
        page.locator(f"#criterion-{code}.criterion--met").wait_for()
        assert page.locator(f"#criterion-{code}").get_by_text("Evidence recorded.").is_visible()
    assert page.evaluate("window.notReloaded") is True
    assert page.get_by_text("8 of 8 criteria met.").is_visible()
    assert page.get_by_text("Ready to advance to Production.").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "gate_review_owner_attested.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "sam")
    page.goto(f"/pilots/{pilot.key}/gate/")
    page.get_by_label("Advance to Production").check()
    page.get_by_label("Rationale", exact=True).fill("Value shown three readings running; every criterion evidenced.")
    page.get_by_role("button", name="Record decision").click()

    page.wait_for_url(f"**/pilots/{pilot.key}/")
    assert page.get_by_text("Advanced to Production.").is_visible()
    assert page.locator(".page-header .badge--phase-production").is_visible()
    timeline = page.locator("section[aria-labelledby=timeline]")
    assert timeline.get_by_text("decided by Sam Sponsor").is_visible()
    review = GateReview.objects.get(pilot=pilot)
    assert (review.decision, review.is_override, review.items.filter(met=True).count()) == ("advance", False, 8)
    assert Pilot.objects.get(pk=pilot.pk).phase == Phase.PRODUCTION
