"""The portfolio office's pages: new pilots (with lessons of similar killed ones), business units, the people picker."""

from __future__ import annotations

import html as html_lib

import pytest
from django.urls import reverse

from portfolio.models import BusinessUnit, Phase, Pilot
from portfolio.services import business_unit_rename
from tests.factories import BusinessUnitFactory, GateReviewFactory, PilotFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def signed_in(client, pmo):
    client.force_login(pmo)
    return client


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def test_the_office_creates_a_pilot_with_its_owner_and_sponsor(signed_in, owner, sponsor):
    unit = BusinessUnitFactory(name="Finance")

    response = signed_in.post(
        reverse("pilot_create"),
        {
            "name": "Cash forecast",
            "key": "cash-forecast",
            "business_unit": unit.pk,
            "problem": "Forecasts are a week late.",
            "outcome": "Daily forecast.",
            "owner": "olivia",
            "sponsor": "sam",
            "started_on": "2026-11-16",
        },
    )

    assert response.status_code == 302
    pilot = Pilot.objects.get(key="cash-forecast")
    assert response["Location"] == pilot.get_absolute_url()
    assert (pilot.owner, pilot.sponsor, pilot.phase) == (owner, sponsor, Phase.POC)


def test_a_mistake_keeps_everything_typed(signed_in):
    unit = BusinessUnitFactory(name="Finance")

    response = signed_in.post(
        reverse("pilot_create"),
        {"name": "", "key": "bad key!", "business_unit": unit.pk, "problem": "Long text", "started_on": "2026-11-16"},
    )

    body = text(response)
    assert 'id="id_name_error">This field is required.</p>' in body
    assert 'id="id_key_error">' in body
    assert ">\nLong text</textarea>" in body
    assert not Pilot.objects.exists()


def test_killed_pilots_with_a_similar_problem_are_shown_with_their_lessons(signed_in):
    killed = PilotFactory(
        name="Invoice robot",
        status="killed",
        problem="Supplier invoices wait days for manual matching against orders.",
    )
    GateReviewFactory(pilot=killed, decision="kill", rationale="No value.", lessons="Vendors' formats vary too much.")

    page = text(signed_in.get(reverse("pilot_create")))
    lessons = text(
        signed_in.get(
            reverse("pilot_create"), {"problem": "Invoices wait for manual matching"}, headers={"HX-Request": "true"}
        )
    )
    refused = text(signed_in.post(reverse("pilot_create"), {"problem": "Invoices wait for manual matching"}))

    assert 'id="similar-lessons"' in page
    assert "Vendors' formats vary too much." in lessons
    assert "Vendors' formats vary too much." in refused


def test_business_units_are_added_and_renamed(signed_in):
    response = signed_in.post(reverse("business_units"), {"name": "Finance"})
    unit = BusinessUnit.objects.get()

    renamed = signed_in.post(
        reverse("business_unit_edit", args=[unit.pk]), {"name": "Group finance", "original_name": "Finance"}
    )

    assert response.status_code == renamed.status_code == 302
    assert BusinessUnit.objects.get().name == "Group finance"
    assert "Group finance" in text(signed_in.get(reverse("business_units")))


def test_a_unit_name_in_use_is_refused(signed_in):
    BusinessUnitFactory(name="Finance")

    response = signed_in.post(reverse("business_units"), {"name": "finance"})

    assert 'There is already a business unit called "finance".' in text(response)


def test_a_rename_in_between_is_shown_and_the_typing_kept(signed_in):
    unit = BusinessUnitFactory(name="Ops")
    business_unit_rename(unit=unit, expected_name="Ops", name="Operations")

    response = signed_in.post(
        reverse("business_unit_edit", args=[unit.pk]), {"name": "Ops & logistics", "original_name": "Ops"}
    )

    body = text(response)
    assert "Someone renamed this business unit after you opened the form." in body
    assert "<ins>Ops & logistics</ins>" in body and "<del>Operations</del>" in body
    assert 'name="original_name" value="Operations"' in body
    assert BusinessUnit.objects.get().name == "Operations"


def test_the_people_picker_finds_active_people_by_name(signed_in):
    UserFactory(username="nia", first_name="Nia", last_name="Okoye")
    UserFactory(username="nils", first_name="Nils", last_name="Gone", is_active=False)

    body = text(signed_in.get(reverse("people"), {"owner": "oko"}, headers={"HX-Request": "true"}))

    assert body.strip() == '<option value="nia">Nia Okoye</option>'


@pytest.mark.parametrize("name", ["pilot_create", "business_units", "people"])
@pytest.mark.parametrize("who", ["owner", "sponsor", "executive", "outsider"])
def test_only_the_office_may_use_its_pages(client, name, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse(name)).status_code == 403


def test_only_the_office_may_rename_a_unit(client, owner):
    unit = BusinessUnitFactory(name="Ops")
    client.force_login(owner)

    assert (
        client.post(reverse("business_unit_edit", args=[unit.pk]), {"name": "Mine", "original_name": "Ops"}).status_code
        == 403
    )
    assert BusinessUnit.objects.get().name == "Ops"
