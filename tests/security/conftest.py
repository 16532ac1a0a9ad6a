"""A portfolio with one of everything, belonging to someone else, and the people who visit it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from gates.models import GateCriterion
from portfolio.digests.delivery import send_week
from portfolio.models import DigestPreference, ScanRun, WebhookDelivery, WebhookEndpoint
from portfolio.scan import scan_portfolio
from portfolio.services import api_token_create
from tests.factories import (
    AttestationFactory,
    BusinessUnitFactory,
    CheckInFactory,
    DigestDeliveryFactory,
    FlagFactory,
    GateReviewFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
    UserFactory,
)
from tests.portfolio.api_support import token_for
from tests.security.markup import payload


@pytest.fixture
def office(db):
    """The portfolio office, with the admin access its members get (``is_staff``)."""
    user = UserFactory(username="paula", first_name="Paula", last_name="Office", roles=["portfolio_office"])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def world(db, owner, sponsor, outsider, executive, office) -> dict[str, Any]:
    """Olivia's pilot with a KPI, a reading, a kill criterion, a check-in, evidence, a gate review and a flag;
    Olivia's digest, token and digest preferences; a webhook with a delivery; and an API token for each visitor."""
    pilot = PilotFactory(key="invoice-matching", name="Invoice matching", owner=owner, sponsor=sponsor, phase="pilot")
    kpi = KpiFactory(pilot=pilot, key="match-rate")
    KpiReadingFactory(kpi=kpi)
    criterion = KillCriterionFactory(pilot=pilot, key="error-ceiling")
    CheckInFactory(pilot=pilot)
    gate_criterion = GateCriterion.objects.filter(gate="pilot", kind="attested").order_by("order").first()
    gate_criterion.save()  # a first version in its history (the admin shows versions)
    AttestationFactory(pilot=pilot)
    GateReviewFactory(pilot=pilot, decided_by=sponsor)
    FlagFactory(pilot=pilot)
    ScanRun.objects.create(as_of=timezone.localdate(), finished_at=timezone.now())
    DigestPreference.objects.create(user=owner)
    endpoint = WebhookEndpoint.objects.create(url="https://hooks.example.com/x", created_by=office)
    WebhookDelivery.objects.create(
        endpoint=endpoint, event="flag.raised", event_id="walk-1", payload={"text": "Invoice matching: flag raised."}
    )
    tokens = {person: token_for(person) for person in (owner, outsider, executive, office)}
    return {
        "pilot": pilot,
        "kpi": kpi,
        "criterion": criterion,
        "gate_criterion": gate_criterion,
        "digest": DigestDeliveryFactory(recipient=owner),
        "token": owner.api_tokens.get(),
        "secrets": {person.username: secret for person, secret in tokens.items()},
        "people": {"owner": owner, "sponsor": sponsor, "outsider": outsider, "executive": executive, "office": office},
    }


@pytest.fixture
def hostile_world(db, frozen_today) -> dict[str, Any]:
    """A portfolio whose every piece of user text is hostile, scanned and with this week's digests sent.

    Each field holds ``payload(<its name>)``; the KPI units (40 characters at most) hold
    shorter ones. The pilot drifts, meets a kill criterion and has a killed sibling with
    lessons, so flags, digests and the lessons search all carry the text too.
    """
    today = timezone.localdate()
    owner = UserFactory(username="olivia", first_name=payload("owner-name"), last_name="Owner")
    sponsor = UserFactory(username="sam", first_name="Sam", last_name=payload("sponsor-name"))
    executive = UserFactory(username="erin", first_name=payload("executive-name"), roles=["executive"])
    office = UserFactory(username="paula", first_name="Paula", last_name="Office", roles=["portfolio_office"])
    unit = BusinessUnitFactory(name=payload("unit-name"))
    pilot = PilotFactory(
        key="invoice-matching",
        name=payload("pilot-name"),
        problem=payload("problem") + " invoices wait for manual matching",
        outcome=payload("outcome"),
        business_unit=unit,
        owner=owner,
        sponsor=sponsor,
        phase="pilot",
        started_on=today - dt.timedelta(days=200),
        phase_entered_on=today - dt.timedelta(days=190),
    )
    kpi = KpiFactory(pilot=pilot, key="match-rate", name=payload("kpi-name"), unit='<script>alert("unit")</script>')
    KpiFactory(pilot=pilot, key="cycle-time", name=payload("kpi-2-name"), unit='"><img src=x onerror=alert(2)>')
    for days_ago, value in ((14, 45.0), (7, 40.0), (1, 35.0)):
        KpiReadingFactory(
            kpi=kpi, measured_on=today - dt.timedelta(days=days_ago), value=value, note=payload("reading-note")
        )
    KillCriterionFactory(
        pilot=pilot, key="floor", description=payload("kill-criterion"), kpi=kpi, comparator="below", threshold=38
    )
    CheckInFactory(pilot=pilot, on=today - dt.timedelta(days=3), note=payload("checkin-note"), confidence="low")
    criterion = GateCriterion.objects.get(code="monitoring")
    criterion.label = payload("criterion-label")
    criterion.help_text = payload("criterion-help")
    criterion.save()
    AttestationFactory(pilot=pilot, criterion=criterion, evidence=payload("evidence"))
    GateReviewFactory(
        pilot=pilot,
        decided_on=today - dt.timedelta(days=2),
        rationale=payload("rationale"),
        override_justification=payload("override") + " — justified at length for the record",
    )
    killed = PilotFactory(
        key="old-matching",
        name=payload("killed-pilot-name"),
        problem="Invoices wait for manual matching",
        status="killed",
        owner=owner,
        sponsor=sponsor,
    )
    GateReviewFactory(pilot=killed, decision="kill", rationale=payload("kill-rationale"), lessons=payload("lessons"))
    api_token_create(user=owner, name=payload("token-name")[:100], scope="read")
    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/x", description=payload("webhook-description"), created_by=office
    )
    scan_portfolio(as_of=today)
    send_week(as_of=today)
    return {
        "pilot": pilot,
        "kpi": kpi,
        "people": {"owner": owner, "sponsor": sponsor, "executive": executive, "office": office},
        "secret": api_token_create(user=executive, name="feed", scope="read")[1],
    }
