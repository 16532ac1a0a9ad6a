"""The gate review page and its endpoints: who reads, who attests, who decides, htmx and plain forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gates.models import Attestation, GateReview
from portfolio.models import Phase, Pilot, Status
from tests.factories import TODAY, GateReviewFactory, PilotFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today", "fast_password_hashing")]

HTMX = {"HTTP_HX_REQUEST": "true"}
EVIDENCE = "Grafana board 'claims' pages the on-call analyst: https://grafana.example/d/claims"


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_url(pilot: Pilot) -> str:
    return reverse("gate_review", args=[pilot.key])


def attest_url(pilot: Pilot, code: str = "monitoring") -> str:
    return reverse("gate_attest", args=[pilot.key, code])


def decide_url(pilot: Pilot) -> str:
    return reverse("gate_decide", args=[pilot.key])


def decision_data(pilot: Pilot, decision: str = "advance", **fields: str) -> dict[str, object]:
    pilot.refresh_from_db()
    return {"decision": decision, "read_phase": pilot.phase, "read_version": pilot.version, **fields}


@pytest.fixture
def in_pilot_phase(pilot: Pilot) -> Pilot:
    Pilot.objects.filter(pk=pilot.pk).update(phase=Phase.PILOT)
    pilot.refresh_from_db()
    return pilot


# Reading the page


@pytest.mark.parametrize("persona", ["owner", "sponsor", "outsider", "executive", "pmo"])
def test_every_signed_in_person_reads_the_gate_and_its_criteria(request, in_pilot_phase, persona):
    response = client_for(request.getfixturevalue(persona)).get(page_url(in_pilot_phase))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Production readiness: Pilot → Production" in page
    assert "Monitoring and alerting in place" in page
    assert "No evidence recorded" in page


def test_signed_out_visitors_are_sent_to_sign_in(in_pilot_phase):
    response = Client().get(page_url(in_pilot_phase))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_unknown_pilot_is_not_found(owner):
    assert client_for(owner).get(reverse("gate_review", args=["no-such-pilot"])).status_code == 404


@pytest.mark.parametrize(
    ("persona", "attests", "decides"),
    [
        ("owner", True, False),
        ("sponsor", False, True),
        ("pmo", True, True),
        ("executive", False, False),
        ("outsider", False, False),
    ],
)
def test_each_person_gets_the_forms_they_may_use(request, in_pilot_phase, persona, attests, decides):
    page = client_for(request.getfixturevalue(persona)).get(page_url(in_pilot_phase)).content.decode()
    assert (attest_url(in_pilot_phase) in page) is attests
    assert (decide_url(in_pilot_phase) in page) is decides


def test_a_scaled_pilot_has_no_gate_ahead(pilot, sponsor):
    Pilot.objects.filter(pk=pilot.pk).update(phase=Phase.SCALED)
    page = client_for(sponsor).get(page_url(pilot)).content.decode()
    assert "No gate ahead" in page
    assert decide_url(pilot) not in page


def test_the_page_lists_earlier_reviews_with_their_snapshot(pilot, outsider):
    review = GateReviewFactory(pilot=pilot, decision="hold", next_review_on=TODAY + dt.timedelta(days=9))
    review.items.create(code="owner_assigned", label="Business owner assigned", kind="auto", met=True, reason="Yes")
    page = client_for(outsider).get(page_url(pilot)).content.decode()
    assert "Criteria at decision time (1)" in page
    assert "Next review 25 Nov 2026" in page


# Attesting


def test_the_owner_attests_inline_and_htmx_gets_the_criterion_back_updated(in_pilot_phase, owner):
    response = client_for(owner).post(attest_url(in_pilot_phase), {"monitoring-evidence": EVIDENCE}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<li id="criterion-monitoring" class="criterion criterion--met">')
    assert "Evidence recorded." in html
    assert 'href="https://grafana.example/d/claims"' in html
    assert 'id="readiness-summary"' in html and 'hx-swap-oob="true"' in html
    assert Attestation.objects.get().evidence == EVIDENCE
    assert "HX-Request" in response["Vary"]


def test_without_javascript_the_owner_attests_and_returns_to_the_gate(in_pilot_phase, owner):
    response = client_for(owner).post(attest_url(in_pilot_phase), {"monitoring-evidence": EVIDENCE})
    assert response.status_code == 302
    assert response["Location"] == page_url(in_pilot_phase) + "#criterion-monitoring"
    assert Attestation.objects.get().attested_by == owner


def test_the_portfolio_office_may_attest_too(in_pilot_phase, pmo):
    response = client_for(pmo).post(attest_url(in_pilot_phase), {"monitoring-evidence": EVIDENCE}, **HTMX)
    assert response.status_code == 200
    assert Attestation.objects.get().attested_by == pmo


def test_empty_evidence_comes_back_in_the_partial_with_the_problem(in_pilot_phase, owner):
    response = client_for(owner).post(attest_url(in_pilot_phase), {"monitoring-evidence": "  "}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Describe the evidence or paste a link to it." in html
    assert not Attestation.objects.exists()


def test_without_javascript_empty_evidence_shows_the_page_again_with_the_problem(in_pilot_phase, owner):
    response = client_for(owner).post(attest_url(in_pilot_phase), {"monitoring-evidence": ""})
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert "Describe the evidence or paste a link to it." in response.content.decode()


def test_a_criterion_of_another_gate_is_refused_with_the_reason(in_pilot_phase, owner):
    response = client_for(owner).post(attest_url(in_pilot_phase, "runbook"), {"runbook-evidence": EVIDENCE}, **HTMX)
    assert response.status_code == 200
    assert "is not a criterion of this pilot&#x27;s next gate" in response.content.decode()
    assert not Attestation.objects.exists()


@pytest.mark.parametrize("persona", ["sponsor", "outsider", "executive"])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["form", "htmx"])
def test_only_the_owner_or_the_office_may_attest(request, in_pilot_phase, persona, headers):
    user = request.getfixturevalue(persona)
    response = client_for(user).post(attest_url(in_pilot_phase), {"monitoring-evidence": EVIDENCE}, **headers)
    assert response.status_code == 403
    assert not Attestation.objects.exists()


def test_an_owner_may_not_attest_for_someone_elses_pilot(in_pilot_phase, owner):
    other = Pilot.objects.get(pk=in_pilot_phase.pk)
    Pilot.objects.filter(pk=other.pk).update(owner=UserFactory())
    response = client_for(owner).post(attest_url(other), {"monitoring-evidence": EVIDENCE}, **HTMX)
    assert response.status_code == 403
    assert not Attestation.objects.exists()


def test_attesting_needs_a_post(in_pilot_phase, owner):
    assert client_for(owner).get(attest_url(in_pilot_phase)).status_code == 405


# Deciding


def test_the_sponsor_advances_a_ready_pilot_and_lands_on_its_page(ready_for_approval, sponsor):
    client = client_for(sponsor)
    response = client.post(decide_url(ready_for_approval), decision_data(ready_for_approval, rationale="All met."))
    assert response.status_code == 302
    assert response["Location"] == ready_for_approval.get_absolute_url()
    assert Pilot.objects.get(pk=ready_for_approval.pk).phase == Phase.PILOT
    assert "Advanced to Pilot." in client.get(response["Location"]).content.decode()


def test_with_htmx_a_decision_redirects_the_browser_to_the_pilot(ready_for_approval, pmo):
    response = client_for(pmo).post(decide_url(ready_for_approval), decision_data(ready_for_approval), **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == ready_for_approval.get_absolute_url()
    assert GateReview.objects.get().decided_by == pmo


def test_a_refused_kill_keeps_what_was_typed_and_says_what_is_missing(pilot, sponsor):
    data = decision_data(pilot, "kill", rationale="Nobody used it after week two.")
    response = client_for(sponsor).post(decide_url(pilot), data, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="decision"')
    assert "Nobody used it after week two.</textarea>" in html
    assert "A kill needs what was learned" in html
    assert 'value="kill"' in html and "checked" in html
    assert not GateReview.objects.exists()
    assert Pilot.objects.get(pk=pilot.pk).status == Status.ACTIVE


def test_without_javascript_a_refused_advance_shows_the_whole_page_with_the_override_problem(pilot, sponsor):
    data = decision_data(pilot, override_justification="Too short.")
    response = client_for(sponsor).post(decide_url(pilot), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "the override justification needs at least 30 characters (it has 10)" in html
    assert "Too short.</textarea>" in html


def test_a_hold_without_a_date_asks_for_one(pilot, pmo):
    response = client_for(pmo).post(decide_url(pilot), decision_data(pilot, "hold"), **HTMX)
    assert "A hold needs the date of the next review." in response.content.decode()


def test_no_decision_chosen_asks_to_choose_one(pilot, pmo):
    data = decision_data(pilot)
    del data["decision"]
    response = client_for(pmo).post(decide_url(pilot), data, **HTMX)
    assert "Choose a decision: advance, hold or kill." in response.content.decode()


def test_the_second_of_two_people_deciding_is_told_the_pilot_moved_on(ready_for_approval, sponsor, pmo):
    form_read_by_both = decision_data(ready_for_approval)
    client_for(sponsor).post(decide_url(ready_for_approval), form_read_by_both)

    response = client_for(pmo).post(
        decide_url(ready_for_approval), {**form_read_by_both, "rationale": "Agreed."}, **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "The pilot has moved on since you opened this page" in html
    assert "Agreed.</textarea>" in html
    assert GateReview.objects.count() == 1


@pytest.mark.parametrize("persona", ["owner", "outsider", "executive"])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["form", "htmx"])
def test_only_the_office_or_the_pilots_sponsor_may_decide(request, ready_for_approval, persona, headers):
    user = request.getfixturevalue(persona)
    response = client_for(user).post(decide_url(ready_for_approval), decision_data(ready_for_approval), **headers)
    assert response.status_code == 403
    assert not GateReview.objects.exists()
    assert Pilot.objects.get(pk=ready_for_approval.pk).phase == Phase.POC


def test_a_sponsor_may_not_decide_another_sponsors_pilot(ready_for_approval, sponsor):
    Pilot.objects.filter(pk=ready_for_approval.pk).update(sponsor=UserFactory())
    response = client_for(sponsor).post(decide_url(ready_for_approval), decision_data(ready_for_approval), **HTMX)
    assert response.status_code == 403
    assert not GateReview.objects.exists()


def test_an_executive_who_sponsors_the_pilot_decides_it(ready_for_approval, executive):
    Pilot.objects.filter(pk=ready_for_approval.pk).update(sponsor=executive)
    response = client_for(executive).post(decide_url(ready_for_approval), decision_data(ready_for_approval))
    assert response.status_code == 302


# Lessons of similar killed pilots (for the pilot creation form)


def test_similar_lessons_answers_with_a_partial(outsider):
    killed = PilotFactory(
        name="Returns chatbot", problem="Customers wait on hold to arrange a return.", status=Status.KILLED
    )
    GateReviewFactory(pilot=killed, decision="kill", lessons="They wanted a label, not a chat.")
    response = client_for(outsider).get(reverse("similar_lessons"), {"problem": "Returns: customers wait on hold"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Returns chatbot" in html and "They wanted a label, not a chat." in html


def test_the_page_takes_as_many_queries_with_many_reviews_as_with_one(in_pilot_phase, sponsor):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(page_url(in_pilot_phase)).status_code == 200
        return len(captured.captured_queries)

    client = client_for(sponsor)
    GateReviewFactory(pilot=in_pilot_phase, decision="hold", next_review_on=TODAY)
    one = queries()
    for _ in range(5):
        review = GateReviewFactory(pilot=in_pilot_phase, decision="hold", next_review_on=TODAY)
        review.items.create(code="monitoring", label="Monitoring", kind="attested", met=False, reason="None")
    assert queries() == one <= 20
