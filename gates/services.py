"""Writes of the phase gates: recording evidence for a criterion and deciding a gate.

A decision is the record of how a pilot got where it is (or why it was stopped), so it
is taken under a lock on the pilot, against the readiness at that very moment, and
stores a snapshot of every criterion that later edits of the criteria cannot rewrite.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from gates import readiness, selectors
from gates.decisions import decision_problems
from gates.models import Attestation, CriterionKind, Decision, GateCriterion, GateReview, GateReviewItem
from portfolio.models import Flag, Phase, Pilot, Status
from portfolio.tasks import rescan_pilot_after_commit
from portfolio.webhooks import event_emit_after_commit, gate_decision_payload

EVIDENCE_MAX_LENGTH = 5000


class AttestationProblem(ValueError):
    """Evidence the rules refuse, with the message a person reads."""


class DecisionRefused(Exception):
    """The decision lacks something; ``problems`` says what, by form field."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


class PilotMovedOn(Exception):
    """The pilot changed since the decision form was read; nothing was recorded."""


def attestation_record(
    *,
    pilot: Pilot,
    criterion: GateCriterion,
    attested_by: AbstractBaseUser,
    evidence: str,
    today: dt.date | None = None,
) -> Attestation:
    """Record evidence for an attested criterion of the pilot's next gate, dated today.

    Sending the same evidence twice on one day (a double click) records it once.
    Newer evidence does not replace older: readiness reads the latest, the rest is history.
    """
    today = today or timezone.localdate()
    evidence = evidence.strip()
    if not evidence:
        raise AttestationProblem("Describe the evidence or paste a link to it.")
    if len(evidence) > EVIDENCE_MAX_LENGTH:
        raise AttestationProblem(
            f"Keep the evidence under {EVIDENCE_MAX_LENGTH:,} characters (it has {len(evidence):,})."
        )
    if criterion.kind != CriterionKind.ATTESTED:
        raise AttestationProblem(f"“{criterion.label}” is checked automatically; it takes no evidence.")
    if not criterion.active:
        raise AttestationProblem(f"“{criterion.label}” is no longer a gate criterion.")
    with transaction.atomic():
        # The lock makes a double submit wait for the first one and then find it.
        locked = Pilot.objects.select_for_update().get(pk=pilot.pk)
        gate = readiness.next_gate(locked.phase, locked.status)
        if gate is None:
            raise AttestationProblem("This pilot has no gate ahead, so it takes no more evidence.")
        if criterion.gate != gate:
            raise AttestationProblem(f"“{criterion.label}” is not a criterion of this pilot's next gate.")
        existing = Attestation.objects.filter(
            pilot=locked, criterion=criterion, attested_by=attested_by, attested_on=today, evidence=evidence
        ).first()
        if existing is not None:
            return existing
        attestation = Attestation(
            pilot=locked, criterion=criterion, attested_by=attested_by, attested_on=today, evidence=evidence
        )
        attestation.full_clean()
        attestation.save()
    return attestation


