"""The pilot page's timeline (rendered through the gates' template tags) and its gate review link."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from portfolio.models import Phase, Pilot, Status
from tests.factories import TODAY, GateReviewFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today", "fast_password_hashing")]


def days_ago(count: int) -> dt.date:
    return TODAY - dt.timedelta(days=count)


def pilot_page(pilot: Pilot, user: object) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(pilot.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def timeline_of(page: str) -> str:
    start = page.index('id="timeline"')
    return page[start : page.index("</section>", start)]


def test_the_pilot_page_links_to_its_gate_review(pilot, outsider):
    assert f'href="{reverse("gate_review", args=[pilot.key])}"' in pilot_page(pilot, outsider)


def test_the_timeline_shows_each_phase_with_its_dates_and_each_review_with_who_decided(pilot, outsider, sponsor):
    Pilot.objects.filter(pk=pilot.pk).update(phase=Phase.PILOT, started_on=days_ago(90), phase_entered_on=days_ago(30))
    GateReviewFactory(pilot=pilot, decided_on=days_ago(30), rationale="Baseline signed off.")

    timeline = timeline_of(pilot_page(pilot, outsider))

    assert "Proof of concept" in timeline and "18 Aug 2026" in timeline and "17 Oct 2026" in timeline
    assert "60 days" in timeline
    assert "Advance" in timeline and "decided by Sam Sponsor" in timeline
    assert "Baseline signed off." in timeline
    assert "Scaled adoption" in timeline and "Not reached yet" in timeline
    assert "Override" not in timeline


def test_an_override_is_highlighted_with_its_justification(pilot, outsider):
    Pilot.objects.filter(pk=pilot.pk).update(phase=Phase.PILOT)
    GateReviewFactory(pilot=pilot, override_justification="The January renewal wave cannot wait for Legal.")
    timeline = timeline_of(pilot_page(pilot, outsider))
    assert "review--override" in timeline
    assert '<span class="badge badge--override">Override</span>' in timeline
    assert "Justification: The January renewal wave cannot wait for Legal." in timeline


def test_a_kill_shows_what_was_learned(pilot, outsider):
    Pilot.objects.filter(pk=pilot.pk).update(status=Status.KILLED)
    GateReviewFactory(pilot=pilot, decision="kill", rationale="Nobody used it.", lessons="Ask the agents first.")
    timeline = timeline_of(pilot_page(pilot, outsider))
    assert "Killed here" in timeline
    assert "What was learned:</strong> Ask the agents first." in timeline
    assert "Not reached yet" not in timeline


def test_user_text_in_the_timeline_is_escaped(pilot, outsider):
    GateReviewFactory(pilot=pilot, decision="hold", rationale="<script>alert(1)</script>", next_review_on=TODAY)
    timeline = timeline_of(pilot_page(pilot, outsider))
    assert "<script>" not in timeline
    assert "&lt;script&gt;" in timeline
