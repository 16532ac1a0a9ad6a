"""Editing a pilot, its KPIs and kill criteria: locked against stale edits, frozen goalposts need a reason."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.urls import reverse

from portfolio.models import KillCriterion, Kpi, Phase, Pilot
from portfolio.services import kill_criterion_update, kpi_update, pilot_update
from tests.factories import KillCriterionFactory, KpiFactory, PilotFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def version_in(body: str) -> str:
    return re.search(r'name="version" value="(\d+)"', body).group(1)


def test_the_owner_edits_the_description_only(signed_in, pilot):
    body = text(signed_in.get(reverse("pilot_edit", args=[pilot.key])))

    assert 'name="problem"' in body and 'name="outcome"' in body
    assert 'name="owner"' not in body and 'name="name"' not in body

    response = signed_in.post(
        reverse("pilot_edit", args=[pilot.key]),
        {"problem": "Invoices wait a week.", "outcome": "Same day.", "version": "1"},
    )

    assert response.status_code == 302
    pilot.refresh_from_db()
    assert (pilot.problem, pilot.version) == ("Invoices wait a week.", 2)


def test_a_stale_edit_is_refused_shows_both_versions_and_keeps_the_typing(signed_in, pilot, pmo):
    opened = version_in(text(signed_in.get(reverse("pilot_edit", args=[pilot.key]))))
    pilot_update(pilot=pilot, version=1, changes={"problem": "The office's wording."}, updated_by=pmo)

    response = signed_in.post(
        reverse("pilot_edit", args=[pilot.key]),
        {"problem": "My careful wording.", "outcome": pilot.outcome, "version": opened},
    )

    body = text(response)
    assert response.status_code == 200
    assert "Someone else saved this pilot after you opened the form, so your changes are not saved yet." in body
    assert "<ins>My careful wording.</ins>" in body
    assert "<del>The office's wording.</del>" in body
    assert ">\nMy careful wording.</textarea>" in body
    assert version_in(body) == "2"
    assert Pilot.objects.get().problem == "The office's wording."

    again = signed_in.post(
        reverse("pilot_edit", args=[pilot.key]),
        {"problem": "My careful wording.", "outcome": pilot.outcome, "version": version_in(body)},
    )

    assert again.status_code == 302
    assert Pilot.objects.get().problem == "My careful wording."


def test_the_stale_message_takes_the_focus(signed_in, pilot, pmo):
    pilot_update(pilot=pilot, version=1, changes={"problem": "Theirs"}, updated_by=pmo)

    body = text(
        signed_in.post(reverse("pilot_edit", args=[pilot.key]), {"problem": "Mine", "outcome": "", "version": "1"})
    )

    assert 'role="alert" tabindex="-1" autofocus' in body


def test_the_office_names_owner_and_sponsor_with_the_people_picker(client, pilot, pmo):
    client.force_login(pmo)
    newcomer = UserFactory(username="nia", first_name="Nia", last_name="New")
    form = text(client.get(reverse("pilot_edit", args=[pilot.key])))
    assert 'list="people-options"' in form
    assert '<option value="nia">Nia New</option>' in form

    response = client.post(
        reverse("pilot_edit", args=[pilot.key]),
        {
            "name": pilot.name,
            "business_unit": pilot.business_unit_id,
            "problem": pilot.problem,
            "outcome": pilot.outcome,
            "owner": "nia",
            "sponsor": "sam",
            "version": "1",
        },
    )

    assert response.status_code == 302
    assert Pilot.objects.get().owner == newcomer


@pytest.mark.parametrize(
    ("owner_typed", "sponsor_typed", "field", "message"),
    [
        ("nobody", "sam", "owner", 'Nobody active has the username "nobody". Pick a person from the list.'),
        ("sam", "sam", "sponsor", "The sponsor answers for the owner, so they must be two different people."),
    ],
)
def test_the_office_is_told_about_a_wrong_person(client, pilot, pmo, owner_typed, sponsor_typed, field, message):
    client.force_login(pmo)
    fields = {"name": pilot.name, "business_unit": pilot.business_unit_id, "version": 1}

    response = client.post(
        reverse("pilot_edit", args=[pilot.key]), {**fields, "owner": owner_typed, "sponsor": sponsor_typed}
    )

    assert f'<p class="field__error" id="id_{field}_error">{message}</p>' in text(response)
    assert f'value="{owner_typed}"' in text(response)


def test_a_kpi_target_on_the_wrong_side_is_explained_beside_the_target(signed_in, pilot):
    response = signed_in.post(
        reverse("kpi_create", args=[pilot.key]),
        {"name": "Match rate", "key": "match-rate", "direction": "increase", "baseline": "50", "target": "40"},
    )

    body = text(response)
    assert 'id="id_target_error">Higher is better for this KPI, so the target must be above the baseline.</p>' in body
    assert 'value="Match rate"' in body
    assert not Kpi.objects.exists()


def test_a_kpi_is_added(signed_in, pilot):
    response = signed_in.post(
        reverse("kpi_create", args=[pilot.key]),
        {"name": "Match rate", "key": "match-rate", "unit": "%", "direction": "increase", "target": "1,200"},
    )

    kpi = Kpi.objects.get()
    assert response["Location"] == f"/pilots/{pilot.key}/#kpi-{kpi.pk}"
    assert kpi.target == 1200.0


def test_after_the_first_gate_a_kpi_edit_asks_for_the_reason(signed_in, pilot):
    pilot.phase = Phase.PILOT
    pilot.save()
    kpi = KpiFactory(pilot=pilot, key="match-rate", target=80.0)
    page = text(signed_in.get(reverse("kpi_edit", args=[pilot.key, kpi.key])))
    assert "its baselines, targets and kill criteria are frozen" in page
    assert 'name="reason"' in page
    fields = {"name": kpi.name, "unit": "%", "direction": "increase", "baseline": "50", "target": "70", "version": "1"}

    refused = signed_in.post(reverse("kpi_edit", args=[pilot.key, kpi.key]), fields)

    assert 'id="id_reason_error">This pilot has passed its first gate' in text(refused)
    assert 'value="70"' in text(refused)
    assert Kpi.objects.get().target == 80.0

    saved = signed_in.post(reverse("kpi_edit", args=[pilot.key, kpi.key]), {**fields, "reason": "Season changed."})

    assert saved.status_code == 302
    kpi.refresh_from_db()
    assert (kpi.target, kpi.history.latest().history_change_reason) == (70.0, "Season changed.")


def test_a_stale_kpi_edit_keeps_the_typing(signed_in, pilot, pmo):
    kpi = KpiFactory(pilot=pilot, key="match-rate", name="Match rate", target=80.0)
    kpi_update(kpi=kpi, version=1, changes={"target": 85.0}, updated_by=pmo)

    response = signed_in.post(
        reverse("kpi_edit", args=[pilot.key, kpi.key]),
        {"name": "Match rate", "unit": "%", "direction": "increase", "baseline": "50", "target": "90", "version": "1"},
    )

    body = text(response)
    assert "Someone else saved this KPI" in body
    assert '<th scope="row">Target</th><td><ins>90</ins></td><td><del>85</del></td>' in body
    assert 'value="90"' in body
    assert Kpi.objects.get().target == 85.0


def test_a_half_filled_condition_is_explained_on_the_missing_fields(signed_in, pilot):
    kpi = KpiFactory(pilot=pilot)

    response = signed_in.post(
        reverse("kill_criterion_create", args=[pilot.key]),
        {"key": "floor", "description": "Too few matches", "kpi": kpi.pk, "comparator": "", "threshold": ""},
    )

    body = text(response)
    message = "A measurable condition needs a KPI, below or above, and a threshold; leave all three empty otherwise."
    assert f'id="id_comparator_error">{message}</p>' in body
    assert f'id="id_threshold_error">{message}</p>' in body
    assert not KillCriterion.objects.exists()


def test_a_kill_criterion_is_added_and_edited(signed_in, pilot):
    kpi = KpiFactory(pilot=pilot)
    signed_in.post(
        reverse("kill_criterion_create", args=[pilot.key]),
        {"key": "floor", "description": "Too few", "kpi": kpi.pk, "comparator": "below", "threshold": "40"},
    )
    criterion = KillCriterion.objects.get()

    response = signed_in.post(
        reverse("kill_criterion_edit", args=[pilot.key, criterion.key]),
        {"description": "Far too few", "kpi": kpi.pk, "comparator": "below", "threshold": "35", "version": "1"},
    )

    assert response.status_code == 302
    criterion.refresh_from_db()
    assert (criterion.description, criterion.threshold, criterion.version) == ("Far too few", 35.0, 2)


def test_a_stale_kill_criterion_edit_keeps_the_typing(signed_in, pilot, pmo):
    kpi = KpiFactory(pilot=pilot)
    criterion = KillCriterionFactory(pilot=pilot, kpi=kpi, comparator="below", threshold=40.0)
    kill_criterion_update(criterion=criterion, version=1, changes={"threshold": 30.0}, updated_by=pmo)

    response = signed_in.post(
        reverse("kill_criterion_edit", args=[pilot.key, criterion.key]),
        {"description": criterion.description, "kpi": kpi.pk, "comparator": "below", "threshold": "35", "version": "1"},
    )

    body = text(response)
    assert "Someone else saved this kill criterion" in body
    assert '<th scope="row">Threshold</th><td><ins>35</ins></td><td><del>30</del></td>' in body
    assert 'value="35"' in body
    assert version_in(body) == "2"
    assert KillCriterion.objects.get().threshold == 30.0


def test_after_the_first_gate_a_kill_criterion_edit_asks_for_the_reason(signed_in, pilot):
    pilot.phase = Phase.PILOT
    pilot.save()
    kpi = KpiFactory(pilot=pilot)
    criterion = KillCriterionFactory(pilot=pilot, kpi=kpi, comparator="below", threshold=40.0)
    url = reverse("kill_criterion_edit", args=[pilot.key, criterion.key])
    fields = {
        "description": criterion.description,
        "kpi": kpi.pk,
        "comparator": "below",
        "threshold": "35",
        "version": "1",
    }

    refused = signed_in.post(url, fields)

    assert 'id="id_reason_error">This pilot has passed its first gate' in text(refused)
    assert KillCriterion.objects.get().threshold == 40.0

    saved = signed_in.post(url, {**fields, "reason": "The floor was set too high."})

    assert saved.status_code == 302
    criterion.refresh_from_db()
    assert (criterion.threshold, criterion.history.latest().history_change_reason) == (
        35.0,
        "The floor was set too high.",
    )


def test_after_the_first_gate_a_new_kill_criterion_needs_a_reason(signed_in, pilot):
    pilot.phase = Phase.PILOT
    pilot.save()
    url = reverse("kill_criterion_create", args=[pilot.key])
    fields = {"key": "floor", "description": "Too few matches"}

    refused = signed_in.post(url, fields)

    assert 'id="id_reason_error">' in text(refused)
    assert 'value="floor"' in text(refused)
    assert not KillCriterion.objects.exists()

    added = signed_in.post(url, {**fields, "reason": "The sponsor asked for a stop rule."})

    assert added["Location"] == f"/pilots/{pilot.key}/#kill-criteria"
    criterion = KillCriterion.objects.get()
    assert criterion.history.latest().history_change_reason == "The sponsor asked for a stop rule."


def test_a_kill_criterion_cannot_pick_another_pilots_kpi(signed_in, pilot):
    foreign = KpiFactory(pilot=PilotFactory())

    response = signed_in.post(
        reverse("kill_criterion_create", args=[pilot.key]),
        {"key": "x", "description": "x", "kpi": foreign.pk, "comparator": "below", "threshold": "1"},
    )

    assert "Select a valid choice." in text(response)
    assert not KillCriterion.objects.exists()


EDIT_PAGES = ["pilot_edit", "kpi_create", "kpi_edit", "kill_criterion_create", "kill_criterion_edit"]


@pytest.mark.parametrize("name", EDIT_PAGES)
@pytest.mark.parametrize("who", ["outsider", "executive", "sponsor", "another_owner"])
def test_nobody_else_may_open_or_post_an_edit(client, pilot, name, who, request):
    kpi = KpiFactory(pilot=pilot, key="match-rate")
    criterion = KillCriterionFactory(pilot=pilot, key="floor")
    user = PilotFactory().owner if who == "another_owner" else request.getfixturevalue(who)
    args = {"kpi_edit": [pilot.key, kpi.key], "kill_criterion_edit": [pilot.key, criterion.key]}.get(name, [pilot.key])
    client.force_login(user)

    assert client.get(reverse(name, args=args)).status_code == 403
    assert client.post(reverse(name, args=args), {"description": "x", "problem": "x", "version": 1}).status_code == 403
    assert Pilot.objects.get(pk=pilot.pk).version == 1
