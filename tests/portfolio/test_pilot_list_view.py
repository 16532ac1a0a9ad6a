"""The pilot list: each filter of the query string narrows it, and its query count stays flat."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio.models import Phase, Status
from tests.factories import TODAY, BusinessUnitFactory, FlagFactory, KpiFactory, PilotFactory, UserFactory

pytestmark = pytest.mark.usefixtures("fast_password_hashing", "frozen_today")

URL = reverse("pilot_list")
NOON = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def signed_in(client, executive):
    client.force_login(executive)
    return client


def keys(response) -> list[str]:
    return [pilot.key for pilot in response.context["pilots"]]


def test_it_lists_every_pilot_by_name_with_its_details(signed_in, pilot):
    PilotFactory(key="zeta", name="Zeta")
    PilotFactory(key="alpha", name="Alpha")

    response = signed_in.get(URL)

    assert response.status_code == 200
    assert keys(response) == ["alpha", "invoice-matching", "zeta"]
    html = response.content.decode()
    assert f'href="{pilot.get_absolute_url()}"' in html
    assert "Olivia Owner" in html
    assert "Sam Sponsor" in html
    assert pilot.business_unit.name in html


def test_it_counts_the_days_in_phase(signed_in, pilot):
    pilot.phase_entered_on = TODAY - dt.timedelta(days=17)
    pilot.started_on = TODAY - dt.timedelta(days=40)
    pilot.save()

    response = signed_in.get(URL)

    assert response.context["pilots"][0].days_in_phase == 17
    assert '<td class="num wide-only">17</td>' in response.content.decode()


def test_it_filters_by_phase(signed_in):
    PilotFactory(key="early", phase=Phase.POC)
    PilotFactory(key="later", phase=Phase.PRODUCTION)

    assert keys(signed_in.get(URL, {"phase": "production"})) == ["later"]


def test_it_filters_by_status(signed_in):
    PilotFactory(key="running", status=Status.ACTIVE)
    PilotFactory(key="paused", status=Status.ON_HOLD)
    PilotFactory(key="dead", status=Status.KILLED)

    assert keys(signed_in.get(URL, {"status": "on_hold"})) == ["paused"]


def test_it_filters_by_business_unit_name_or_id(signed_in):
    finance = BusinessUnitFactory(name="Finance")
    PilotFactory(key="ledger", business_unit=finance)
    PilotFactory(key="trucks", business_unit=BusinessUnitFactory(name="Logistics"))

    assert keys(signed_in.get(URL, {"unit": "Finance"})) == ["ledger"]
    assert keys(signed_in.get(URL, {"unit": str(finance.pk)})) == ["ledger"]


def test_it_filters_by_owner_username(signed_in, owner):
    PilotFactory(key="mine", owner=owner)
    PilotFactory(key="theirs", owner=UserFactory(username="tess"))

    assert keys(signed_in.get(URL, {"owner": "olivia"})) == ["mine"]


def test_it_filters_by_an_open_flag_only(signed_in):
    FlagFactory(pilot=PilotFactory(key="stale-one"), kind="stale")
    FlagFactory(pilot=PilotFactory(key="fixed-one"), kind="stale", resolved_at=NOON)
    FlagFactory(pilot=PilotFactory(key="other-flag"), kind="no_sponsor")

    assert keys(signed_in.get(URL, {"flag": "stale"})) == ["stale-one"]


def test_a_pilot_with_two_flags_of_a_kind_is_listed_once(signed_in):
    pilot = PilotFactory(key="drifty")
    for kpi in KpiFactory.create_batch(2, pilot=pilot):
        FlagFactory(pilot=pilot, kind="drifting", kpi=kpi)

    assert keys(signed_in.get(URL, {"flag": "drifting"})) == ["drifty"]


def test_it_searches_name_key_and_problem_ignoring_case(signed_in):
    PilotFactory(key="by-name", name="Invoice Robot", problem="x")
    PilotFactory(key="invoice-key", name="Something", problem="x")
    PilotFactory(key="by-problem", name="Other", problem="Invoices wait for days")
    PilotFactory(key="unrelated", name="Routes", problem="Trucks drive empty")

    assert keys(signed_in.get(URL, {"q": "INVOICE"})) == ["by-name", "by-problem", "invoice-key"]


def test_filters_combine(signed_in, owner):
    PilotFactory(key="match", owner=owner, phase=Phase.PILOT)
    PilotFactory(key="wrong-phase", owner=owner, phase=Phase.POC)
    PilotFactory(key="wrong-owner", phase=Phase.PILOT)

    assert keys(signed_in.get(URL, {"owner": "olivia", "phase": "pilot"})) == ["match"]


def test_the_form_keeps_the_filters_in_use(signed_in, owner):
    PilotFactory(owner=owner, business_unit=BusinessUnitFactory(name="Finance"))

    html = signed_in.get(URL, {"phase": "pilot", "unit": "Finance", "owner": "olivia", "q": "robot"}).content.decode()

    assert '<option value="pilot" selected>' in html
    assert '<option value="Finance" selected>' in html
    assert '<option value="olivia" selected>Olivia Owner</option>' in html
    assert 'value="robot"' in html


def test_an_unknown_choice_is_reported_and_ignored(signed_in):
    PilotFactory(key="any")

    response = signed_in.get(URL, {"phase": "orbit"})

    assert keys(response) == ["any"]
    assert "Select a valid choice" in response.content.decode()


def test_flag_badges_are_coloured_by_severity_with_the_detail_as_title(signed_in, pilot):
    FlagFactory(pilot=pilot, kind="no_sponsor", severity="warning", detail="No executive sponsor named")
    FlagFactory(pilot=pilot, kind="no_owner", severity="critical", detail="No owner named")

    html = signed_in.get(URL).content.decode()

    critical = html.index('<span class="badge badge--critical" title="No owner named">No owner')
    warning = html.index('<span class="badge badge--warning" title="No executive sponsor named">No sponsor')
    assert critical < warning


def test_it_says_when_there_are_no_pilots_yet(signed_in):
    response = signed_in.get(URL)

    assert keys(response) == []
    assert "No pilots yet." in response.content.decode()


def test_it_says_when_no_pilot_matches_the_filters(signed_in):
    PilotFactory(phase=Phase.POC)

    html = signed_in.get(URL, {"phase": "scaled"}).content.decode()

    assert "No pilots match these filters." in html
    assert f'<a href="{URL}">Clear the filters</a>' in html


def test_htmx_gets_only_the_results_and_a_clean_address(signed_in):
    PilotFactory(key="early", phase=Phase.POC)

    response = signed_in.get(URL, {"q": "", "phase": "poc", "status": ""}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert "<html" not in html
    assert response["HX-Push-Url"] == f"{URL}?phase=poc"
    assert "HX-Request" in response["Vary"]


def test_it_pages_long_lists_and_keeps_the_filters(signed_in):
    PilotFactory.create_batch(55, phase=Phase.PILOT)

    first = signed_in.get(URL, {"phase": "pilot"})
    second = signed_in.get(URL, {"phase": "pilot", "page": 2})

    assert len(first.context["pilots"]) == 50
    assert len(second.context["pilots"]) == 5
    assert "?phase=pilot&amp;page=2" in first.content.decode()


def _queries_for_pilots(client, count: int) -> int:
    for index in range(count):
        pilot = PilotFactory(business_unit=BusinessUnitFactory(name=f"Unit {index % 4}"))
        FlagFactory(pilot=pilot, kind="stale")
        FlagFactory(pilot=pilot, kind="no_sponsor", severity="warning")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_the_pilots(signed_in):
    with_three = _queries_for_pilots(signed_in, 3)
    with_thirty = _queries_for_pilots(signed_in, 27)

    assert with_thirty == with_three
