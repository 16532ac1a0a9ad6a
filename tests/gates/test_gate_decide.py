"""gate_decide: advance, hold and kill, their validation, the snapshot, and the pilot moving on."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from gates.models import GateCriterion, GateReview
from gates.services import DecisionRefused, PilotMovedOn, gate_decide
from portfolio.models import Flag, Phase, Pilot, Status
from tests.factories import TODAY, FlagFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

OVERRIDE = "Legal signs the review next week; the pilot cannot wait for it."


def decide(pilot: Pilot, user: object, decision: str, **fields: object) -> GateReview:
    pilot.refresh_from_db()
    return gate_decide(
        pilot=pilot, decision=decision, decided_by=user, read_phase=pilot.phase, read_version=pilot.version, **fields
    )


# Advance


def test_an_advance_with_every_criterion_met_moves_the_pilot_to_the_next_phase(ready_for_approval, sponsor):
    review = decide(ready_for_approval, sponsor, "advance", rationale="Baseline signed off.")

    pilot = Pilot.objects.get(pk=ready_for_approval.pk)
    assert (pilot.phase, pilot.phase_entered_on, pilot.status, pilot.version) == (Phase.PILOT, TODAY, Status.ACTIVE, 2)
    assert (review.from_phase, review.to_phase, review.decided_by, review.decided_on) == (
        "poc",
        "pilot",
        sponsor,
        TODAY,
    )
    assert (review.rationale, review.is_override) == ("Baseline signed off.", False)


def test_the_advance_is_in_the_pilots_history_with_who_and_why(ready_for_approval, sponsor):
    decide(ready_for_approval, sponsor, "advance")
    latest = Pilot.history.filter(id=ready_for_approval.pk).order_by("history_id").last()
    assert (latest.phase, latest.history_user, latest.history_change_reason) == (
        "pilot",
        sponsor,
        "Gate review: advanced to Pilot",
    )


def test_a_decision_snapshots_every_active_criterion_of_the_gate(ready_for_approval, sponsor):
    review = decide(ready_for_approval, sponsor, "advance")
    items = list(review.items.order_by("order"))
    expected = list(GateCriterion.objects.filter(gate="poc", active=True).order_by("order"))
    assert [(item.code, item.label, item.kind, item.criterion) for item in items] == [
        (c.code, c.label, c.kind, c) for c in expected
    ]
    assert all(item.met for item in items)
    assert items[0].reason == "Olivia Owner is the owner"


def test_an_advance_past_unmet_criteria_without_an_override_is_refused_and_records_nothing(pilot, sponsor):
    with pytest.raises(DecisionRefused) as refused:
        decide(pilot, sponsor, "advance")

    assert set(refused.value.problems) == {"override_justification"}
    assert "“Success metrics defined”" in refused.value.problems["override_justification"]
    assert not GateReview.objects.exists()
    assert Pilot.objects.get(pk=pilot.pk).phase == Phase.POC
    assert Pilot.objects.get(pk=pilot.pk).version == 1


def test_an_advance_with_an_override_records_it_and_the_unmet_criteria(pilot, sponsor):
    review = decide(pilot, sponsor, "advance", override_justification=OVERRIDE)

    assert review.is_override
    assert review.override_justification == OVERRIDE
    unmet = review.items.filter(met=False).values_list("code", flat=True)
    assert set(unmet) == {"metrics_defined", "baseline_measured", "kill_criteria_set"}
    assert Pilot.objects.get(pk=pilot.pk).phase == Phase.PILOT


def test_a_justification_written_when_every_criterion_is_met_is_not_an_override(ready_for_approval, sponsor):
    review = decide(ready_for_approval, sponsor, "advance", override_justification=OVERRIDE)
    assert not review.is_override


def test_an_advance_from_hold_makes_the_pilot_active_again(ready_for_production, pmo):
    Pilot.objects.filter(pk=ready_for_production.pk).update(status=Status.ON_HOLD, next_review_on=TODAY)
    decide(ready_for_production, pmo, "advance")
    pilot = Pilot.objects.get(pk=ready_for_production.pk)
    assert (pilot.phase, pilot.status, pilot.next_review_on) == (Phase.PRODUCTION, Status.ACTIVE, None)


def test_attested_evidence_goes_into_the_snapshot(ready_for_production, sponsor):
    review = decide(ready_for_production, sponsor, "advance")
    monitoring = review.items.get(code="monitoring")
    assert monitoring.met
    assert monitoring.reason.endswith("Evidence: Grafana dashboard and PagerDuty rota.")


# Hold


def test_a_hold_keeps_the_phase_puts_the_pilot_on_hold_and_sets_the_next_review(pilot, pmo):
    review_on = TODAY + dt.timedelta(days=30)
    review = decide(pilot, pmo, "hold", rationale="Waiting for Legal.", next_review_on=review_on)

    pilot.refresh_from_db()
    assert (pilot.phase, pilot.status, pilot.next_review_on, pilot.version) == (Phase.POC, Status.ON_HOLD, review_on, 2)
    assert (review.decision, review.next_review_on, review.from_phase) == ("hold", review_on, "poc")


@pytest.mark.parametrize("next_review_on", [None, TODAY])
def test_a_hold_without_a_review_after_today_is_refused(pilot, pmo, next_review_on):
    with pytest.raises(DecisionRefused) as refused:
        decide(pilot, pmo, "hold", next_review_on=next_review_on)
    assert set(refused.value.problems) == {"next_review_on"}
    assert not GateReview.objects.exists()
    assert Pilot.objects.get(pk=pilot.pk).status == Status.ACTIVE


# Kill


def test_a_kill_keeps_the_phase_and_records_the_rationale_and_lessons(ready_for_production, sponsor):
    Pilot.objects.filter(pk=ready_for_production.pk).update(next_review_on=TODAY + dt.timedelta(days=3))
    review = decide(
        ready_for_production,
        sponsor,
        "kill",
        rationale="Containment stalled at 11%.",
        lessons="Customers wanted a label, not a conversation.",
    )
    pilot = Pilot.objects.get(pk=ready_for_production.pk)
    assert (pilot.phase, pilot.status, pilot.next_review_on) == (Phase.PILOT, Status.KILLED, None)
    assert (review.rationale, review.lessons) == (
        "Containment stalled at 11%.",
        "Customers wanted a label, not a conversation.",
    )


def test_a_kill_resolves_the_pilots_open_flags_at_once(pilot, sponsor):
    FlagFactory(pilot=pilot, kind="stale")
    decide(pilot, sponsor, "kill", rationale="No value.", lessons="Measure first.")
    assert not Flag.objects.filter(pilot=pilot, resolved_at__isnull=True).exists()


def test_a_kill_without_lessons_is_refused(pilot, sponsor):
    with pytest.raises(DecisionRefused) as refused:
        decide(pilot, sponsor, "kill", rationale="No value.")
    assert set(refused.value.problems) == {"lessons"}
    assert Pilot.objects.get(pk=pilot.pk).status == Status.ACTIVE


def test_a_killed_pilot_has_no_gate_left_to_decide(pilot, sponsor):
    decide(pilot, sponsor, "kill", rationale="No value.", lessons="Measure first.")
    with pytest.raises(PilotMovedOn, match="no gate ahead"):
        decide(pilot, sponsor, "hold", next_review_on=TODAY + dt.timedelta(days=5))


# Re-evaluating flags


def test_a_decision_queues_a_rescan_of_the_pilot_after_commit(
    ready_for_approval, sponsor, django_capture_on_commit_callbacks
):
    with (
        mock.patch("portfolio.tasks.rescan_pilot.apply_async") as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        decide(ready_for_approval, sponsor, "advance")
    publish.assert_called_once_with(args=[ready_for_approval.pk], retry=False)


def test_nothing_is_queued_when_the_decision_is_refused(pilot, sponsor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(DecisionRefused):
        decide(pilot, sponsor, "advance")
    assert callbacks == []


# Two people deciding at once


def test_a_decision_read_at_an_older_version_is_refused_and_nothing_is_recorded_twice(ready_for_approval, sponsor, pmo):
    read_phase, read_version = ready_for_approval.phase, ready_for_approval.version
    gate_decide(
        pilot=ready_for_approval,
        decision="advance",
        decided_by=sponsor,
        read_phase=read_phase,
        read_version=read_version,
    )

    with pytest.raises(PilotMovedOn) as moved:
        gate_decide(
            pilot=ready_for_approval,
            decision="advance",
            decided_by=pmo,
            read_phase=read_phase,
            read_version=read_version,
            override_justification=OVERRIDE,
        )

    assert str(moved.value).startswith("The pilot has moved on since you opened this page: it is now in Pilot, active")
    assert "“advance” by Sam Sponsor on 16 Nov 2026" in str(moved.value)
    assert GateReview.objects.count() == 1
    pilot = Pilot.objects.get(pk=ready_for_approval.pk)
    assert (pilot.phase, pilot.version) == (Phase.PILOT, 2)


def test_an_edit_of_the_pilot_since_the_form_was_read_also_refuses_the_decision(ready_for_approval, sponsor):
    Pilot.objects.filter(pk=ready_for_approval.pk).update(version=2)
    with pytest.raises(PilotMovedOn):
        gate_decide(pilot=ready_for_approval, decision="advance", decided_by=sponsor, read_phase="poc", read_version=1)
    assert not GateReview.objects.exists()


# Snapshots outlive the criteria


def test_the_snapshot_keeps_its_wording_after_the_criterion_is_reworded_deactivated_or_deleted(
    ready_for_approval, sponsor
):
    review = decide(ready_for_approval, sponsor, "advance")
    before = list(review.items.order_by("order").values_list("code", "label", "kind", "met", "reason"))

    criterion = GateCriterion.objects.get(code="kill_criteria_set")
    criterion.label = "Kill criteria agreed with Finance"
    criterion.save()
    GateCriterion.objects.filter(code="outcome_defined").update(active=False)
    GateCriterion.objects.get(code="metrics_defined").delete()

    after = list(review.items.order_by("order").values_list("code", "label", "kind", "met", "reason"))
    assert after == before
    assert review.items.get(code="metrics_defined").criterion is None


def test_a_decision_announces_a_gate_decided_webhook_event_after_commit(
    ready_for_approval, sponsor, django_capture_on_commit_callbacks
):
    from celery.signals import before_task_publish

    published: list[tuple[str, list]] = []

    def capture(sender=None, body=None, **kwargs):
        published.append((sender, body[0] if body else []))

    before_task_publish.connect(capture, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            decide(ready_for_approval, sponsor, "advance", rationale="Baseline signed off.")
    finally:
        before_task_publish.disconnect(capture)
    events = [args for name, args in published if name == "portfolio.tasks.webhooks_announce"]
    assert len(events) == 1
    _event_id, event, data, text, business_unit_id = events[0]
    assert (event, data["decision"], data["from_phase"], data["to_phase"]) == (
        "gate.decided",
        "advance",
        "poc",
        "pilot",
    )
    assert business_unit_id == ready_for_approval.business_unit_id
    assert ready_for_approval.name in text
