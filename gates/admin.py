"""The portfolio office's admin for gate criteria, attestations and recorded gate reviews.

The office tunes the criteria here (order and active straight from the list). A gate
review is the record of a decision: it is made on the pilot's gate page, which checks
readiness, snapshots every criterion and moves the pilot, so the admin never adds one,
keeps the decision itself read-only and shows the snapshot without any way to edit it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin

from gates.models import Attestation, CriterionKind, GateCriterion, GateReview, GateReviewItem
from portfolio.admin import HistoryAdmin

if TYPE_CHECKING:
    from django import forms
    from django.db.models import ForeignKey
    from django.http import HttpRequest


@admin.register(GateCriterion)
class GateCriterionAdmin(HistoryAdmin):
    list_display = ["label", "code", "gate", "kind", "rule", "order", "active"]
    list_display_links = ["label"]
    list_editable = ["order", "active"]
    list_filter = ["gate", "kind", "active"]
    search_fields = ["code", "label", "help_text"]
    ordering = ["gate", "order", "id"]
    history_list_display = ["order", "active"]

    def get_readonly_fields(self, request: HttpRequest, obj: GateCriterion | None = None) -> list[str]:
        # The code names the criterion in exported portfolios and attestations: renaming it breaks imports.
        return ["code"] if obj else []


@admin.register(Attestation)
class AttestationAdmin(admin.ModelAdmin):
    list_display = ["criterion", "pilot", "attested_by", "attested_on", "created_at"]
    list_filter = ["criterion__gate", "criterion"]
    search_fields = ["pilot__key", "pilot__name", "criterion__code", "criterion__label", "evidence"]
    date_hierarchy = "attested_on"
    list_select_related = ["pilot", "criterion", "attested_by"]
    autocomplete_fields = ["pilot", "attested_by"]
    readonly_fields = ["created_at"]

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "criterion":
            # Only attested criteria take evidence; automatic ones are computed.
            kwargs["queryset"] = GateCriterion.objects.filter(kind=CriterionKind.ATTESTED)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class GateReviewItemInline(admin.TabularInline):
    """The snapshot taken at decision time: immutable, so later edits of a criterion never rewrite it."""

    model = GateReviewItem
    extra = 0
    can_delete = False
    fields = ["order", "code", "label", "kind", "met", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(GateReview)
class GateReviewAdmin(admin.ModelAdmin):
    list_display = ["pilot", "gate", "decision", "decided_by", "decided_on", "is_override", "next_review_on"]
    list_filter = ["decision", "from_phase"]
    search_fields = ["pilot__key", "pilot__name", "rationale", "lessons", "override_justification"]
    date_hierarchy = "decided_on"
    list_select_related = ["pilot", "decided_by"]
    readonly_fields = [
        "pilot",
        "from_phase",
        "to_phase",
        "decision",
        "decided_by",
        "decided_on",
        "override_justification",
        "created_at",
    ]
    fields = [
        "pilot",
        "from_phase",
        "to_phase",
        "decision",
        "decided_by",
        "decided_on",
        "override_justification",
        "rationale",
        "lessons",
        "next_review_on",
        "created_at",
    ]
    inlines = [GateReviewItemInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="gate")
    def gate(self, review: GateReview) -> str:
        return f"{review.get_from_phase_display()} → {review.get_to_phase_display()}"

    @admin.display(description="override", boolean=True)
    def is_override(self, review: GateReview) -> bool:
        return review.is_override
