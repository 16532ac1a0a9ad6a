"""The API's reads: pilots with the list's filters, one pilot, open flags and the dashboard's figures."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.models import Phase, Source, Status
from tests.factories import (
    TODAY,
    FlagFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
    UserFactory,
)
from tests.portfolio.api_support import READ, TokenClient, token_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def reader(outsider):
    """Someone who owns nothing: every signed-in user may read the whole portfolio (DESIGN 1)."""
    return TokenClient(token_for(outsider, READ))


def test_the_pilot_list_gives_every_pilot_by_name_with_its_open_flags(reader, pilot):
    PilotFactory(key="zebra", name="Zebra routing")
    FlagFactory(pilot=pilot, kind="stale")

    response = reader.get("/api/pilots")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["key"] for row in body["results"]] == ["invoice-matching", "zebra"]
    first = body["results"][0]
    assert first["owner"] == {"username": "olivia", "name": "Olivia Owner"}
    assert first["open_flags"] == ["stale"]
    assert first["url"] == "http://testserver/pilots/invoice-matching/"
    assert first["days_in_phase"] == 30


def test_the_pilot_list_filters_like_the_pilot_page(reader, pilot, owner):
    PilotFactory(key="in-pilot", name="Forecasting", phase=Phase.PILOT, owner=owner)
    PilotFactory(key="killed", name="Chatbot", status=Status.KILLED)
    flagged = PilotFactory(key="flagged", name="Routing")
    FlagFactory(pilot=flagged, kind="no_sponsor")

    def keys(**query):
        return [row["key"] for row in reader.get("/api/pilots", query).json()["results"]]

    assert keys(phase="pilot") == ["in-pilot"]
    assert keys(status="killed") == ["killed"]
    assert keys(owner="olivia") == ["in-pilot", "invoice-matching"]
    assert keys(flag="no_sponsor") == ["flagged"]
    assert keys(q="forecast") == ["in-pilot"]
    assert keys(unit=pilot.business_unit.name.upper()) == ["invoice-matching"]


def test_a_filter_value_that_does_not_exist_is_a_400_naming_the_field(reader):
    response = reader.get("/api/pilots", {"phase": "orbit"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "phase"


def test_the_pilot_list_comes_in_pages(reader):
    for number in range(5):
        PilotFactory(key=f"p{number}", name=f"Pilot {number}")

    second = reader.get("/api/pilots", {"per_page": 2, "page": 2}).json()

    assert (second["count"], second["pages"], second["page"]) == (5, 3, 2)
    assert [row["key"] for row in second["results"]] == ["p2", "p3"]
    assert reader.get("/api/pilots", {"per_page": 2, "page": 4}).status_code == 404


def test_the_pilot_list_costs_the_same_queries_for_many_pilots(reader, django_assert_max_num_queries):
    for number in range(30):
        pilot = PilotFactory(key=f"p{number}")
        FlagFactory(pilot=pilot)

    # Token lookup, last-used, count, page, flags prefetch.
    with django_assert_max_num_queries(6):
        assert reader.get("/api/pilots").status_code == 200


def test_a_pilot_comes_with_its_kpis_latest_readings_kill_criteria_and_open_flags(reader, pilot):
    kpi = KpiFactory(pilot=pilot, key="match-rate", name="Match rate", baseline=50.0, target=80.0)
    for days_ago, value in [(3, 55.0), (2, 57.0), (1, 61.0)]:
        KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=days_ago), value=value, source=Source.API)
    KillCriterionFactory(pilot=pilot, key="floor", kpi=kpi, comparator="below", threshold=40.0)
    FlagFactory(pilot=pilot, kind="drifting", kpi=kpi, detail="Match rate is drifting.")

    response = reader.get("/api/pilots/invoice-matching", {"readings": 2})

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Invoice matching"
    [shown] = body["kpis"]
    assert shown["key"] == "match-rate"
    assert [(r["on"], r["value"], r["source"]) for r in shown["latest_readings"]] == [
        ("2026-11-15", 61.0, "api"),
        ("2026-11-14", 57.0, "api"),
    ]
    assert body["kill_criteria"][0] == {
        "key": "floor",
        "description": "Stop if accuracy stays below 40% after three months.",
        "kpi": "match-rate",
        "comparator": "below",
        "threshold": 40.0,
        "evaluate_on": None,
    }
    [flag] = body["flags"]
    assert (flag["kind"], flag["subject"], flag["detail"]) == ("drifting", "match-rate", "Match rate is drifting.")


def test_an_unknown_pilot_is_a_json_404(reader):
    response = reader.get("/api/pilots/nope")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json() == {"detail": "No pilot has this key."}


def test_an_address_the_api_does_not_have_is_a_json_404_even_without_a_token(client, db):
    response = client.get("/api/nothing/here")

    assert response.status_code == 404
    assert "detail" in response.json()


def test_open_flags_are_listed_across_the_portfolio_and_filter_by_kind_and_pilot(reader, pilot):
    other = PilotFactory(key="other")
    FlagFactory(pilot=pilot, kind="stale")
    FlagFactory(pilot=other, kind="no_owner", severity="critical")
    resolved = FlagFactory(pilot=other, kind="stuck")
    resolved.resolved_at = resolved.raised_at
    resolved.save()

    everything = reader.get("/api/flags").json()
    critical = reader.get("/api/flags", {"severity": "critical"}).json()
    of_pilot = reader.get("/api/flags", {"pilot": "invoice-matching"}).json()

    assert sorted((f["pilot"], f["kind"]) for f in everything["results"]) == [
        ("invoice-matching", "stale"),
        ("other", "no_owner"),
    ]
    assert [f["kind"] for f in critical["results"]] == ["no_owner"]
    assert [f["kind"] for f in of_pilot["results"]] == ["stale"]


def test_the_summary_gives_the_dashboards_figures(reader, pilot):
    PilotFactory(key="killed", phase=Phase.PILOT, status=Status.KILLED)
    FlagFactory(pilot=pilot, kind="no_owner", severity="critical")

    response = reader.get("/api/summary")

    assert response.status_code == 200
    body = response.json()
    assert body["pilots"] == 2
    poc, in_pilot = body["funnel"][0], body["funnel"][1]
    assert (poc["phase"], poc["entered"], poc["active"]) == ("poc", 2, 1)
    assert (in_pilot["phase"], in_pilot["killed"]) == ("pilot", 1)
    assert (body["open_flags"], body["critical_flags"], body["flagged_pilots"]) == (1, 1, 1)
    assert body["flags_by_kind"][0]["kind"] == "no_owner"


def test_the_summary_filters_like_the_dashboard(reader, pilot):
    PilotFactory(key="in-pilot", phase=Phase.PILOT)

    body = reader.get("/api/summary", {"phase": "pilot"}).json()

    assert body["pilots"] == 1


@pytest.mark.parametrize("path", ["/api/pilots", "/api/pilots/invoice-matching", "/api/flags", "/api/summary"])
def test_every_read_is_open_to_any_users_read_token(path, pilot, executive, sponsor):
    for user in (executive, sponsor, UserFactory(username="newcomer")):
        assert TokenClient(token_for(user, READ)).get(path).status_code == 200
