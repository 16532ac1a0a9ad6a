"""The admin at /admin/: the portfolio office runs it without being superusers; nobody else gets in."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalChanges

from gates.models import GateCriterion, GateReview
from portfolio import roles
from portfolio.models import DigestPreference, Pilot, WebhookDelivery, WebhookEndpoint
from portfolio.services import api_token_create
from tests.factories import (
    TODAY,
    AttestationFactory,
    CheckInFactory,
    DigestDeliveryFactory,
    FlagFactory,
    GateReviewFactory,
    GateReviewItemFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
    ScanRunFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

OFFICE_APPS = ("portfolio", "gates")
OFFICE_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label in OFFICE_APPS), key=lambda m: m._meta.label
)
# Shown inside its gate review, never on its own.
INLINE_ONLY = {"gates.GateReviewItem"}


def one_of_everything(pilot: Pilot) -> None:
    """A row of every model of both apps around ``pilot``."""
    kpi = KpiFactory(pilot=pilot)
    KpiReadingFactory(kpi=kpi, recorded_by=pilot.owner)
    criterion = KillCriterionFactory(pilot=pilot, kpi=kpi, comparator="below", threshold=40.0, evaluate_on=TODAY)
    CheckInFactory(pilot=pilot)
    FlagFactory(pilot=pilot, kind="drifting", kpi=kpi)
    FlagFactory(pilot=pilot, kind="kill_criterion_met", kill_criterion=criterion, severity="critical")
    FlagFactory(pilot=pilot, kind="stale", resolved_at=timezone.now())
    ScanRunFactory(finished_at=timezone.now(), error="")
    DigestDeliveryFactory(recipient=pilot.owner)
    DigestPreference.objects.create(user=pilot.owner, owner_digest=False)
    AttestationFactory(pilot=pilot)
    GateReviewItemFactory(review=GateReviewFactory(pilot=pilot, rationale="Ready for users."))
    api_token_create(user=pilot.owner, name="Ticketing feed", scope="read")
    hook = WebhookEndpoint.objects.create(url="https://hooks.example.com/portfolio", business_unit=pilot.business_unit)
    WebhookDelivery.objects.create(endpoint=hook, event="flag.raised", event_id="flag.raised:1", payload={"text": "x"})


@pytest.fixture
def office(pmo) -> Any:
    pmo.is_staff = True
    pmo.save(update_fields=["is_staff"])
    return pmo


@pytest.fixture
def office_client(client: Client, office: Any) -> Client:
    client.force_login(office)
    return client


@pytest.fixture
def everything(pilot: Pilot) -> Pilot:
    one_of_everything(pilot)
    return pilot


def changelist_url(model: type[models.Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change_url(obj: models.Model) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_every_model_of_both_apps_has_an_admin():
    domain_models = {
        model._meta.label
        for label in OFFICE_APPS
        for model in apps.get_app_config(label).get_models()
        if not issubclass(model, HistoricalChanges)
    }
    assert domain_models - INLINE_ONLY == {model._meta.label for model in OFFICE_MODELS}


def test_the_portfolio_office_holds_every_permission_on_both_apps():
    granted = set(Group.objects.get(name=roles.PORTFOLIO_OFFICE).permissions.values_list("pk", flat=True))
    needed = Permission.objects.filter(content_type__app_label__in=OFFICE_APPS).exclude(
        content_type__model__startswith="historical"
    )
    assert needed.exists()
    assert set(needed.values_list("pk", flat=True)) <= granted


def test_the_portfolio_office_may_read_history_but_not_rewrite_it():
    office_permissions = Group.objects.get(name=roles.PORTFOLIO_OFFICE).permissions
    assert office_permissions.filter(codename="view_historicalpilot").exists()
    assert not office_permissions.filter(codename__in=["change_historicalpilot", "delete_historicalpilot"]).exists()


def test_the_portfolio_office_sees_both_apps_on_the_admin_index(office_client: Client):
    response = office_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert {app["app_label"] for app in response.context["app_list"]} >= set(OFFICE_APPS)


@pytest.mark.parametrize("model", OFFICE_MODELS, ids=lambda m: m._meta.label)
def test_the_portfolio_office_opens_every_changelist(office_client: Client, everything: Pilot, model: Any):
    response = office_client.get(changelist_url(model))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", OFFICE_MODELS, ids=lambda m: m._meta.label)
def test_the_portfolio_office_opens_every_change_page(office_client: Client, everything: Pilot, model: Any):
    response = office_client.get(change_url(model.objects.first()))
    assert response.status_code == 200
    assert response.context["original"] == model.objects.first()


@pytest.mark.parametrize("model", OFFICE_MODELS, ids=lambda m: m._meta.label)
def test_a_changelist_costs_the_same_queries_for_more_rows(office_client: Client, everything: Pilot, model: Any):
    url = changelist_url(model)
    office_client.get(url)  # warm the content-type and permission caches
    with CaptureQueriesContext(connection) as few_rows:
        office_client.get(url)
    for _ in range(3):
        one_of_everything(PilotFactory())
    with CaptureQueriesContext(connection) as more_rows:
        response = office_client.get(url)
    assert response.context["cl"].result_count > 1
    assert len(more_rows) == len(few_rows)


def test_the_pilot_page_shows_its_kpis_kill_criteria_and_check_ins(office_client: Client, everything: Pilot):
    response = office_client.get(change_url(everything))
    inlines = {formset.formset.prefix: formset for formset in response.context["inline_admin_formsets"]}
    assert set(inlines) == {"kpis", "kill_criteria", "checkins"}
    assert all(len(inline.formset.forms) == 1 for inline in inlines.values())
    assert everything.kpis.get().key in response.content.decode()


def test_a_kill_criterion_on_the_pilot_page_offers_only_that_pilots_kpis(office_client: Client, everything: Pilot):
    KpiFactory()  # another pilot's
    response = office_client.get(change_url(everything))
    kill_criteria = next(f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "kill_criteria")
    offered = kill_criteria.formset.forms[0].fields["kpi"].queryset
    assert list(offered) == list(everything.kpis.all())


def test_the_pilot_page_links_to_its_history(office_client: Client, everything: Pilot):
    history_url = reverse("admin:portfolio_pilot_history", args=[everything.pk])
    assert history_url in office_client.get(change_url(everything)).content.decode()
    everything.name = "Invoice matching at scale"
    everything.save()
    response = office_client.get(history_url)
    assert response.status_code == 200
    records = response.context["page_obj"].object_list
    assert [record.name for record in records] == ["Invoice matching at scale", "Invoice matching"]
    for record in records:
        version_url = reverse("admin:portfolio_pilot_simple_history", args=[everything.pk, record.history_id])
        assert version_url in response.content.decode()


def test_history_is_read_not_reverted(office_client: Client, everything: Pilot):
    first = everything.history.earliest()
    everything.name = "Renamed"
    everything.save()
    url = reverse("admin:portfolio_pilot_simple_history", args=[everything.pk, first.history_id])
    assert office_client.get(url).status_code == 200
    assert office_client.post(url, {"name": "Invoice matching"}).status_code == 403
    everything.refresh_from_db()
    assert everything.name == "Renamed"


def form_data(response: Any) -> dict[str, Any]:
    """The POST a browser would send back from an admin change page, unchanged."""
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {management[name].html_name: management[name].value() for name in management.fields}
        forms += inline.formset.forms
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if isinstance(value, bool):
                if value:
                    data[form[name].html_name] = "on"
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            data[form[name].html_name] = "" if value is None else value
    return data


def test_the_portfolio_office_edits_a_pilot_and_its_inlines(office_client: Client, everything: Pilot):
    response = office_client.get(change_url(everything))
    data = form_data(response) | {"name": "Invoice matching v2", "kpis-0-target": "90"}
    response = office_client.post(change_url(everything), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    everything.refresh_from_db()
    assert everything.name == "Invoice matching v2"
    assert everything.kpis.get().target == 90.0
    # The save counts as an edit, so a form opened elsewhere before it is now stale.
    assert everything.version == 2
    assert everything.history.latest().history_user.username == "paula"


def test_a_gate_criterion_is_reordered_and_deactivated_from_the_list(office_client: Client):
    response = office_client.get(changelist_url(GateCriterion))
    criteria = [form.instance for form in response.context["cl"].formset.forms]
    data: dict[str, Any] = {
        "form-TOTAL_FORMS": len(criteria),
        "form-INITIAL_FORMS": len(criteria),
        "form-MIN_NUM_FORMS": 0,
        "form-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for index, criterion in enumerate(criteria):
        data[f"form-{index}-id"] = criterion.pk
        data[f"form-{index}-order"] = 5 if criterion.code == "governance" else criterion.order
        if criterion.code != "monitoring":
            data[f"form-{index}-active"] = "on"
    response = office_client.post(changelist_url(GateCriterion), data)
    assert response.status_code == 302
    assert GateCriterion.objects.get(code="governance").order == 5
    assert not GateCriterion.objects.get(code="monitoring").active
    assert GateCriterion.objects.filter(active=True).count() == len(criteria) - 1


def test_a_gate_reviews_decision_and_snapshot_cannot_be_edited(office_client: Client, everything: Pilot):
    review = GateReview.objects.get(pilot=everything)
    page = office_client.get(change_url(review)).content.decode()
    assert 'name="rationale"' in page
    assert 'name="decision"' not in page
    assert 'name="items-0-label"' not in page
    assert 'name="items-0-met"' not in page
    assert review.items.get().label in page


def test_a_gate_review_is_never_added_in_the_admin(office_client: Client):
    response = office_client.get(reverse("admin:gates_gatereview_add"))
    assert response.status_code == 403


@pytest.mark.parametrize("model_name", ["flag", "scanrun", "digestdelivery"])
def test_rows_the_system_writes_are_read_only(office_client: Client, everything: Pilot, model_name: str):
    model = next(m for m in OFFICE_MODELS if m._meta.model_name == model_name)
    assert office_client.get(reverse(f"admin:portfolio_{model_name}_add")).status_code == 403
    response = office_client.get(change_url(model.objects.first()))
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


def test_the_owner_and_sponsor_pickers_find_people(office_client: Client, everything: Pilot):
    response = office_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "portfolio", "model_name": "pilot", "field_name": "owner", "term": "olivia"},
    )
    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [str(everything.owner.pk)]


def test_an_owner_is_sent_to_the_admin_login(client: Client, owner: Any):
    client.force_login(owner)
    response = client.get(changelist_url(Pilot))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_outside_the_portfolio_office_cannot_open_the_pilots(client: Client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(changelist_url(Pilot)).status_code == 403
