"""The portfolio office's admin for pilots, KPIs, readings, kill criteria, check-ins, flags, scans and digests.

Who may use it: members of the "Portfolio office" group with ``is_staff``. The group's
model permissions are granted by data migrations (portfolio 0003, gates 0003), so
nobody needs to be a superuser. What the system computes (flags, scan runs, digest
deliveries, timestamps, the edit version) is shown read-only: the scan and the digest
run own those rows, and an edit here would be silently undone or would lie.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, URLField
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from portfolio.models import (
    ApiToken,
    BusinessUnit,
    CheckIn,
    DigestDelivery,
    DigestPreference,
    Flag,
    KillCriterion,
    Kpi,
    KpiReading,
    Pilot,
    ScanRun,
    WebhookDelivery,
    WebhookEndpoint,
)
from portfolio.services import user_set_active
from portfolio.tasks import rescan_pilot_after_commit

if TYPE_CHECKING:
    from django.db.models import ForeignKey
    from django.http import HttpRequest, HttpResponse


class HistoryAdmin(SimpleHistoryAdmin):
    """History to read, never to revert: a revert would skip the services' rules (frozen goalposts, edit versions)."""

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadOnlyAdminMixin:
    """Rows the system writes: the office may read them (and delete, to clean up), never add or edit."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BusinessUnit)
class BusinessUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "pilot_count"]
    search_fields = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[BusinessUnit]:
        return super().get_queryset(request).annotate(pilot_count=Count("pilots"))

    @admin.display(description="pilots", ordering="pilot_count")
    def pilot_count(self, unit: BusinessUnit) -> int:
        return unit.pilot_count


class KpiInline(admin.TabularInline):
    model = Kpi
    extra = 0
    fields = ["key", "name", "unit", "direction", "baseline", "baseline_on", "target", "target_on"]
    show_change_link = True


class KillCriterionInline(admin.TabularInline):
    model = KillCriterion
    extra = 0
    fields = ["key", "description", "kpi", "comparator", "threshold", "evaluate_on"]
    show_change_link = True
    _pilot: Pilot | None = None

    def get_formset(self, request: HttpRequest, obj: Pilot | None = None, **kwargs: Any) -> Any:
        # Inline instances are built per request, so remembering the pilot here is safe.
        self._pilot = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        if db_field.name == "kpi":
            # Only this pilot's KPIs: the whole table would be thousands of options of other pilots.
            kwargs["queryset"] = Kpi.objects.filter(pilot=self._pilot) if self._pilot else Kpi.objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CheckInInline(admin.TabularInline):
    model = CheckIn
    extra = 0
    fields = ["on", "sponsor", "confidence", "note"]
    autocomplete_fields = ["sponsor"]
    ordering = ["-on", "-id"]


@admin.register(Pilot)
class PilotAdmin(HistoryAdmin):
    list_display = [
        "name",
        "key",
        "business_unit",
        "phase",
        "status",
        "owner",
        "sponsor",
        "phase_entered_on",
        "next_review_on",
        "open_flags",
    ]
    list_filter = ["phase", "status", "business_unit"]
    search_fields = ["key", "name", "problem", "outcome", "owner__username", "sponsor__username"]
    date_hierarchy = "started_on"
    list_select_related = ["business_unit", "owner", "sponsor"]
    autocomplete_fields = ["business_unit", "owner", "sponsor"]
    readonly_fields = ["created_at", "updated_at", "version"]
    fieldsets = [
        (None, {"fields": ["key", "name", "business_unit", "problem", "outcome"]}),
        ("People", {"fields": ["owner", "sponsor"]}),
        ("Phase", {"fields": ["phase", "status", "started_on", "phase_entered_on", "next_review_on"]}),
        ("Money", {"fields": ["budget", "spent"]}),
        ("Record", {"fields": ["created_at", "updated_at", "version"], "classes": ["collapse"]}),
    ]
    inlines = [KpiInline, KillCriterionInline, CheckInInline]
    history_list_display = ["phase", "status", "owner", "sponsor"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Pilot]:
        return (
            super()
            .get_queryset(request)
            .annotate(open_flag_count=Count("flags", filter=Q(flags__resolved_at__isnull=True)))
        )

    @admin.display(description="open flags", ordering="open_flag_count")
    def open_flags(self, pilot: Pilot) -> int:
        return pilot.open_flag_count

    def save_model(self, request: HttpRequest, obj: Pilot, form: forms.ModelForm, change: bool) -> None:
        # An edit form opened elsewhere before this save must see it as stale (optimistic
        # locking). Counted from the row, not from this form's possibly stale copy.
        if change:
            current = Pilot.objects.filter(pk=obj.pk).values_list("version", flat=True).first()
            obj.version = (current or obj.version) + 1
        super().save_model(request, obj, form, change)
        # A new owner or sponsor, a status or a review date changes the pilot's flags.
        rescan_pilot_after_commit(obj.pk)


@admin.register(Kpi)
class KpiAdmin(HistoryAdmin):
    list_display = ["name", "key", "pilot", "direction", "baseline", "baseline_on", "target", "target_on", "unit"]
    list_filter = ["direction", "pilot__phase"]
    search_fields = ["key", "name", "pilot__key", "pilot__name"]
    list_select_related = ["pilot"]
    autocomplete_fields = ["pilot"]
    history_list_display = ["baseline", "target"]


@admin.register(KpiReading)
class KpiReadingAdmin(HistoryAdmin):
    list_display = ["kpi", "pilot", "measured_on", "value", "source", "recorded_by", "recorded_at"]
    # A date filter rather than date_hierarchy: the hierarchy's DISTINCT over a
    # million readings would dominate every page load.
    list_filter = ["source", ("measured_on", admin.DateFieldListFilter)]
    search_fields = ["kpi__key", "kpi__name", "kpi__pilot__key", "kpi__pilot__name"]
    list_select_related = ["kpi__pilot", "recorded_by"]
    autocomplete_fields = ["kpi", "recorded_by"]
    readonly_fields = ["recorded_at"]
    # A million readings: counting them all on every page costs more than the page.
    show_full_result_count = False

    @admin.display(ordering="kpi__pilot__name")
    def pilot(self, reading: KpiReading) -> Pilot:
        return reading.kpi.pilot

    def save_model(self, request: HttpRequest, obj: KpiReading, form: forms.ModelForm, change: bool) -> None:
        if not change and obj.recorded_by_id is None:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


class KillCriterionForm(forms.ModelForm):
    class Meta:
        model = KillCriterion
        fields = ["pilot", "key", "description", "kpi", "comparator", "threshold", "evaluate_on"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        pilot, kpi = cleaned.get("pilot"), cleaned.get("kpi")
        if pilot and kpi and kpi.pilot_id != pilot.pk:
            self.add_error("kpi", "Choose one of this pilot's KPIs.")
        return cleaned


@admin.register(KillCriterion)
class KillCriterionAdmin(HistoryAdmin):
    form = KillCriterionForm
    list_display = ["key", "pilot", "description", "kpi", "comparator", "threshold", "evaluate_on"]
    list_filter = ["comparator", "pilot__phase"]
    search_fields = ["key", "description", "pilot__key", "pilot__name"]
    list_select_related = ["pilot", "kpi"]
    autocomplete_fields = ["pilot", "kpi"]


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["pilot", "on", "sponsor", "confidence", "created_at"]
    list_filter = ["confidence"]
    search_fields = ["pilot__key", "pilot__name", "sponsor__username", "note"]
    date_hierarchy = "on"
    list_select_related = ["pilot", "sponsor"]
    autocomplete_fields = ["pilot", "sponsor"]
    readonly_fields = ["created_at"]


class OpenFlagFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Flag]) -> QuerySet[Flag]:
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Raised and resolved by the health scan only: the next scan would undo a flag made or resolved by hand."""

    list_display = ["pilot", "kind", "subject", "severity", "is_open", "raised_at", "last_seen_at", "resolved_at"]
    list_filter = [OpenFlagFilter, "severity", "kind"]
    search_fields = ["pilot__key", "pilot__name", "detail"]
    date_hierarchy = "raised_at"
    list_select_related = ["pilot", "kpi", "kill_criterion"]
    show_full_result_count = False

    @admin.display(description="subject")
    def subject(self, flag: Flag) -> str:
        return flag.subject_key or "—"

    @admin.display(description="open", boolean=True)
    def is_open(self, flag: Flag) -> bool:
        return flag.is_open


