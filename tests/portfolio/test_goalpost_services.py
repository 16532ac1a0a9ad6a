"""KPI and kill-criterion services: plain-worded rules, locking, and the freeze after the first gate."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portfolio.models import Comparator, Direction, KillCriterion, Kpi, Phase
from portfolio.preregistration import ReasonRequired
from portfolio.services import (
    StaleEdit,
    kill_criterion_create,
    kill_criterion_update,
    kpi_create,
    kpi_update,
)
from tests.factories import KillCriterionFactory, KpiFactory, PilotFactory


@pytest.fixture
def approved(pilot):
    pilot.phase = Phase.PILOT
    pilot.save()
    return pilot


def test_a_kpi_is_created_with_its_goalposts(pilot, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        kpi = kpi_create(pilot=pilot, key="match-rate", name="Match rate", baseline=50, target=80, created_by=owner)

    assert (kpi.baseline, kpi.target, kpi.version) == (50, 80, 1)
    assert len(callbacks) == 1


@pytest.mark.parametrize(
    ("direction", "baseline", "target", "message"),
    [
        (Direction.INCREASE, 50, 40, "Higher is better for this KPI, so the target must be above the baseline."),
        (Direction.DECREASE, 9, 12, "Lower is better for this KPI, so the target must be below the baseline."),
        (Direction.INCREASE, 50, 50, "Higher is better for this KPI, so the target must be above the baseline."),
    ],
)
def test_a_target_on_the_wrong_side_of_the_baseline_is_refused(pilot, owner, direction, baseline, target, message):
    with pytest.raises(ValidationError) as refused:
        kpi_create(
            pilot=pilot, key="k", name="K", direction=direction, baseline=baseline, target=target, created_by=owner
        )

    assert refused.value.message_dict["target"] == [message]
    assert not Kpi.objects.exists()


def test_a_kpi_key_is_unique_within_the_pilot(pilot, owner):
    KpiFactory(pilot=pilot, key="match-rate")

    with pytest.raises(ValidationError) as refused:
        kpi_create(pilot=pilot, key="match-rate", name="Again", target=1, created_by=owner)

    assert refused.value.message_dict["key"] == ['This pilot already has a KPI with the key "match-rate".']


def test_before_the_first_gate_goalposts_change_freely(pilot, owner):
    kpi = KpiFactory(pilot=pilot)

    saved = kpi_update(kpi=kpi, version=1, changes={"target": 90.0}, updated_by=owner)

    assert (saved.target, saved.version) == (90.0, 2)


def test_after_the_first_gate_a_goalpost_needs_a_reason(approved, owner):
    kpi = KpiFactory(pilot=approved, target=80.0)

    with pytest.raises(ReasonRequired):
        kpi_update(kpi=kpi, version=1, changes={"target": 70.0}, updated_by=owner, reason="  ")
    saved = kpi_update(kpi=kpi, version=1, changes={"target": 70.0}, updated_by=owner, reason="Sales season.")

    assert saved.target == 70.0
    record = saved.history.latest()
    assert (record.history_change_reason, record.history_user) == ("Sales season.", owner)


def test_after_the_first_gate_a_name_still_changes_freely(approved, owner):
    kpi = KpiFactory(pilot=approved)

    saved = kpi_update(kpi=kpi, version=1, changes={"name": "Auto-match rate"}, updated_by=owner)

    assert saved.name == "Auto-match rate"
    assert saved.history.latest().history_change_reason is None


def test_after_the_first_gate_a_new_kpi_needs_a_reason(approved, owner):
    with pytest.raises(ReasonRequired):
        kpi_create(pilot=approved, key="new", name="New", target=1, created_by=owner)

    kpi = kpi_create(pilot=approved, key="new", name="New", target=1, created_by=owner, reason="Finance asked.")
    assert kpi.history.get().history_change_reason == "Finance asked."


def test_a_stale_kpi_edit_is_refused(pilot, owner, pmo):
    kpi = KpiFactory(pilot=pilot)
    kpi_update(kpi=kpi, version=1, changes={"unit": "pct"}, updated_by=pmo)

    with pytest.raises(StaleEdit) as refused:
        kpi_update(kpi=kpi, version=1, changes={"unit": "%"}, updated_by=owner)

    assert refused.value.current.unit == "pct"


def test_a_kill_criterion_is_words_or_a_complete_condition(pilot, owner):
    kpi = KpiFactory(pilot=pilot)

    kill_criterion_create(pilot=pilot, key="adoption", description="Nobody uses it.", created_by=owner)
    kill_criterion_create(
        pilot=pilot,
        key="floor",
        description="Too few matches.",
        kpi=kpi,
        comparator=Comparator.BELOW,
        threshold=40.0,
        created_by=owner,
    )
    with pytest.raises(ValidationError) as refused:
        kill_criterion_create(pilot=pilot, key="half", description="Half", kpi=kpi, created_by=owner)

    assert set(refused.value.message_dict) == {"comparator", "threshold"}
    assert KillCriterion.objects.count() == 2


def test_a_kill_criterion_may_not_measure_another_pilots_kpi(pilot, owner):
    foreign = KpiFactory(pilot=PilotFactory())

    with pytest.raises(ValidationError) as refused:
        kill_criterion_create(
            pilot=pilot, key="x", description="x", kpi=foreign, comparator="below", threshold=1, created_by=owner
        )

    assert refused.value.message_dict["kpi"] == ["Pick a KPI of this pilot."]


def test_after_the_first_gate_a_kill_criterion_change_needs_a_reason(approved, owner):
    criterion = KillCriterionFactory(pilot=approved)

    with pytest.raises(ReasonRequired):
        kill_criterion_update(criterion=criterion, version=1, changes={"description": "Softer"}, updated_by=owner)
    saved = kill_criterion_update(
        criterion=criterion, version=1, changes={"description": "Softer"}, updated_by=owner, reason="Board said so."
    )

    assert saved.history.latest().history_change_reason == "Board said so."


def test_a_stale_kill_criterion_edit_is_refused(pilot, owner):
    criterion = KillCriterionFactory(pilot=pilot)
    kill_criterion_update(criterion=criterion, version=1, changes={"description": "First"}, updated_by=owner)

    with pytest.raises(StaleEdit):
        kill_criterion_update(criterion=criterion, version=1, changes={"description": "Second"}, updated_by=owner)
