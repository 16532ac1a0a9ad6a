"""The portfolio overview: pilots per phase and status, each count a link to the filtered list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portfolio.models import Phase, Status
from tests.factories import FlagFactory, PilotFactory

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

URL = reverse("dashboard")


@pytest.fixture
def signed_in(client, executive):
    client.force_login(executive)
    return client


def test_it_counts_pilots_per_phase_and_status(signed_in):
    PilotFactory.create_batch(2, phase=Phase.POC, status=Status.ACTIVE)
    PilotFactory(phase=Phase.POC, status=Status.KILLED)
    PilotFactory(phase=Phase.PRODUCTION, status=Status.ON_HOLD)

    summary = signed_in.get(URL).context["summary"]

    counts = {(row.phase, cell.status): cell.count for row in summary.rows for cell in row.cells}
    assert counts[("poc", "active")] == 2
    assert counts[("poc", "killed")] == 1
    assert counts[("production", "on_hold")] == 1
    assert counts[("scaled", "active")] == 0
    assert [row.phase for row in summary.rows] == ["poc", "pilot", "production", "scaled"]
    assert [row.total for row in summary.rows] == [3, 0, 1, 0]
    assert summary.totals.total == 4


def test_each_count_links_to_the_filtered_list(signed_in):
    PilotFactory(phase=Phase.PILOT, status=Status.ON_HOLD)

    html = signed_in.get(URL).content.decode()

    list_url = reverse("pilot_list")
    assert f'href="{list_url}?phase=pilot&amp;status=on_hold"' in html
    assert f'href="{list_url}?phase=pilot"' in html
    assert f'href="{list_url}?status=on_hold"' in html


def test_it_counts_pilots_per_open_flag_critical_first(signed_in):
    first, second = PilotFactory.create_batch(2)
    FlagFactory(pilot=first, kind="stale")
    FlagFactory(pilot=second, kind="stale")
    FlagFactory(pilot=second, kind="no_owner", severity="critical")

    flags = signed_in.get(URL).context["flag_counts"]

    assert [(flag.kind, flag.pilots) for flag in flags] == [("no_owner", 1), ("stale", 2)]


def test_an_empty_portfolio_shows_zeroes_not_an_error(signed_in):
    response = signed_in.get(URL)

    assert response.status_code == 200
    assert response.context["summary"].totals.total == 0
    assert "No open flags." in response.content.decode()
