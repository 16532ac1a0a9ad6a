"""A sponsor's check-in from the pilot page or "My pilots": only the pilot's sponsor may record one."""

from __future__ import annotations

import html as html_lib

import pytest
from django.urls import reverse

from portfolio.models import CheckIn
from tests.factories import CheckInFactory, PilotFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def signed_in(client, sponsor):
    client.force_login(sponsor)
    return client


def post(client, pilot, *, htmx: bool = True, where: str = "form", next: str = "", **fields):
    values = {"on": "2026-11-16", "confidence": "medium", "note": "", **fields}
    payload = {f"checkin-{pilot.key}-{name}": value for name, value in values.items()}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(
        reverse("checkin_record", args=[pilot.key]), {**payload, "where": where, "next": next}, headers=headers
    )


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def test_the_sponsor_records_a_check_in_and_gets_the_form_back(signed_in, pilot, sponsor):
    response = post(signed_in, pilot, confidence="low", note="The data feed is flaky.")

    assert response.status_code == 200
    body = text(response)
    assert body.lstrip().startswith(f'<div id="checkin-{pilot.key}"')
    assert "Check-in of 16 Nov 2026 recorded: low confidence." in body
    assert "Last check-in 16 Nov 2026" in body
    checkin = CheckIn.objects.get()
    assert (checkin.sponsor, checkin.confidence, checkin.note) == (sponsor, "low", "The data feed is flaky.")


def test_on_the_pilot_page_the_whole_card_with_its_list_comes_back(signed_in, pilot):
    CheckInFactory(pilot=pilot, on=pilot.started_on, note="Early days.")

    body = text(post(signed_in, pilot, where="card", note="Going well."))

    assert body.lstrip().startswith('<section class="card" id="checkins-card"')
    assert body.index("Going well.") < body.index("Early days.")


def test_without_javascript_it_redirects_back(signed_in, pilot):
    response = post(signed_in, pilot, htmx=False, next="/me/")

    assert (response.status_code, response["Location"]) == (302, "/me/")
    assert CheckIn.objects.count() == 1


def test_a_double_submit_records_one_check_in(signed_in, pilot):
    post(signed_in, pilot, note="Same")
    post(signed_in, pilot, note="Same")

    assert CheckIn.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"confidence": ""}, "confidence", "Choose how confident you are: high, medium or low."),
        ({"on": "2026-11-17"}, "on", "The date 17 Nov 2026 is in the future; a check-in is of what you know now."),
        ({"on": "2026-01-01"}, "on", "The date 01 Jan 2026 is before the pilot started (17 Oct 2026)."),
    ],
)
def test_a_mistake_is_explained_beside_its_field_and_the_note_is_kept(signed_in, pilot, fields, field, message):
    response = post(signed_in, pilot, note="Keep this note", **fields)

    body = text(response)
    assert response.status_code == 200
    assert f'id="id_checkin-{pilot.key}-{field}_error">{message}</p>' in body
    assert "Keep this note" in body
    assert not CheckIn.objects.exists()


def test_the_choice_of_confidence_is_a_group_described_by_its_error(signed_in, pilot):
    body = text(post(signed_in, pilot, confidence=""))

    assert f'<fieldset class="field-choices" aria-describedby="id_checkin-{pilot.key}-confidence_error">' in body
    assert "<legend>Confidence</legend>" in body


def test_without_javascript_a_mistake_shows_the_form_page(signed_in, pilot):
    response = post(signed_in, pilot, htmx=False, confidence="", note="mine")

    body = text(response)
    assert "<h1>Check-in on Invoice matching</h1>" in body
    assert "mine" in body


@pytest.mark.parametrize("who", ["owner", "outsider", "executive", "pmo"])
def test_only_the_pilots_sponsor_may_check_in(client, pilot, who, request):
    client.force_login(request.getfixturevalue(who))

    assert post(client, pilot).status_code == 403
    assert not CheckIn.objects.exists()


def test_a_sponsor_may_not_check_in_on_a_pilot_they_do_not_sponsor(signed_in):
    other = PilotFactory()

    assert post(signed_in, other).status_code == 403


def test_the_form_is_only_offered_to_the_sponsor(client, pilot, sponsor, owner):
    client.force_login(sponsor)
    assert "Record check-in" in text(client.get(pilot.get_absolute_url()))
    client.force_login(owner)
    assert "Record check-in" not in text(client.get(pilot.get_absolute_url()))
