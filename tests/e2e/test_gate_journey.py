"""A pilot's whole life in the browser: proof of concept to scaled adoption, criterion by criterion.

The portfolio office creates the pilot; its owner meets each unmet criterion through the
owner's own forms (description, KPI, baseline, kill criteria, readings, evidence); the
sponsor checks in, holds once (after a refused attempt) and advances; the portfolio office
takes the last gate. The pilot page then tells the whole story, and the database refuses
to rewrite it. A second, shorter journey kills a pilot and finds its lesson again.

The clock moves forward between the steps (months pass between gates), for the server too:
the live server runs in this process. Only people are made with factories (they have no
page here, only the admin), and, in the short journey, a pilot already in its pilot phase.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from gates.models import GateReview, GateReviewItem
from portfolio.models import Phase, Pilot, Status
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.factories import KillCriterionFactory, KpiFactory, KpiReadingFactory, PilotFactory, UserFactory

# Real commits for the live server; the serialised rollback keeps the gate criteria of the
# data migration for the tests that run after this one.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

KPI_NAME = "Claims routed automatically"
ADOPTION_FLOOR = "Stop if fewer than half the adjusters use the routing after the first month in pilot."


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """A week from now, 10:00 in London, ticking: the journey's first day (a future day keeps cookies fresh)."""
    start = timezone.make_aware(dt.datetime.combine(timezone.localdate() + dt.timedelta(days=7), dt.time(10)))
    with time_machine.travel(start, tick=True) as traveller:
        yield traveller


@pytest.fixture
def people() -> dict[str, object]:
    return {
        "owner": UserFactory(username="olivia", first_name="Olivia", last_name="Owner"),
        "sponsor": UserFactory(username="sam", first_name="Sam", last_name="Sponsor"),
        "office": UserFactory(username="paula", first_name="Paula", last_name="Office", roles=["portfolio_office"]),
    }


