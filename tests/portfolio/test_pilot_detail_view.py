"""A pilot's page: summary, KPIs with their latest reading, kill criteria, check-ins, flags and history."""

from __future__ import annotations

import datetime as dt
import html as html_lib
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolio.models import Comparator, Direction, Source
from tests.factories import (
    TODAY,
    CheckInFactory,
    FlagFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing", "frozen_today")


@pytest.fixture
def signed_in(client, executive):
    client.force_login(executive)
    return client


def page(client, pilot) -> str:
    response = client.get(pilot.get_absolute_url())
    assert response.status_code == 200
    return html_lib.unescape(response.content.decode())


def test_it_shows_the_summary(signed_in, pilot):
    pilot.problem = "Invoices wait days for manual matching."
    pilot.outcome = "Match invoices the same day."
    pilot.started_on = dt.date(2026, 6, 1)
    pilot.phase_entered_on = TODAY - dt.timedelta(days=12)
    pilot.next_review_on = dt.date(2026, 12, 7)
    pilot.budget = Decimal("1250000.00")
    pilot.spent = Decimal("480000.00")
    pilot.save()

    html = page(signed_in, pilot)

    assert "<h1>Invoice matching</h1>" in html
    assert "Invoices wait days for manual matching." in html
    assert "Match invoices the same day." in html
    assert "Olivia Owner" in html
    assert "Sam Sponsor" in html
    assert pilot.business_unit.name in html
    assert "Proof of concept for 12 days" in html
    assert "1 Jun 2026" in html
    assert "7 Dec 2026" in html
    assert "1,250,000" in html
    assert "480,000" in html
    assert "38 % of budget" in html


def test_it_says_who_is_missing(signed_in):
    pilot = PilotFactory(owner=None, sponsor=None)

    html = page(signed_in, pilot)

    assert "No owner" in html
    assert "No sponsor" in html


def test_it_shows_each_kpi_with_its_latest_reading(signed_in, pilot):
    kpi = KpiFactory(
        pilot=pilot,
        name="Error rate",
        unit="%",
        direction=Direction.DECREASE,
        baseline=9.0,
        baseline_on=dt.date(2026, 5, 20),
        target=3.0,
        target_on=dt.date(2027, 1, 31),
    )
    KpiReadingFactory(kpi=kpi, measured_on=dt.date(2026, 10, 1), value=8.25)
    KpiReadingFactory(kpi=kpi, measured_on=dt.date(2026, 11, 2), value=6.5, source=Source.API)
    KpiReadingFactory(kpi=kpi, measured_on=dt.date(2026, 10, 15), value=7.75)
    KpiFactory(pilot=pilot, name="Hours saved", unit="h", baseline=None, baseline_on=None, target=1200.0)

    html = page(signed_in, pilot)

    assert "Error rate" in html
    assert "Lower is better" in html
    assert "9 %" in html and "20 May 2026" in html
    assert "3 %" in html and "by 31 Jan 2027" in html
    assert "6.5 %" in html and "2 Nov 2026 · system feed" in html
    assert "8.25" not in html and "7.75" not in html
    assert "1,200 h" in html
    assert "No baseline" in html
    assert "No readings yet" in html


def test_it_states_a_measurable_kill_criterion_in_words(signed_in, pilot):
    kpi = KpiFactory(pilot=pilot, name="Error rate", unit="%", direction=Direction.DECREASE, baseline=9.0, target=3.0)
    KillCriterionFactory(
        pilot=pilot,
        description="Errors must not climb.",
        kpi=kpi,
        comparator=Comparator.ABOVE,
        threshold=12.0,
        evaluate_on=dt.date(2026, 12, 1),
    )
    KillCriterionFactory(pilot=pilot, description="Stop if the team does not use it.")

    html = page(signed_in, pilot)

    assert "Stop if Error rate is above 12 % on or after 1 Dec 2026" in html
    assert "Errors must not climb." in html
    assert "Stop if the team does not use it." in html


def test_it_lists_check_ins_newest_first(signed_in, pilot, sponsor):
    CheckInFactory(pilot=pilot, on=dt.date(2026, 9, 1), note="Early days.")
    CheckInFactory(pilot=pilot, on=dt.date(2026, 11, 10), confidence="low", note="Data feed is flaky.")

    html = page(signed_in, pilot)

    assert html.index("Data feed is flaky.") < html.index("Early days.")
    assert "10 Nov 2026" in html
    assert "Low confidence" in html


def test_it_shows_open_flags_but_not_resolved_ones(signed_in, pilot):
    FlagFactory(pilot=pilot, kind="stale", detail="No reading for 30 days")
    FlagFactory(
        pilot=pilot,
        kind="no_kpi",
        detail="No KPI defined",
        resolved_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )

    html = page(signed_in, pilot)

    assert "No reading for 30 days" in html
    assert "No KPI defined" not in html


def test_it_shows_the_change_history_with_who_and_what(signed_in, pilot, pmo, owner, frozen_today):
    minute = dt.timedelta(minutes=1)
    frozen_today.shift(minute)
    pilot.budget = Decimal("100000")
    pilot._history_user = pmo
    pilot.save()
    frozen_today.shift(minute)
    pilot.budget = Decimal("150000")
    pilot.phase = "pilot"
    pilot._history_user = pmo
    pilot.save()
    frozen_today.shift(minute)
    kpi = KpiFactory(pilot=pilot, name="Match rate", target=80.0)
    frozen_today.shift(minute)
    kpi.target = 90.0
    kpi._history_user = owner
    kpi.save()
    frozen_today.shift(minute)
    criterion = KillCriterionFactory(pilot=pilot, key="error-ceiling")
    frozen_today.shift(minute)
    criterion.description = "Stop if errors double."
    criterion.save()

    response = signed_in.get(pilot.get_absolute_url())
    history = response.context["history"]

    newest = history[0]
    assert newest.subject == "Kill criterion “error-ceiling”"
    assert [change.label for change in newest.changes] == ["Description"]
    kpi_change = next(entry for entry in history if entry.subject == "KPI “Match rate”" and entry.action == "changed")
    assert kpi_change.who == owner
    assert [(c.label, c.old, c.new) for c in kpi_change.changes] == [("Target", 80.0, 90.0)]
    pilot_change = history[[e.subject for e in history].index("Pilot")]
    assert pilot_change.who == pmo
    assert {(c.label, c.old, c.new) for c in pilot_change.changes} == {
        ("Budget", Decimal("100000.00"), Decimal("150000.00")),
        ("Phase", "Proof of concept", "Pilot"),
    }
    assert history[-1].subject == "Pilot"
    assert history[-1].action == "created"
    html = html_lib.unescape(response.content.decode())
    assert "Paula Office" in html
    assert "100,000" in html and "150,000" in html


def test_the_history_names_people_not_ids(signed_in, pilot, pmo, outsider):
    pilot.owner = outsider
    pilot._history_user = pmo
    pilot.save()

    history = signed_in.get(pilot.get_absolute_url()).context["history"]

    change = history[0].changes[0]
    assert (change.label, change.old, change.new) == ("Owner", "Olivia Owner", "Oscar Outsider")


def test_an_unknown_key_is_not_found(signed_in, db):
    response = signed_in.get("/pilots/no-such-pilot/")

    assert response.status_code == 404


def test_user_text_is_escaped(signed_in):
    pilot = PilotFactory(name="<script>alert(1)</script>", problem="<b>bold</b>")
    CheckInFactory(pilot=pilot, note="<img src=x onerror=alert(2)>")

    body = signed_in.get(pilot.get_absolute_url()).content.decode()

    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>bold</b>" not in body
    assert "<img src=x" not in body


def _queries_for_page(client, pilot, kpis: int, readings: int) -> int:
    for index in range(kpis):
        kpi = KpiFactory(pilot=pilot)
        for day in range(readings):
            KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=day), value=50 + day)
        KillCriterionFactory(pilot=pilot, kpi=kpi, comparator=Comparator.BELOW, threshold=10.0)
        FlagFactory(pilot=pilot, kind="drifting", kpi=kpi)
        CheckInFactory(pilot=pilot, on=TODAY - dt.timedelta(days=index))
        kpi.target += 1
        kpi.save()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(pilot.get_absolute_url())
    assert response.status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_kpis_readings_or_history(signed_in, pilot):
    small = _queries_for_page(signed_in, pilot, kpis=1, readings=1)
    large = _queries_for_page(signed_in, PilotFactory(), kpis=5, readings=12)

    assert large == small
