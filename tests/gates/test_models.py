"""The gates' rules that the database itself enforces, and the default criteria its migration loads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import IntegrityError, models, transaction

from gates.models import GateCriterion, GateReview
from tests.factories import GateReviewFactory, PilotFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

# DESIGN section 4, in its order: (gate, label, kind).
DESIGN_CRITERIA = [
    ("poc", "Business owner assigned", "auto"),
    ("poc", "Executive sponsor assigned", "auto"),
    ("poc", "Business outcome defined", "auto"),
    ("poc", "Success metrics defined", "auto"),
    ("poc", "Baseline measured", "auto"),
    ("poc", "Kill criteria set", "auto"),
    ("pilot", "Business owner assigned", "auto"),
    ("pilot", "Value demonstrated", "auto"),
    ("pilot", "Sponsor engaged", "auto"),
    ("pilot", "Data pipeline stable and automated", "attested"),
    ("pilot", "Integration plan with existing systems defined", "attested"),
    ("pilot", "Monitoring and alerting in place", "attested"),
    ("pilot", "Change management plan for end users", "attested"),
    ("pilot", "Governance and compliance reviewed", "attested"),
    ("production", "Targets met and stable", "auto"),
    ("production", "No critical flags open", "auto"),
    ("production", "Runbook, support and escalation path documented", "attested"),
    ("production", "Drift monitoring and retraining owned", "attested"),
]


@contextmanager
def rejected_by_database(*names: str) -> Iterator[None]:
    """Expect an IntegrityError naming one of ``names`` (SQLite lists a unique field's column instead)."""
    with pytest.raises(IntegrityError, match="|".join(re.escape(name) for name in names)), transaction.atomic():
        yield


def update(obj: models.Model, **values: Any) -> int:
    """Write straight to the table, bypassing the model and its validation."""
    return type(obj).objects.filter(pk=obj.pk).update(**values)


def criterion(**kwargs: Any) -> GateCriterion:
    values = {"gate": "pilot", "code": "security-review", "label": "Security reviewed", "kind": "attested"}
    return GateCriterion.objects.create(**(values | kwargs))


# The default criteria


def test_the_migration_loads_the_eighteen_criteria_of_the_design():
    loaded = list(GateCriterion.objects.order_by("order").values_list("gate", "label", "kind"))
    assert loaded == DESIGN_CRITERIA


def test_every_default_criterion_is_active_and_every_automatic_one_has_a_rule():
    assert not GateCriterion.objects.filter(active=False).exists()
    assert not GateCriterion.objects.filter(kind="auto", rule="").exists()
    assert set(GateCriterion.objects.filter(kind="attested").values_list("rule", flat=True)) == {""}


# Gate criteria


def test_a_criterion_code_is_unique():
    with rejected_by_database("gates_gatecriterion.code", "gates_gatecriterion_code"):
        criterion(code="monitoring")


def test_an_automatic_criterion_without_a_rule_is_refused():
    with rejected_by_database("gates_criterion_rule_matches_kind"):
        criterion(kind="auto", rule="")


def test_an_automatic_criterion_with_an_unknown_rule_is_refused():
    with rejected_by_database("gates_criterion_rule_matches_kind"):
        criterion(kind="auto", rule="gut_feeling")


def test_an_attested_criterion_with_a_rule_is_refused():
    with rejected_by_database("gates_criterion_rule_matches_kind"):
        criterion(kind="attested", rule="owner_assigned")


def test_turning_an_automatic_criterion_into_an_attested_one_needs_its_rule_cleared():
    owner_assigned = GateCriterion.objects.get(code="owner_assigned")
    with rejected_by_database("gates_criterion_rule_matches_kind"):
        update(owner_assigned, kind="attested")
    update(owner_assigned, kind="attested", rule="")
    assert GateCriterion.objects.get(code="owner_assigned").kind == "attested"


def test_a_new_criterion_of_either_kind_is_accepted():
    criterion(code="security-review", kind="attested", rule="")
    criterion(code="sponsor-again", kind="auto", rule="sponsor_assigned")
    assert GateCriterion.objects.count() == len(DESIGN_CRITERIA) + 2


@pytest.mark.parametrize(
    ("field", "constraint"),
    [("gate", "gates_criterion_gate_valid"), ("kind", "gates_criterion_kind_valid")],
)
def test_a_criterion_value_outside_the_choices_is_refused(field: str, constraint: str):
    monitoring = GateCriterion.objects.get(code="monitoring")
    with rejected_by_database(constraint):
        update(monitoring, **{field: "bogus"})


# Gate reviews


@pytest.mark.parametrize(
    ("from_phase", "to_phase"),
    [
        pytest.param("poc", "production", id="skipping a gate"),
        pytest.param("pilot", "poc", id="going back"),
        pytest.param("pilot", "pilot", id="standing still"),
        pytest.param("scaled", "production", id="from the last phase"),
        pytest.param("bogus", "pilot", id="from no phase"),
    ],
)
def test_a_gate_review_that_is_not_one_gate_is_refused(from_phase: str, to_phase: str):
    with rejected_by_database("gates_review_is_one_gate"):
        GateReviewFactory(from_phase=from_phase, to_phase=to_phase)


def test_a_review_of_each_of_the_three_gates_is_accepted():
    pilot = PilotFactory()
    for from_phase, to_phase in [("poc", "pilot"), ("pilot", "production"), ("production", "scaled")]:
        GateReviewFactory(pilot=pilot, from_phase=from_phase, to_phase=to_phase)
    assert GateReview.objects.filter(pilot=pilot).count() == 3


def test_a_gate_decision_outside_the_choices_is_refused():
    # Inserted rather than updated: a recorded decision cannot be updated at all (test_decision_records.py).
    with rejected_by_database("gates_review_decision_valid"):
        GateReviewFactory(decision="bogus")
    assert not GateReview.objects.exists()
