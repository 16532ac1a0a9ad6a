"""The portfolio office tunes criteria in the admin; recorded decisions keep what they recorded."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gates.models import GateCriterion, GateReview
from gates.services import gate_decide

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today", "fast_password_hashing")]


@pytest.fixture
def office_client(pmo) -> Client:
    pmo.is_staff = True
    pmo.save()
    client = Client()
    client.force_login(pmo)
    return client


@pytest.fixture
def decided(ready_for_approval, sponsor) -> GateReview:
    return gate_decide(
        pilot=ready_for_approval, decision="advance", decided_by=sponsor, read_phase="poc", read_version=1
    )


def test_rewording_a_criterion_in_the_admin_leaves_recorded_snapshots_as_they_were(office_client, decided):
    criterion = GateCriterion.objects.get(code="kill_criteria_set")
    url = reverse("admin:gates_gatecriterion_change", args=[criterion.pk])
    data = {
        "gate": criterion.gate,
        "label": "Kill criteria agreed with Finance",
        "help_text": criterion.help_text,
        "kind": criterion.kind,
        "rule": criterion.rule,
        "order": criterion.order,
        "active": "on",
    }
    response = office_client.post(url, data)

    assert response.status_code == 302
    assert GateCriterion.objects.get(pk=criterion.pk).label == "Kill criteria agreed with Finance"
    assert decided.items.get(code="kill_criteria_set").label == "Kill criteria set"


def test_correcting_a_reviews_rationale_in_the_admin_keeps_the_decision(office_client, decided):
    url = reverse("admin:gates_gatereview_change", args=[decided.pk])
    data = {
        "rationale": "Corrected: the baseline was signed off by Finance.",
        "lessons": "",
        "next_review_on": "",
        "items-TOTAL_FORMS": 0,
        "items-INITIAL_FORMS": decided.items.count(),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
    }
    response = office_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    decided.refresh_from_db()
    assert (decided.rationale, decided.decision, decided.items.count()) == (
        "Corrected: the baseline was signed off by Finance.",
        "advance",
        6,
    )
