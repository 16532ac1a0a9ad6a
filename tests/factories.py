"""factory-boy factories for the domain, with sensible defaults for a healthy pilot."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from gates.models import Attestation, GateCriterion, GateReview
from portfolio import roles
from portfolio.models import (
    BusinessUnit,
    CheckIn,
    Confidence,
    Direction,
    KillCriterion,
    Kpi,
    KpiReading,
    Phase,
    Pilot,
    Source,
    Status,
)

User = get_user_model()
TODAY = dt.date(2026, 11, 16)  # a Monday; tests freeze time around it


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_active = True
    password = factory.django.Password("pass")

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        for role in extracted or []:
            self.groups.add(Group.objects.get(name=roles.ROLE_GROUPS[role]))


class BusinessUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessUnit
        django_get_or_create = ("name",)

    name = factory.Iterator(["Operations", "Finance", "Customer Service", "Supply Chain"])


class PilotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pilot

    key = factory.Sequence(lambda n: f"pilot-{n}")
    name = factory.Sequence(lambda n: f"Pilot {n}")
    business_unit = factory.SubFactory(BusinessUnitFactory)
    problem = "Invoices wait days for manual matching."
    outcome = "Match invoices the same day."
    owner = factory.SubFactory(UserFactory)
    sponsor = factory.SubFactory(UserFactory)
    phase = Phase.POC
    status = Status.ACTIVE
    started_on = TODAY - dt.timedelta(days=30)
    phase_entered_on = factory.LazyAttribute(lambda p: p.started_on)


class KpiFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Kpi

    pilot = factory.SubFactory(PilotFactory)
    key = factory.Sequence(lambda n: f"kpi-{n}")
    name = factory.Sequence(lambda n: f"KPI {n}")
    unit = "%"
    direction = Direction.INCREASE
    baseline = 50.0
    baseline_on = TODAY - dt.timedelta(days=60)
    target = 80.0


class KpiReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiReading

    kpi = factory.SubFactory(KpiFactory)
    measured_on = TODAY
    value = 60.0
    source = Source.FORM


class KillCriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KillCriterion

    pilot = factory.SubFactory(PilotFactory)
    key = factory.Sequence(lambda n: f"kill-{n}")
    description = "Stop if accuracy stays below 40% after three months."


class CheckInFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CheckIn

    pilot = factory.SubFactory(PilotFactory)
    sponsor = factory.LazyAttribute(lambda c: c.pilot.sponsor)
    on = TODAY
    confidence = Confidence.HIGH
    note = "On track."


class AttestationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attestation

    pilot = factory.SubFactory(PilotFactory)
    criterion = factory.LazyFunction(lambda: GateCriterion.objects.get(code="monitoring"))
    attested_by = factory.LazyAttribute(lambda a: a.pilot.owner)
    attested_on = TODAY
    evidence = "Grafana dashboard and PagerDuty rota."


class GateReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GateReview

    pilot = factory.SubFactory(PilotFactory)
    from_phase = Phase.POC
    to_phase = Phase.PILOT
    decision = "advance"
    decided_by = factory.LazyAttribute(lambda r: r.pilot.sponsor)
    decided_on = TODAY
    rationale = "All criteria met."


class FlagFactory(factory.django.DjangoModelFactory):
    """An open pilot-wide flag; pass ``kpi`` or ``kill_criterion`` for a subject."""

    class Meta:
        model = "portfolio.Flag"

    pilot = factory.SubFactory(PilotFactory)
    kind = "stale"
    severity = "warning"
    detail = "No reading for 30 days."


class ScanRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "portfolio.ScanRun"

    as_of = TODAY
    pilots_scanned = 1


class DigestDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "portfolio.DigestDelivery"

    recipient = factory.SubFactory(UserFactory)
    kind = "owner"
    period = "2026-W47"
    subject = "Your pilots this week"
    text_body = "Nothing to do."


class GateReviewItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "gates.GateReviewItem"

    review = factory.SubFactory(GateReviewFactory)
    criterion = factory.LazyFunction(lambda: GateCriterion.objects.get(code="owner_assigned"))
    code = factory.LazyAttribute(lambda i: i.criterion.code)
    label = factory.LazyAttribute(lambda i: i.criterion.label)
    kind = factory.LazyAttribute(lambda i: i.criterion.kind)
    met = True
    reason = "Olivia Owner is the owner."
