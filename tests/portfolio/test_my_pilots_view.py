"""My pilots: the pilots I own or sponsor, what needs me first, and the forms that fix it, on one page."""

from __future__ import annotations

import datetime as dt
import html as html_lib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gates.models import GateCriterion
from tests.factories import (
    TODAY,
    AttestationFactory,
    CheckInFactory,
    FlagFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def page(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("my_pilots"))
    assert response.status_code == 200
    return html_lib.unescape(response.content.decode())


def test_it_lists_the_pilots_i_own_or_sponsor_and_no_others(client, owner, sponsor):
    PilotFactory(name="Mine to run", owner=owner)
    PilotFactory(name="Mine to answer for", sponsor=owner)
    PilotFactory(name="Somebody else's")

    body = page(client, owner)

    assert "Mine to run" in body and "Mine to answer for" in body
    assert "Somebody else's" not in body
    assert "You own 1 pilot and sponsor 1." in body


def test_what_needs_me_comes_first_most_severe_first(client, owner, pilot):
    FlagFactory(pilot=pilot, kind="stale", severity="warning", detail="No reading for 30 days")
    FlagFactory(pilot=pilot, kind="kill_criterion_met", severity="critical", detail="Match rate is 30 %, below 40 %")
    KpiFactory(pilot=pilot, name="Match rate")

    body = page(client, owner)

    needs = body.split('<ol class="needs">')[1].split("</ol>")[0]
    assert needs.index("Kill criterion met") < needs.index("Stale") < needs.index("Reading due: Match rate")
    assert 'href="/pilots/invoice-matching/gate/">Decide at the gate' in needs
    assert 'href="/me/#kpis-invoice-matching">Record a reading' in needs


def test_a_due_kpi_has_its_reading_form_right_here(client, owner, pilot):
    kpi = KpiFactory(pilot=pilot, name="Match rate")
    KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=8), value=58.0)

    body = page(client, owner)

    assert f'href="/me/#kpi-{kpi.pk}">Record a reading' in body
    assert f'<tbody id="kpi-{kpi.pk}"' in body
    assert f'hx-post="/pilots/invoice-matching/kpis/{kpi.key}/readings/"' in body
    assert 'name="next" value="/me/"' in body


def test_a_reading_from_six_days_ago_is_not_due(client, owner, pilot):
    kpi = KpiFactory(pilot=pilot, name="Match rate")
    KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=6), value=58.0)

    assert "Reading due" not in page(client, owner)


def test_evidence_of_the_next_gate_about_to_expire_is_due(client, owner, pilot):
    pilot.phase = "pilot"
    pilot.save()
    monitoring = GateCriterion.objects.get(code="monitoring")
    AttestationFactory(pilot=pilot, criterion=monitoring, attested_on=TODAY - dt.timedelta(days=160))
    # An attestation for another gate's criterion is not this phase's business.
    other_gate = GateCriterion.objects.exclude(gate="pilot").filter(kind="attested").first()
    AttestationFactory(pilot=pilot, criterion=other_gate, attested_on=TODAY - dt.timedelta(days=179))

    body = page(client, owner)

    assert f"Evidence expires: {monitoring.label}" in body
    assert "it expires on 6 Dec 2026 (in 20 days)" in body
    assert other_gate.label not in body
    assert 'href="/pilots/invoice-matching/gate/">Renew the evidence' in body


def test_the_latest_attestation_of_a_criterion_counts(client, owner, pilot):
    pilot.phase = "pilot"
    pilot.save()
    criterion = GateCriterion.objects.get(code="monitoring")
    AttestationFactory(pilot=pilot, criterion=criterion, attested_on=TODAY - dt.timedelta(days=170))
    AttestationFactory(pilot=pilot, criterion=criterion, attested_on=TODAY - dt.timedelta(days=10))

    assert "Evidence" not in page(client, owner).split('id="needs-heading"')[1].split("</section>")[0]


def test_a_sponsor_sees_a_check_in_due_with_the_form_here(client, sponsor, pilot):
    CheckInFactory(pilot=pilot, on=TODAY - dt.timedelta(days=31))

    body = page(client, sponsor)

    assert "No check-in since 16 Oct 2026 (31 days)" in body
    assert 'href="/me/#checkin-invoice-matching">Record a check-in' in body
    assert '<div id="checkin-invoice-matching" class="checkin-panel">' in body
    assert "Last check-in 16 Oct 2026" in body
    # A sponsor who is not the owner records no readings.
    assert "reading-form" not in body


def test_a_recent_check_in_is_not_due(client, sponsor, pilot):
    CheckInFactory(pilot=pilot, on=TODAY - dt.timedelta(days=29))

    assert "Check-in due" not in page(client, sponsor)


def test_with_nothing_to_do_it_says_so(client, owner):
    PilotFactory(owner=owner, status="on_hold")

    assert "Nothing needs you right now" in page(client, owner)


def test_killed_pilots_are_listed_apart(client, owner):
    PilotFactory(owner=owner, name="Old idea", status="killed", phase="pilot")

    body = page(client, owner)

    assert "Killed pilots you owned or sponsored" in body
    assert "killed in pilot" in body


def test_the_page_takes_a_fixed_number_of_queries(client, owner, django_assert_num_queries):
    def add_pilot():
        pilot = PilotFactory(owner=owner)
        kpi = KpiFactory(pilot=pilot)
        KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=9))
        FlagFactory(pilot=pilot, kpi=kpi, kind="drifting")
        CheckInFactory(pilot=pilot)

    add_pilot()
    client.force_login(owner)
    client.get(reverse("my_pilots"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("my_pilots"))
    for _ in range(4):
        add_pilot()
    with django_assert_num_queries(len(one)):
        client.get(reverse("my_pilots"))


@pytest.mark.parametrize(
    ("who", "lands_on"), [("owner", "/me/"), ("sponsor", "/me/"), ("executive", "/"), ("pmo", "/")]
)
def test_after_sign_in_each_person_lands_where_their_work_is(client, who, lands_on, request):
    user = request.getfixturevalue(who)

    signed_in = client.post(reverse("login"), {"username": user.username, "password": "pass"})
    landed = client.get(signed_in["Location"])

    assert signed_in["Location"] == reverse("landing")
    assert landed["Location"] == lands_on


def test_htmx_asks_for_the_needs_alone_after_something_was_recorded(client, owner, pilot):
    KpiFactory(pilot=pilot, name="Match rate")
    client.force_login(owner)

    response = client.get(reverse("my_pilots"), headers={"HX-Request": "true"})

    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card" id="needs"')
    assert "Reading due: Match rate" in body
    assert "<tbody" not in body
    assert "HX-Request" in response["Vary"]


def test_the_check_in_form_is_open_only_when_one_is_due(client, sponsor, pilot):
    due_pilot = PilotFactory(sponsor=sponsor, name="Long quiet")
    CheckInFactory(pilot=pilot, on=TODAY - dt.timedelta(days=3))

    body = page(client, sponsor)

    quiet = body.split(f'id="pilot-{due_pilot.key}"')[1].split("</section>")[0]
    recent = body.split(f'id="pilot-{pilot.key}"')[1].split("</section>")[0]
    assert '<details class="my-pilot__checkin" open>' in quiet
    assert '<details class="my-pilot__checkin">' in recent
