"""The CSV export of a filtered pilot list: the rows the filters select, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from portfolio import extensions
from portfolio.models import Phase, Status
from portfolio.pilot_csv import HEADER, neutralise
from tests.factories import BusinessUnitFactory, FlagFactory, KpiFactory, KpiReadingFactory, PilotFactory, UserFactory

pytestmark = pytest.mark.usefixtures("fast_password_hashing", "frozen_today")

URL = reverse("pilot_export")


@pytest.fixture
def signed_in(client, executive):
    client.force_login(executive)
    return client


def rows(response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ('=HYPERLINK("http://evil","click")', '\'=HYPERLINK("http://evil","click")'),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Invoice matching", "Invoice matching"),
        ("", ""),
    ],
)
def test_text_a_spreadsheet_would_run_as_a_formula_is_neutralised(text, shown):
    assert neutralise(text) == shown


def test_it_needs_a_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_is_a_csv_download_with_one_row_per_pilot(signed_in, pilot):
    PilotFactory(key="second", name="Second")

    response = signed_in.get(URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="pilots-2026-11-16.csv"'
    assert response.content.startswith("\ufeff".encode())
    found = rows(response)
    assert list(found[0]) == HEADER
    assert [row["Key"] for row in found] == ["invoice-matching", "second"]
    assert found[0]["Owner"] == "Olivia Owner"
    assert found[0]["Sponsor"] == "Sam Sponsor"
    assert found[0]["Phase"] == "Proof of concept"
    assert found[0]["Days in phase"] == "30"


def test_user_text_in_the_export_is_neutralised(signed_in, owner):
    PilotFactory(
        name='=HYPERLINK("http://evil.example","Invoice")',
        business_unit=BusinessUnitFactory(name="+Finance"),
        owner=UserFactory(username="mallory", first_name="@Mallory", last_name=""),
    )

    found = rows(signed_in.get(URL))[0]

    assert found["Pilot"] == '\'=HYPERLINK("http://evil.example","Invoice")'
    assert found["Business unit"] == "'+Finance"
    assert found["Owner"] == "'@Mallory"


def test_the_filters_of_the_pilot_list_and_the_dashboard_select_the_rows(signed_in, sponsor):
    finance = BusinessUnitFactory(name="Finance")
    PilotFactory(key="fin-poc", business_unit=finance, phase=Phase.POC, sponsor=sponsor)
    PilotFactory(key="fin-killed", business_unit=finance, phase=Phase.PILOT, status=Status.KILLED)
    stale = PilotFactory(key="ops-stale", business_unit=BusinessUnitFactory(name="Operations"), sponsor=sponsor)
    FlagFactory(pilot=stale, kind="stale")

    def keys(**params: str) -> list[str]:
        return sorted(row["Key"] for row in rows(signed_in.get(URL, params)))

    assert keys(unit="Finance") == ["fin-killed", "fin-poc"]
    assert keys(status="killed") == ["fin-killed"]
    assert keys(flag="stale") == ["ops-stale"]
    assert keys(sponsor="sam") == ["fin-poc", "ops-stale"]
    assert keys(sponsor="sam", unit="Finance") == ["fin-poc"]
    assert keys(q="stale") == ["ops-stale"]
    assert keys(phase="bogus") == ["fin-killed", "fin-poc", "ops-stale"]  # a bad value is ignored


def test_each_row_carries_flags_blockers_and_value(signed_in, monkeypatch):
    early = PilotFactory(key="early", phase=Phase.POC)
    live = PilotFactory(key="live", phase=Phase.PRODUCTION)
    KpiReadingFactory(kpi=KpiFactory(pilot=live, name="Match rate", baseline=50, target=80), value=65, source="api")
    FlagFactory(pilot=early, kind="no_owner", severity="critical")
    FlagFactory(pilot=early, kind="stale")
    monkeypatch.setattr(
        extensions.registry, "gate_blockers", lambda ids, as_of: {early.pk: ["Kill criteria set", "Baseline measured"]}
    )

    found = {row["Key"]: row for row in rows(signed_in.get(URL))}

    assert found["early"]["Open flags"] == "No owner; Stale"
    assert found["early"]["Unmet criteria of the next gate"] == "Kill criteria set; Baseline measured"
    assert found["early"]["Delivers measurable value"] == ""
    assert found["live"]["Delivers measurable value"] == "yes"
    assert found["live"]["Best KPI"] == "Match rate"
    assert found["live"]["Best KPI progress to target (%)"] == "50"
    assert found["live"]["Value shown by"] == "system feed"


def test_the_dashboard_links_to_the_export_with_its_filters(signed_in, pilot):
    html = signed_in.get(reverse("dashboard"), {"unit": pilot.business_unit.name}).content.decode()

    assert f'href="{URL}?{urlencode({"unit": pilot.business_unit.name})}"' in html
