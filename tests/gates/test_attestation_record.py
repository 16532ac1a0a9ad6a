"""attestation_record: evidence for a criterion of the pilot's next gate, once per double click."""

from __future__ import annotations

import pytest

from gates.models import Attestation, GateCriterion
from gates.services import AttestationProblem, attestation_record
from portfolio.models import Phase, Pilot, Status
from tests.factories import TODAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def in_pilot_phase(pilot: Pilot) -> Pilot:
    Pilot.objects.filter(pk=pilot.pk).update(phase=Phase.PILOT)
    pilot.refresh_from_db()
    return pilot


def criterion(code: str) -> GateCriterion:
    return GateCriterion.objects.get(code=code)


def record(
    pilot: Pilot, user: object, code: str = "monitoring", evidence: str = "https://grafana/d/claims"
) -> Attestation:
    return attestation_record(pilot=pilot, criterion=criterion(code), attested_by=user, evidence=evidence)


def test_it_records_evidence_dated_today(in_pilot_phase, owner):
    attestation = record(in_pilot_phase, owner, evidence="  https://grafana/d/claims  ")
    assert Attestation.objects.get() == attestation
    assert (attestation.attested_by, attestation.attested_on, attestation.evidence) == (
        owner,
        TODAY,
        "https://grafana/d/claims",
    )


def test_a_double_submit_records_the_evidence_once(in_pilot_phase, owner):
    first = record(in_pilot_phase, owner)
    second = record(in_pilot_phase, owner)
    assert first.pk == second.pk
    assert Attestation.objects.count() == 1


def test_newer_evidence_is_added_beside_the_old(in_pilot_phase, owner):
    record(in_pilot_phase, owner, evidence="Old dashboard")
    record(in_pilot_phase, owner, evidence="New dashboard")
    assert list(Attestation.objects.order_by("id").values_list("evidence", flat=True)) == [
        "Old dashboard",
        "New dashboard",
    ]


def test_empty_evidence_is_refused(in_pilot_phase, owner):
    with pytest.raises(AttestationProblem, match="Describe the evidence"):
        record(in_pilot_phase, owner, evidence="   ")
    assert not Attestation.objects.exists()


def test_evidence_too_long_is_refused(in_pilot_phase, owner):
    with pytest.raises(AttestationProblem, match="under 5,000 characters"):
        record(in_pilot_phase, owner, evidence="x" * 5001)


def test_an_automatic_criterion_takes_no_evidence(in_pilot_phase, owner):
    with pytest.raises(AttestationProblem, match="checked automatically"):
        record(in_pilot_phase, owner, code="value_demonstrated")


def test_a_criterion_of_another_gate_is_refused(in_pilot_phase, owner):
    with pytest.raises(AttestationProblem, match="not a criterion of this pilot's next gate"):
        record(in_pilot_phase, owner, code="runbook")


def test_a_deactivated_criterion_is_refused(in_pilot_phase, owner):
    GateCriterion.objects.filter(code="monitoring").update(active=False)
    with pytest.raises(AttestationProblem, match="no longer a gate criterion"):
        record(in_pilot_phase, owner)


def test_a_killed_pilot_takes_no_more_evidence(in_pilot_phase, owner):
    Pilot.objects.filter(pk=in_pilot_phase.pk).update(status=Status.KILLED)
    with pytest.raises(AttestationProblem, match="no gate ahead"):
        record(in_pilot_phase, owner)