@admin.register(ScanRun)
class ScanRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The record of each health scan, written by the scan itself."""

    list_display = ["started_at", "finished_at", "as_of", "pilots_scanned", "flags_raised", "flags_resolved", "failed"]
    date_hierarchy = "started_at"

    @admin.display(description="error", boolean=True)
    def failed(self, run: ScanRun) -> bool:
        return bool(run.error)


class SentFilter(admin.SimpleListFilter):
    title = "sent"
    parameter_name = "sent"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Sent"), ("no", "Not sent")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[DigestDelivery]) -> QuerySet[DigestDelivery]:
        if self.value() in ("yes", "no"):
            return queryset.filter(sent_at__isnull=self.value() == "no")
        return queryset


@admin.register(DigestDelivery)
class DigestDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Written by the digest run. Deleting a delivery that was never sent lets the next run send it again."""

    list_display = ["period", "kind", "recipient", "subject", "sent_at", "attempts", "has_error"]
    list_filter = ["kind", SentFilter, "period"]
    search_fields = ["recipient__username", "recipient__email", "period", "subject"]
    list_select_related = ["recipient"]

    @admin.display(description="error", boolean=True)
    def has_error(self, delivery: DigestDelivery) -> bool:
        return bool(delivery.last_error)


@admin.register(DigestPreference)
class DigestPreferenceAdmin(admin.ModelAdmin):
    """Users switch their own digests off in the app; the office can see and correct it here."""

    list_display = ["user", "owner_digest", "executive_digest"]
    list_filter = ["owner_digest", "executive_digest"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


# -- API tokens and webhooks (issue 8) ------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Owners create tokens on /settings/tokens/, where the secret is shown once; here they are revoked."""

    list_display = ["name", "user", "prefix", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "prefix", "scope", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{revoked} token(s) revoked.")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """Where events go; the secret is what the receiver checks X-Portfolio-Signature with."""

    list_display = ["__str__", "url", "business_unit", "active", "created_at"]
    list_filter = ["active", "business_unit"]
    search_fields = ["url", "description"]
    list_select_related = ["business_unit"]
    fields = ["url", "description", "business_unit", "active", "secret", "created_by", "created_at"]
    readonly_fields = ["created_by", "created_at"]
    formfield_overrides = {URLField: {"assume_scheme": "https"}}

    def save_model(self, request: HttpRequest, obj: WebhookEndpoint, form: forms.ModelForm, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The log of every event sent, written by the delivery tasks; a failed one can be sent again."""

    list_display = ["created_at", "event", "endpoint", "status_code", "response_ms", "attempts", "delivered_at"]
    list_filter = ["event", ("delivered_at", admin.EmptyFieldListFilter), "endpoint"]
    search_fields = ["event", "event_id", "last_error"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    actions = ["send_again"]

    @admin.action(description="Send the selected undelivered events again", permissions=["view"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        from portfolio.tasks import queue_webhook_deliveries

        ids = list(queryset.filter(delivered_at__isnull=True).values_list("id", flat=True))
        queue_webhook_deliveries(ids)
        self.message_user(request, f"{len(ids)} delivery(ies) queued again.")


# -- People: deactivating someone changes the flags of the pilots they own or sponsor -------------


class PortfolioUserAdmin(UserAdmin):
    """Django's user admin, plus a rescan of a person's pilots when their account is (de)activated."""

    def save_model(self, request: HttpRequest, obj: Any, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            user_set_active(user=obj, active=obj.is_active)


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), PortfolioUserAdmin)