def field(scope, label: str):
    """The input labelled exactly ``label`` (optional fields add "(optional)" to their label)."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \(optional\))?$"))


def iso(day: dt.date) -> str:
    return day.isoformat()


def shown(day: dt.date) -> str:
    """A date as the pages write it: 16 Nov 2026."""
    return f"{day.day} {day:%b %Y}"


def criterion(page, code: str):
    return page.locator(f"#criterion-{code}")


def expect_unmet(page, reasons: dict[str, str]) -> None:
    """Each criterion (by code) is shown as not met, with the sentence that says why."""
    for code, reason in reasons.items():
        row = criterion(page, code)
        assert "criterion--unmet" in row.get_attribute("class"), code
        assert reason in row.locator(".criterion__reason").inner_text(), code


def expect_met(page, code: str, reason: str = "") -> None:
    row = criterion(page, code)
    assert "criterion--met" in row.get_attribute("class"), code
    assert reason in row.locator(".criterion__reason").inner_text(), code


def open_gate(page, key: str, summary: str) -> None:
    page.goto(f"/pilots/{key}/gate/")
    page.locator("#readiness-summary").get_by_text(summary).wait_for()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"gate_journey_{name}.png"), full_page=True)


def attest(page, code: str, evidence: str) -> None:
    """Record evidence in place (htmx): the criterion turns met without a page load."""
    row = criterion(page, code)
    row.get_by_label("Evidence (text or link)").fill(evidence)
    row.get_by_role("button", name="Record evidence").click()
    page.locator(f"#criterion-{code}.criterion--met").get_by_text("Evidence recorded.").wait_for()


def record_reading(page, key: str, on: dt.date, value: str) -> None:
    page.goto(f"/pilots/{key}/")
    form = page.get_by_role("form", name=f"Record a reading of {KPI_NAME}")
    field(form, "Date").fill(iso(on))
    field(form, "Value (%)").fill(value)
    form.get_by_role("button", name="Record").click()
    page.get_by_role("status").get_by_text(f"Recorded {value} % for {KPI_NAME}").wait_for()


def decide(page, key: str, choice: str, rationale: str, next_review: dt.date | None = None) -> None:
    page.goto(f"/pilots/{key}/gate/")
    page.get_by_label(choice).check()
    page.get_by_label("Rationale", exact=True).fill(rationale)
    if next_review is not None:
        field(page, "Next review").fill(iso(next_review))
    page.get_by_role("button", name="Record decision").click()


def test_a_pilot_goes_from_proof_of_concept_to_scaled_adoption_criterion_by_criterion(page, clock, people):
    day_one = timezone.localdate()

    def on_day(days: int) -> dt.date:
        return day_one + dt.timedelta(days=days)

    def move_to(days: int) -> None:
        clock.move_to(timezone.make_aware(dt.datetime.combine(on_day(days), dt.time(10))))

    # -- The portfolio office sets the pilot up, with an owner but no sponsor yet -------------
    sign_in(page, "paula")
    page.goto("/office/units/")
    field(page, "Name").fill("Claims")
    page.get_by_role("button", name="Add unit").click()
    page.get_by_role("link", name="Claims").first.wait_for()
    page.goto("/office/pilots/new/")
    field(page, "Name").fill("Claims triage")
    field(page, "Key").fill("claims-triage")
    field(page, "Business unit").select_option(label="Claims")
    field(page, "Problem").fill("Adjusters spend the first hour of each claim deciding who should handle it.")
    field(page, "Owner").fill("olivia")
    page.get_by_role("button", name="Create pilot").click()
    page.wait_for_url("**/pilots/claims-triage/")
    pilot = Pilot.objects.get(key="claims-triage")
    assert (pilot.phase, pilot.started_on) == (Phase.POC, day_one)

    # -- Gate 1, pilot approval: the owner sees what is missing and fills it in --------------
    move_to(2)
    sign_in(page, "olivia")
    page.goto("/pilots/claims-triage/")
    page.get_by_role("link", name="Gate review").click()
    page.locator("#readiness-summary").get_by_text("1 of 6 criteria met.").wait_for()
    assert page.get_by_role("heading", name="Pilot approval: Proof of concept → Pilot").is_visible()
    expect_met(page, "owner_assigned", "Olivia Owner is the owner")
    expect_unmet(
        page,
        {
            "sponsor_assigned": "No executive sponsor named",
            "outcome_defined": "The business outcome sought is not written down",
            "metrics_defined": "No KPI defined",
            "baseline_measured": "No KPI to measure a baseline for",
            "kill_criteria_set": "No kill criteria set",
        },
    )
    assert page.get_by_role("heading", name="Record the decision").count() == 0
    screenshot(page, "1_pilot_approval_unmet")

    page.get_by_role("link", name="Back to the pilot").click()
    page.get_by_role("link", name="Edit the description").click()
    field(page, "Outcome sought").fill("Route 60% of new claims to the right adjuster without a human triage step.")
    page.get_by_role("button", name="Save description").click()
    page.wait_for_url("**/pilots/claims-triage/")
    open_gate(page, "claims-triage", "2 of 6 criteria met.")
    expect_met(page, "outcome_defined")

    # A KPI with its target first: success is defined, but no baseline yet.
    page.goto("/pilots/claims-triage/")
    page.get_by_role("link", name="Add a KPI").click()
    field(page, "Name").fill(KPI_NAME)
    field(page, "Key").fill("auto-routed")
    field(page, "Unit").fill("%")
    field(page, "Target").fill("60")
    page.get_by_role("button", name="Add KPI").click()
    page.wait_for_url("**/pilots/claims-triage/**")
    open_gate(page, "claims-triage", "3 of 6 criteria met.")
    expect_met(page, "metrics_defined", "1 KPI with a target")
    expect_unmet(page, {"baseline_measured": f"No baseline for KPI '{KPI_NAME}'"})

    page.goto("/pilots/claims-triage/")
    page.get_by_role("link", name=f"Edit KPI {KPI_NAME}").click()
    field(page, "Baseline").fill("20")
    field(page, "Baseline measured on").fill(iso(on_day(1)))
    page.get_by_role("button", name="Save KPI").click()
    page.wait_for_url("**/pilots/claims-triage/**")
    open_gate(page, "claims-triage", "4 of 6 criteria met.")
    expect_met(page, "baseline_measured", f"Baseline of KPI '{KPI_NAME}' measured {shown(on_day(1))}")

    page.goto("/pilots/claims-triage/")
    page.get_by_role("link", name="Add a kill criterion").click()
    field(page, "Key").fill("routing-floor")
    field(page, "Description").fill("Stop if under 30% of claims are routed automatically after eight weeks.")
    field(page, "KPI").select_option(label=KPI_NAME)
    field(page, "Stop if the KPI is").select_option(label="below")
    field(page, "Threshold").fill("30")
    field(page, "Judge from").fill(iso(on_day(56)))
    page.get_by_role("button", name="Add kill criterion").click()
    page.wait_for_url("**/pilots/claims-triage/**")
    open_gate(page, "claims-triage", "5 of 6 criteria met.")
    expect_met(page, "kill_criteria_set", "1 kill criterion set")

    # Naming the sponsor is the portfolio office's.
    sign_in(page, "paula")
    page.goto("/pilots/claims-triage/")
    page.get_by_role("link", name="Edit pilot").click()
    field(page, "Sponsor").fill("sam")
    page.get_by_role("button", name="Save pilot").click()
    page.wait_for_url("**/pilots/claims-triage/")
    open_gate(page, "claims-triage", "6 of 6 criteria met.")
    assert page.get_by_text("Ready to advance to Pilot.").is_visible()
    screenshot(page, "2_pilot_approval_ready")

    move_to(9)
    sign_in(page, "sam")
    decide(page, "claims-triage", "Advance to Pilot", "A clear owner, a measured baseline and a floor to stop at.")
    page.wait_for_url("**/pilots/claims-triage/")
    page.get_by_text("Advanced to Pilot.").wait_for()

    # -- Gate 2, production readiness ----------------------------------------------------------
    move_to(45)
    sign_in(page, "olivia")
    open_gate(page, "claims-triage", "1 of 8 criteria met.")
    assert page.get_by_role("heading", name="Production readiness: Pilot → Production").is_visible()
    expect_unmet(
        page,
        {
            "value_demonstrated": "No KPI beat its baseline in each of its last 3 readings",
            "sponsor_engaged": "No sponsor check-in recorded",
            "data_pipeline": "No evidence recorded",
            "integration_plan": "No evidence recorded",
            "monitoring": "No evidence recorded",
            "change_management": "No evidence recorded",
            "governance": "No evidence recorded",
        },
    )
    screenshot(page, "3_production_readiness_unmet")

    # A goalpost added after approval needs a reason, and the pilot page lists it.
    page.goto("/pilots/claims-triage/")
    page.get_by_role("link", name="Add a kill criterion").click()
    assert page.get_by_text("This pilot has passed its first gate").is_visible()
    field(page, "Key").fill("adoption")
    field(page, "Description").fill(ADOPTION_FLOOR)
    page.get_by_role("button", name="Add kill criterion").click()
    page.locator(".field__error").get_by_text("say why they change").wait_for()
    assert field(page, "Description").input_value() == ADOPTION_FLOOR
    field(page, "Why the goalposts change").fill("Adjusters bypassing the routing would hide a failure.")
    page.get_by_role("button", name="Add kill criterion").click()
    page.wait_for_url("**/pilots/claims-triage/**")
    changes = page.locator("section[aria-labelledby=approval-changes]")
    entry = changes.locator(".history__entry").filter(has_text="Kill criterion “adoption”")
    assert "Kill criterion “adoption” added" in entry.inner_text()
    assert "Olivia Owner" in entry.inner_text()
    assert "Reason: Adjusters bypassing the routing would hide a failure." in entry.inner_text()

    for days, value in [(20, "35"), (30, "41"), (40, "47")]:
        record_reading(page, "claims-triage", on_day(days), value)
    open_gate(page, "claims-triage", "2 of 8 criteria met.")
    expect_met(page, "value_demonstrated", f"KPI '{KPI_NAME}' beat its baseline in each of its last 3 readings")

    # Evidence goes in place: a marker on the window survives only if the page never reloads.
    page.evaluate("window.notReloaded = true")
    attest(page, "data_pipeline", "Claims arrive from the intake queue every 5 minutes; no manual export since week 3.")
    attest(page, "integration_plan", "Routing writes the assignee back to ClaimCenter: plan CC-42, signed by IT.")
    attest(page, "monitoring", "Grafana board 'claims-routing' pages the on-call analyst on error rate and drift.")
    page.locator("#readiness-summary").get_by_text("5 of 8 criteria met.").wait_for()
    assert page.evaluate("window.notReloaded") is True

    # The sponsor checks in, then tries to hold without a review date: refused, typing kept.
    sign_in(page, "sam")
    page.goto("/pilots/claims-triage/")
    card = page.locator("#checkins-card")
    card.get_by_label("High").check()
    field(card, "Note").fill("Routing holds up; change management is the open question.")
    card.get_by_role("button", name="Record check-in").click()
    page.locator("#checkins-card").get_by_role("status").wait_for()
    open_gate(page, "claims-triage", "6 of 8 criteria met.")
    expect_met(page, "sponsor_engaged", "Sponsor checked in today")
    hold_rationale = "Change management and governance are not evidenced yet."
    page.get_by_label("Hold in Pilot").check()
    page.get_by_label("Rationale", exact=True).fill(hold_rationale)
    page.get_by_role("button", name="Record decision").click()
    decision = page.locator("#decision")
    decision.locator(".field__error").get_by_text("A hold needs the date of the next review.").wait_for()
    assert decision.get_by_role("alert").get_by_text("Nothing was recorded").is_visible()
    assert decision.get_by_label("Rationale", exact=True).input_value() == hold_rationale
    assert decision.get_by_label("Hold in Pilot").is_checked()
    assert not GateReview.objects.filter(pilot=pilot, decision="hold").exists()
    screenshot(page, "4_production_readiness_hold_refused")
    field(decision, "Next review").fill(iso(on_day(60)))
    decision.get_by_role("button", name="Record decision").click()
    page.wait_for_url("**/pilots/claims-triage/")
    page.get_by_text(f"Held in Pilot until the review on {on_day(60):%d %b %Y}.").wait_for()
    assert Pilot.objects.get(pk=pilot.pk).status == Status.ON_HOLD

    move_to(60)
    sign_in(page, "olivia")
    open_gate(page, "claims-triage", "6 of 8 criteria met.")
    attest(page, "change_management", "Adjusters trained in two sessions; the FAQ is on the claims intranet.")
    attest(page, "governance", "Model risk review MR-2027-07 passed; the DPIA is signed by the privacy office.")
    page.locator("#readiness-summary").get_by_text("8 of 8 criteria met.").wait_for()
    assert page.get_by_text("Ready to advance to Production.").is_visible()
    screenshot(page, "5_production_readiness_ready")

    sign_in(page, "sam")
    decide(page, "claims-triage", "Advance to Production", "Value shown three readings running, every item evidenced.")
    page.wait_for_url("**/pilots/claims-triage/")
    page.get_by_text("Advanced to Production.").wait_for()

    # -- Gate 3, the scale decision --------------------------------------------------------------
    move_to(150)
    sign_in(page, "olivia")
    open_gate(page, "claims-triage", "1 of 4 criteria met.")
    assert page.get_by_role("heading", name="Scale decision: Production → Scaled adoption").is_visible()
    expect_met(page, "no_critical_flags", "No critical flag open")
    expect_unmet(
        page,
        {
            "targets_met": f"KPI '{KPI_NAME}' missed its target of 60 % on {shown(on_day(40))} (47 %)",
            "runbook": "No evidence recorded",
            "drift_monitoring": "No evidence recorded",
        },
    )
    screenshot(page, "6_scale_decision_unmet")
    for days, value in [(100, "61"), (120, "64"), (140, "66")]:
        record_reading(page, "claims-triage", on_day(days), value)
    open_gate(page, "claims-triage", "2 of 4 criteria met.")
    expect_met(page, "targets_met", "Every KPI met its target in each of its last 3 readings")
    attest(page, "runbook", "Runbook RB-17 in the service catalogue; level 2 support by the claims systems team.")
    attest(page, "drift_monitoring", "Monthly drift report owned by the data science lead; retraining every quarter.")
    page.locator("#readiness-summary").get_by_text("4 of 4 criteria met.").wait_for()
    screenshot(page, "7_scale_decision_ready")

    sign_in(page, "paula")
    decide(page, "claims-triage", "Advance to Scaled adoption", "Targets met for three months; support in place.")
    page.wait_for_url("**/pilots/claims-triage/")
    page.get_by_text("Advanced to Scaled adoption.").wait_for()

    # -- The record: every phase with its dates, every review with its decision and decider -----
    phases = page.locator("section[aria-labelledby=timeline] .timeline__phase")
    heads = [" ".join(text.split()) for text in phases.locator(".timeline__head").all_inner_texts()]
    assert heads == [
        f"Proof of concept {shown(on_day(0))} – {shown(on_day(9))} · 9 days",
        f"Pilot {shown(on_day(9))} – {shown(on_day(60))} · 51 days",
        f"Production {shown(on_day(60))} – {shown(on_day(150))} · 90 days",
        f"Scaled adoption {shown(on_day(150))} – now · 0 days Active",
    ]
    reviews = [
        [" ".join(meta.split()) for meta in phase.locator(".review__meta").all_inner_texts()] for phase in phases.all()
    ]
    assert reviews == [
        [f"Advance {shown(on_day(9))} · decided by Sam Sponsor"],
        [f"Hold {shown(on_day(45))} · decided by Sam Sponsor", f"Advance {shown(on_day(60))} · decided by Sam Sponsor"],
        [f"Advance {shown(on_day(150))} · decided by Paula Office"],
        [],
    ]
    assert page.locator("section[aria-labelledby=timeline]").get_by_text(hold_rationale).is_visible()
    screenshot(page, "8_pilot_page_scaled")
    page.goto("/pilots/claims-triage/gate/")
    assert page.get_by_text("This pilot has reached scaled adoption, the last phase.").is_visible()

    recorded = list(GateReview.objects.filter(pilot=pilot).order_by("decided_on", "id"))
    assert [(r.from_phase, r.decision, r.decided_by.username, r.is_override) for r in recorded] == [
        (Phase.POC, "advance", "sam", False),
        (Phase.PILOT, "hold", "sam", False),
        (Phase.PILOT, "advance", "sam", False),
        (Phase.PRODUCTION, "advance", "paula", False),
    ]
    assert [(r.items.count(), r.items.filter(met=True).count()) for r in recorded] == [(6, 6), (8, 6), (8, 8), (4, 4)]

    # The record cannot be rewritten: the database refuses, whoever asks (raw SQL included,
    # which the snapshot's own model code never sees).
    first = recorded[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        GateReview.objects.filter(pk=first.pk).update(decision="kill")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE gates_gatereviewitem SET met = %s WHERE review_id = %s", [False, first.pk])
    assert GateReview.objects.get(pk=first.pk).decision == "advance"
    assert not GateReviewItem.objects.filter(review=first, met=False).exists()


LESSON = "Handwritten forms defeat the OCR: scan quality matters more than the model."


@pytest.fixture
def pilot_in_trouble(people) -> Pilot:
    """A pilot well into its pilot phase whose KPI went nowhere (its earlier life is the journey above)."""
    today = timezone.localdate()
    pilot = PilotFactory(
        key="invoice-capture",
        name="Invoice capture",
        problem="Paper invoices are keyed in by hand, which delays payment runs.",
        owner=people["owner"],
        sponsor=people["sponsor"],
        phase=Phase.PILOT,
        started_on=today - dt.timedelta(days=150),
        phase_entered_on=today - dt.timedelta(days=90),
    )
    kpi = KpiFactory(pilot=pilot, key="straight-through", name="Invoices captured untouched", baseline=10, target=70)
    for days_ago, value in [(30, 11.0), (20, 9.0), (10, 12.0)]:
        KpiReadingFactory(kpi=kpi, measured_on=today - dt.timedelta(days=days_ago), value=value)
    KillCriterionFactory(pilot=pilot, key="floor")
    # An active pilot whose problem shares the words: a killed-only search must leave it out.
    PilotFactory(key="receipt-scanning", name="Receipt scanning", problem="Handwritten receipts are keyed in by hand.")
    return pilot


def test_a_killed_pilot_keeps_its_rationale_and_lessons_and_the_lesson_is_found_again(page, pilot_in_trouble):
    pilot = pilot_in_trouble
    sign_in(page, "sam")
    page.goto(f"/pilots/{pilot.key}/gate/")
    page.get_by_label("Kill").check()
    rationale = "Straight-through capture stayed near 10% for three months; the floor was 30%."
    page.get_by_label("Rationale", exact=True).fill(rationale)
    page.get_by_role("button", name="Record decision").click()
    decision = page.locator("#decision")
    decision.locator(".field__error").get_by_text("A kill needs what was learned").wait_for()
    assert decision.get_by_label("Rationale", exact=True).input_value() == rationale
    screenshot(page, "9_kill_refused")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "9_kill_refused_phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    field(decision, "What was learned").fill(LESSON)
    decision.get_by_role("button", name="Record decision").click()
    page.wait_for_url(f"**/pilots/{pilot.key}/")
    page.get_by_text("Killed. The rationale and lessons are on record.").wait_for()

    timeline = page.locator("section[aria-labelledby=timeline]")
    assert timeline.get_by_text("Killed here").is_visible()
    assert timeline.get_by_text(rationale).is_visible()
    assert timeline.get_by_text(f"What was learned: {LESSON}").is_visible()
    assert "decided by Sam Sponsor" in timeline.inner_text()
    killed = Pilot.objects.get(pk=pilot.pk)
    assert (killed.status, killed.phase) == (Status.KILLED, Phase.PILOT)

    # Months later, someone looks for what was learned about handwriting.
    page.goto("/pilots/?status=killed&q=handwritten+scan")
    results = page.locator("#results")
    assert results.get_by_role("link", name="Invoice capture").is_visible()
    assert results.get_by_role("link", name="Receipt scanning").count() == 0
    page.goto("/pilots/?status=killed&q=blockchain")
    assert page.locator("#results").get_by_role("link", name="Invoice capture").count() == 0

    # And the portfolio office, starting a pilot with a similar problem, is shown the lesson.
    sign_in(page, "paula")
    page.goto("/office/pilots/new/")
    field(page, "Problem").fill("Supplier invoices arrive on paper and are keyed in by hand.")
    lessons = page.locator("#similar-lessons")
    lessons.get_by_text(LESSON).wait_for()
    assert lessons.get_by_role("link", name="Invoice capture").is_visible()
    screenshot(page, "10_similar_lessons")
