"""Phase gates: the criteria of each gate, attestations, and recorded gate reviews."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from portfolio.models import Phase, Pilot


class Gate(models.TextChoices):
    """A gate is named by the phase it leaves."""

    POC = "poc", "Pilot approval (proof of concept → pilot)"
    PILOT = "pilot", "Production readiness (pilot → production)"
    PRODUCTION = "production", "Scale decision (production → scaled adoption)"


class CriterionKind(models.TextChoices):
    AUTO = "auto", "Automatic"
    ATTESTED = "attested", "Attested"


class AutoRule(models.TextChoices):
    """The computed check behind an automatic criterion (gates/readiness.py)."""

    OWNER_ASSIGNED = "owner_assigned", "An active owner is named"
    SPONSOR_ASSIGNED = "sponsor_assigned", "An active sponsor is named"
    OUTCOME_DEFINED = "outcome_defined", "Problem and outcome are filled in"
    METRICS_DEFINED = "metrics_defined", "At least one KPI with a target"
    BASELINE_MEASURED = "baseline_measured", "Every KPI has a baseline dated on or before today"
    KILL_CRITERIA_SET = "kill_criteria_set", "At least one kill criterion"
    VALUE_DEMONSTRATED = "value_demonstrated", "Some KPI's last 3 readings beat its baseline"
    SPONSOR_ENGAGED = "sponsor_engaged", "A sponsor check-in in the last 30 days"
    TARGETS_MET = "targets_met", "Every KPI's last 3 readings meet its target"
    NO_CRITICAL_FLAGS = "no_critical_flags", "No open critical flag"


class Decision(models.TextChoices):
    ADVANCE = "advance", "Advance"
    HOLD = "hold", "Hold"
    KILL = "kill", "Kill"


class GateCriterion(models.Model):
    gate = models.CharField(max_length=16, choices=Gate.choices)
    code = models.SlugField(max_length=64, unique=True, help_text="Stable identifier, used by the exchange format.")
    label = models.CharField(max_length=200)
    help_text = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=CriterionKind.choices)
    rule = models.CharField(max_length=32, choices=AutoRule.choices, blank=True)
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True, help_text="A deactivated criterion no longer blocks the gate.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["gate", "order", "id"]
        verbose_name_plural = "gate criteria"
        constraints = [
            models.CheckConstraint(condition=Q(gate__in=Gate.values), name="gates_criterion_gate_valid"),
            models.CheckConstraint(condition=Q(kind__in=CriterionKind.values), name="gates_criterion_kind_valid"),
            # An automatic criterion needs a rule to compute it; an attested one has none.
            models.CheckConstraint(
                condition=Q(kind=CriterionKind.AUTO, rule__in=AutoRule.values)
                | Q(kind=CriterionKind.ATTESTED, rule=""),
                name="gates_criterion_rule_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Attestation(models.Model):
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="attestations")
    criterion = models.ForeignKey(GateCriterion, on_delete=models.PROTECT, related_name="attestations")
    attested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attestations")
    attested_on = models.DateField()
    evidence = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pilot_id", "criterion_id", "attested_on", "id"]
        indexes = [
            # "Latest attestation per (pilot, criterion)" for gate readiness.
            models.Index(fields=["pilot", "criterion", "attested_on"], name="attestation_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion} for {self.pilot} on {self.attested_on}"


class GateReview(models.Model):
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="gate_reviews")
    from_phase = models.CharField(max_length=16, choices=Phase.choices)
    to_phase = models.CharField(max_length=16, choices=Phase.choices)
    decision = models.CharField(max_length=8, choices=Decision.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="gate_reviews"
    )
    decided_on = models.DateField()
    rationale = models.TextField(blank=True)
    lessons = models.TextField(blank=True, help_text="What was learned (required when killing).")
    override_justification = models.TextField(blank=True)
    next_review_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pilot_id", "decided_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(decision__in=Decision.values), name="gates_review_decision_valid"),
            # A review is always of one gate: from a phase to the one after it.
            models.CheckConstraint(
                condition=Q(from_phase=Phase.POC, to_phase=Phase.PILOT)
                | Q(from_phase=Phase.PILOT, to_phase=Phase.PRODUCTION)
                | Q(from_phase=Phase.PRODUCTION, to_phase=Phase.SCALED),
                name="gates_review_is_one_gate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.pilot} ({self.from_phase} → {self.to_phase})"

    @property
    def is_override(self) -> bool:
        return bool(self.override_justification)


class SnapshotIsImmutable(RuntimeError):
    """A gate review's snapshot is the record of a decision: it is never changed or removed on its own."""


class GateReviewItemQuerySet(models.QuerySet):
    # Refused here with a plain message; the database refuses updates too (migration
    # 0004), for writers that bypass the ORM. Deleting a whole review (or its pilot)
    # still takes its items along: Django's cascade does not go through this method.
    def update(self, **kwargs: object) -> int:
        raise SnapshotIsImmutable("Gate review snapshot items cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise SnapshotIsImmutable("Gate review snapshot items cannot be deleted on their own.")


class GateReviewItem(models.Model):
    """One criterion's state at decision time: copied, so later edits never rewrite it."""

    review = models.ForeignKey(GateReview, on_delete=models.CASCADE, related_name="items")
    criterion = models.ForeignKey(GateCriterion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    code = models.CharField(max_length=64)
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=CriterionKind.choices)
    met = models.BooleanField()
    reason = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    objects = GateReviewItemQuerySet.as_manager()

    class Meta:
        ordering = ["review_id", "order", "id"]

    def __str__(self) -> str:
        return f"{self.label}: {'met' if self.met else 'not met'}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise SnapshotIsImmutable("Gate review snapshot items cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise SnapshotIsImmutable("Gate review snapshot items cannot be deleted on their own.")