def gate_decide(
    *,
    pilot: Pilot,
    decision: str,
    decided_by: AbstractBaseUser,
    read_phase: str,
    read_version: int,
    rationale: str = "",
    override_justification: str = "",
    lessons: str = "",
    next_review_on: dt.date | None = None,
    today: dt.date | None = None,
) -> GateReview:
    """Decide the pilot's next gate: advance, hold or kill.

    ``read_phase`` and ``read_version`` are what the decision form was read at: if the
    pilot has moved on since (another decision, an edit), ``PilotMovedOn`` is raised and
    nothing is recorded, so two people deciding at once never record two decisions.
    ``DecisionRefused`` lists what is missing. Otherwise the review is stored with a
    snapshot of every criterion, the pilot moves, and its flags are re-evaluated after commit.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        # Held until commit: a second decision waits here, then sees the new version.
        locked = Pilot.objects.select_for_update().get(pk=pilot.pk)
        if locked.phase != read_phase or locked.version != read_version:
            raise PilotMovedOn(_moved_on_message(locked, read_phase))
        gate = selectors.pilot_readiness(locked, as_of=today)
        if gate is None:
            raise PilotMovedOn("This pilot has no gate ahead: it was killed or is in scaled adoption already.")
        unmet = [state.criterion.label for state in gate.unmet]
        problems = decision_problems(
            decision=decision,
            unmet=unmet,
            rationale=rationale,
            override_justification=override_justification,
            lessons=lessons,
            next_review_on=next_review_on,
            today=today,
        )
        if problems:
            raise DecisionRefused(problems)

        review = GateReview(
            pilot=locked,
            from_phase=gate.from_phase,
            to_phase=gate.to_phase,
            decision=decision,
            decided_by=decided_by,
            decided_on=today,
            rationale=rationale.strip(),
            lessons=lessons.strip(),
            # Only an advance past unmet criteria is an override; a justification
            # written for a gate that turned out ready would mislabel the record.
            override_justification=override_justification.strip() if decision == Decision.ADVANCE and unmet else "",
            next_review_on=None if decision == Decision.KILL else next_review_on,
        )
        review.full_clean()
        review.save()
        GateReviewItem.objects.bulk_create(
            [
                GateReviewItem(
                    review=review,
                    criterion_id=state.criterion.id,
                    code=state.criterion.code,
                    label=state.criterion.label,
                    kind=state.criterion.kind,
                    met=state.met,
                    reason=_snapshot_reason(state),
                    order=state.criterion.order,
                )
                for state in gate.states
            ]
        )
        _move_pilot(locked, review, decided_by)
        rescan_pilot_after_commit(locked.pk)
        event_emit_after_commit(
            "gate.decided",
            gate_decision_payload(
                pilot=locked,
                decision=review.decision,
                from_phase=review.from_phase,
                to_phase=review.to_phase,
                decided_by=decided_by,
                decided_on=review.decided_on,
                rationale=review.rationale,
                override_justification=review.override_justification,
            ),
            locked.business_unit_id,
        )
    return review


def _snapshot_reason(state: readiness.CriterionState) -> str:
    # The evidence itself goes into the record: an attestation may be corrected later, the snapshot may not.
    if state.evidence is not None:
        return f"{state.reason}. Evidence: {state.evidence.text}"
    return state.reason


def _move_pilot(pilot: Pilot, review: GateReview, decided_by: AbstractBaseUser) -> None:
    if review.decision == Decision.ADVANCE:
        pilot.phase = review.to_phase
        pilot.phase_entered_on = review.decided_on
        pilot.status = Status.ACTIVE
        pilot.next_review_on = review.next_review_on
    elif review.decision == Decision.HOLD:
        pilot.status = Status.ON_HOLD
        pilot.next_review_on = review.next_review_on
    else:
        pilot.status = Status.KILLED
        pilot.next_review_on = None
        # Killed pilots have no open flags (DESIGN 5): resolved now, not at the next scan.
        Flag.objects.filter(pilot=pilot, resolved_at__isnull=True).update(resolved_at=timezone.now())
    pilot.version += 1
    pilot._change_reason = f"Gate review: {_decision_words(review)}"
    pilot._history_user = decided_by
    pilot.full_clean()
    pilot.save()


def _decision_words(review: GateReview) -> str:
    labels = dict(Phase.choices)
    if review.decision == Decision.ADVANCE:
        return f"advanced to {labels[review.to_phase]}"
    if review.decision == Decision.HOLD:
        return f"held in {labels[review.from_phase]}"
    return f"killed in {labels[review.from_phase]}"


def _moved_on_message(pilot: Pilot, read_phase: str) -> str:
    where = f"it is now in {pilot.get_phase_display()}, {pilot.get_status_display().lower()}"
    latest = GateReview.objects.filter(pilot=pilot).select_related("decided_by").order_by("-created_at", "-id").first()
    if latest is not None:
        who = _name(latest.decided_by) or "Someone"
        on = f"{latest.decided_on.day} {latest.decided_on:%b %Y}"
        where += f" (latest decision: “{latest.get_decision_display().lower()}” by {who} on {on})"
    return f"The pilot has moved on since you opened this page: {where}. Nothing was recorded."


def _name(user: AbstractBaseUser | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()
