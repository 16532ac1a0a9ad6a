"""The portfolio's domain: pilots, their KPIs, readings, kill criteria, check-ins and flags.

Rules that the database can hold are declared here as constraints so they hold for
every writer (forms, imports, the API, the admin, the scan). Business rules that
need more than one row live in the services and the pure rule modules.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Phase(models.TextChoices):
    POC = "poc", "Proof of concept"
    PILOT = "pilot", "Pilot"
    PRODUCTION = "production", "Production"
    SCALED = "scaled", "Scaled adoption"


PHASE_ORDER: list[str] = [Phase.POC, Phase.PILOT, Phase.PRODUCTION, Phase.SCALED]


def next_phase(phase: str) -> str | None:
    """The phase after ``phase``, or None for the last one."""
    index = PHASE_ORDER.index(phase)
    return PHASE_ORDER[index + 1] if index + 1 < len(PHASE_ORDER) else None


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    KILLED = "killed", "Killed"


class Direction(models.TextChoices):
    INCREASE = "increase", "Higher is better"
    DECREASE = "decrease", "Lower is better"


class Source(models.TextChoices):
    FORM = "form", "Form"
    CSV = "csv", "CSV upload"
    API = "api", "System feed (API)"
    IMPORT = "import", "Import"


class Comparator(models.TextChoices):
    BELOW = "below", "below"
    ABOVE = "above", "above"


class Confidence(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    WARNING = "warning", "Warning"


class FlagKind(models.TextChoices):
    NO_OWNER = "no_owner", "No owner"
    OWNER_INACTIVE = "owner_inactive", "Owner inactive"
    NO_SPONSOR = "no_sponsor", "No sponsor"
    OWNER_IS_SPONSOR = "owner_is_sponsor", "Owner is sponsor"
    SPONSOR_LAPSED = "sponsor_lapsed", "Sponsor lapsed"
    NO_KPI = "no_kpi", "No KPI"
    STALE = "stale", "Stale"
    NO_BASELINE = "no_baseline", "No baseline"
    NO_KILL_CRITERIA = "no_kill_criteria", "No kill criteria"
    DRIFTING = "drifting", "Drifting"
    STUCK = "stuck", "Stuck"
    KILL_CRITERION_MET = "kill_criterion_met", "Kill criterion met"
    REVIEW_OVERDUE = "review_overdue", "Review overdue"


class DigestKind(models.TextChoices):
    OWNER = "owner", "Owner digest"
    EXECUTIVE = "executive", "Executive digest"


def _choices_check(field: str, choices: type[models.TextChoices]) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": choices.values}), name=f"%(app_label)s_%(class)s_{field}_valid"
    )


class BusinessUnit(models.Model):
    name = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Pilot(models.Model):
    key = models.SlugField(max_length=64, unique=True, help_text="Used in URLs and the exchange format.")
    name = models.CharField(max_length=200)
    business_unit = models.ForeignKey(BusinessUnit, on_delete=models.PROTECT, related_name="pilots")
    problem = models.TextField(blank=True, help_text="The workflow bottleneck the pilot attacks.")
    outcome = models.TextField(blank=True, help_text="The business outcome sought.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_pilots"
    )
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sponsored_pilots"
    )
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.POC)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    started_on = models.DateField()
    phase_entered_on = models.DateField()
    next_review_on = models.DateField(null=True, blank=True)
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    spent = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic locking: an edit form carries the version it was read at and
    # the save only succeeds if nobody has bumped it since.
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            _choices_check("phase", Phase),
            _choices_check("status", Status),
            models.CheckConstraint(
                condition=Q(phase_entered_on__gte=F("started_on")),
                name="portfolio_pilot_phase_entered_after_start",
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(budget__gte=0), name="portfolio_pilot_budget_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(spent__isnull=True) | Q(spent__gte=0), name="portfolio_pilot_spent_not_negative"
            ),
        ]
        indexes = [
            # The pilot list and dashboard filter and group by phase and status.
            models.Index(fields=["phase", "status"], name="pilot_phase_status_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("pilot_detail", args=[self.key])


class Kpi(models.Model):
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="kpis")
    key = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=40, blank=True)
    direction = models.CharField(max_length=16, choices=Direction.choices, default=Direction.INCREASE)
    baseline = models.FloatField(null=True, blank=True)
    baseline_on = models.DateField(null=True, blank=True)
    target = models.FloatField()
    target_on = models.DateField(null=True, blank=True)
    # Optimistic locking of edits, as on Pilot.
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["pilot_id", "id"]
        verbose_name = "KPI"
        constraints = [
            models.UniqueConstraint(fields=["pilot", "key"], name="portfolio_kpi_key_unique_per_pilot"),
            _choices_check("direction", Direction),
            # A target must lie strictly on the better side of the baseline.
            models.CheckConstraint(
                condition=Q(baseline__isnull=True)
                | Q(direction=Direction.INCREASE, target__gt=F("baseline"))
                | Q(direction=Direction.DECREASE, target__lt=F("baseline")),
                name="portfolio_kpi_target_better_than_baseline",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class KpiReading(models.Model):
    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="readings")
    measured_on = models.DateField()
    value = models.FloatField()
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.FORM)
    recorded_at = models.DateTimeField(default=timezone.now)

    # A replaced reading keeps its old value here (DESIGN 3: "the history keeps both").
    history = HistoricalRecords()

    class Meta:
        ordering = ["kpi_id", "measured_on"]
        constraints = [
            # One reading per KPI per date. Its index (kpi_id, measured_on) also
            # serves "the latest readings per KPI up to a date", the query of the
            # health scan, the pilot page and the dashboard.
            models.UniqueConstraint(fields=["kpi", "measured_on"], name="portfolio_reading_one_per_kpi_per_date"),
            _choices_check("source", Source),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} on {self.measured_on}: {self.value}"


class KillCriterion(models.Model):
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="kill_criteria")
    key = models.SlugField(max_length=64)
    description = models.TextField()
    kpi = models.ForeignKey(Kpi, null=True, blank=True, on_delete=models.CASCADE, related_name="kill_criteria")
    comparator = models.CharField(max_length=8, choices=Comparator.choices, null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    evaluate_on = models.DateField(null=True, blank=True)
    # Optimistic locking of edits, as on Pilot.
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["pilot_id", "id"]
        verbose_name_plural = "kill criteria"
        constraints = [
            models.UniqueConstraint(fields=["pilot", "key"], name="portfolio_killcriterion_key_unique_per_pilot"),
            models.CheckConstraint(
                condition=Q(comparator__isnull=True) | Q(comparator__in=Comparator.values),
                name="portfolio_killcriterion_comparator_valid",
            ),
            # A measurable condition is all of kpi, comparator and threshold, or none.
            models.CheckConstraint(
                condition=Q(kpi__isnull=True, comparator__isnull=True, threshold__isnull=True)
                | Q(kpi__isnull=False, comparator__isnull=False, threshold__isnull=False),
                name="portfolio_killcriterion_condition_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def is_measurable(self) -> bool:
        return self.kpi_id is not None


class CheckIn(models.Model):
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="checkins")
    sponsor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkins")
    on = models.DateField()
    confidence = models.CharField(max_length=8, choices=Confidence.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pilot_id", "on", "id"]
        verbose_name = "check-in"
        constraints = [_choices_check("confidence", Confidence)]
        indexes = [
            # "Latest check-in per pilot up to a date" (sponsor_lapsed, Sponsor engaged).
            models.Index(fields=["pilot", "on"], name="checkin_pilot_on_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.pilot} check-in on {self.on}"


class Flag(models.Model):
    pilot = models.ForeignKey(Pilot, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=32, choices=FlagKind.choices)
    # The subject: the KPI or kill criterion the flag is about, or neither.
    kpi = models.ForeignKey(Kpi, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    kill_criterion = models.ForeignKey(
        KillCriterion, null=True, blank=True, on_delete=models.CASCADE, related_name="flags"
    )
    severity = models.CharField(max_length=8, choices=Severity.choices)
    detail = models.TextField()
    raised_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pilot_id", "kind", "id"]
        constraints = [
            _choices_check("kind", FlagKind),
            _choices_check("severity", Severity),
            models.CheckConstraint(
                condition=Q(kpi__isnull=True) | Q(kill_criterion__isnull=True),
                name="portfolio_flag_one_subject",
            ),
            # At most one open flag per (pilot, kind, subject). NULLs are distinct
            # in a unique index, so the subject ids are coalesced to 0. This is what
            # makes two concurrent scans harmless.
            models.UniqueConstraint(
                F("pilot"),
                F("kind"),
                Coalesce(F("kpi"), 0),
                Coalesce(F("kill_criterion"), 0),
                condition=Q(resolved_at__isnull=True),
                name="portfolio_flag_one_open_per_subject",
            ),
        ]
        indexes = [
            # Open flags: the scan's diff, the pilot list's badges, list_flags.
            models.Index(fields=["pilot", "kind"], condition=Q(resolved_at__isnull=True), name="flag_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.pilot}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def subject_key(self) -> str | None:
        """The KPI or kill-criterion key the flag is about (list_flags' ``subject``)."""
        if self.kpi_id:
            return self.kpi.key
        if self.kill_criterion_id:
            return self.kill_criterion.key
        return None


class ScanRun(models.Model):
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    as_of = models.DateField()
    pilots_scanned = models.PositiveIntegerField(default=0)
    flags_raised = models.PositiveIntegerField(default=0)
    flags_resolved = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        indexes = [
            # "When did the last scan finish?" on every dashboard and /healthz.
            models.Index(fields=["-finished_at"], name="scanrun_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"Scan as of {self.as_of} started {self.started_at:%Y-%m-%d %H:%M}"


class DigestDelivery(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    kind = models.CharField(max_length=16, choices=DigestKind.choices)
    period = models.CharField(max_length=8, help_text="ISO week, such as 2026-W47.")
    subject = models.CharField(max_length=200, blank=True)
    html_body = models.TextField(blank=True)
    text_body = models.TextField(blank=True)
    # A claim with a lease: a worker that crashes mid-send leaves a claim that
    # expires, so the digest is retried and never dropped.
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period", "kind", "recipient_id"]
        verbose_name_plural = "digest deliveries"
        constraints = [
            models.UniqueConstraint(fields=["recipient", "kind", "period"], name="portfolio_digest_once_per_week"),
            _choices_check("kind", DigestKind),
            models.CheckConstraint(
                condition=Q(period__regex=r"^[0-9]{4}-W[0-9]{2}$"), name="portfolio_digest_period_is_iso_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period} to {self.recipient}"


class DigestPreference(models.Model):
    """Which weekly digests a user wants; a user without a row gets every digest that applies."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_preference")
    owner_digest = models.BooleanField(default=True, help_text="Weekly digest of my flagged pilots.")
    executive_digest = models.BooleanField(default=True, help_text="Weekly portfolio digest (executives).")

    def __str__(self) -> str:
        return f"Digest preferences of {self.user}"


# -- API tokens and outgoing webhooks (issue 8) --------------------------------------------------


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    READ_WRITE_READINGS = "read write:readings", "Read, and write KPI readings"


class ApiToken(models.Model):
    """A personal token for the JSON API; the secret is shown once and only its SHA-256 is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, such as the system that uses it.")
    # The first characters of the secret: enough to recognise a token in a list or a log.
    prefix = models.CharField(max_length=16)
    # A token is 256 random bits, so a fast hash is as safe as a slow one and can be
    # looked up through an index; a slow, salted password hash could not.
    token_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=32, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        constraints = [_choices_check("scope", TokenScope)]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def new_webhook_secret() -> str:
    """A fresh signing secret for an endpoint: 256 random bits in hex."""
    return secrets.token_hex(32)


class WebhookEndpoint(models.Model):
    """A URL that receives signed JSON events (flags raised and resolved, gate decisions)."""

    url = models.URLField(
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Slack and Teams incoming-webhook URLs work as they are.",
    )
    description = models.CharField(max_length=200, blank=True)
    business_unit = models.ForeignKey(
        BusinessUnit,
        null=True,
        blank=True,
        # Deleting a unit must not silently widen an endpoint to the whole portfolio.
        on_delete=models.PROTECT,
        related_name="webhook_endpoints",
        help_text="Only events of this unit's pilots; empty for every event.",
    )
    secret = models.CharField(
        max_length=128,
        default=new_webhook_secret,
        help_text="Signs each body: X-Portfolio-Signature is sha256=HMAC-SHA256(secret, body) in hex.",
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["url", "id"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.description or self.url


class WebhookDelivery(models.Model):
    """One event sent (or being sent) to one endpoint: the log of its attempts."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32)
    # The event's id, also in the body: a receiver de-duplicates by it, and a task run
    # twice (a redelivery after a worker crash) does not queue the same event twice.
    event_id = models.CharField(max_length=64)
    payload = models.JSONField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_ms = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="portfolio_webhook_event_once_per_endpoint")
        ]
        indexes = [
            # The deliveries page: an endpoint's latest deliveries first.
            models.Index(fields=["endpoint", "-created_at"], name="webhookdelivery_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint}"

    @property
    def summary(self) -> str:
        """What the deliveries page says of it: the last error, else the message it carries."""
        text = self.payload.get("text", "") if isinstance(self.payload, dict) else ""
        return self.last_error or str(text)
