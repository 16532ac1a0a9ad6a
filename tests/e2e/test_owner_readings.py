"""An owner signs in, lands on "My pilots", records readings in place (no page load), mistypes one and loses nothing.

Then uploads a CSV of twenty readings, previews it and records it in one go.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from portfolio.models import KpiReading, Source
from tests.e2e.conftest import ARTIFACTS, sign_in
from tests.factories import KpiFactory, KpiReadingFactory, PilotFactory, UserFactory

# Real commits for the live server; the serialised rollback keeps the gate criteria of the
# data migration for the tests that run after this one.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def owners_pilot():
    today = timezone.localdate()
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Owner")
    pilot = PilotFactory(
        key="invoice-matching",
        name="Invoice matching",
        owner=owner,
        sponsor=UserFactory(username="sam", first_name="Sam", last_name="Sponsor"),
        started_on=today - dt.timedelta(days=60),
    )
    kpis = [
        KpiFactory(pilot=pilot, key="match-rate", name="Match rate", unit="%", baseline=50.0, target=80.0),
        KpiFactory(
            pilot=pilot,
            key="handling-time",
            name="Handling time",
            unit="min",
            direction="decrease",
            baseline=9.0,
            target=3.0,
        ),
        KpiFactory(pilot=pilot, key="hours-saved", name="Hours saved", unit="h", baseline=0.0, target=1200.0),
    ]
    for kpi, value in zip(kpis, (58.0, 7.5, 300.0), strict=True):
        KpiReadingFactory(kpi=kpi, measured_on=today - dt.timedelta(days=8), value=value)
    return pilot, kpis


def row(page, kpi):
    return page.locator(f"#kpi-{kpi.pk}")


def record(page, kpi, value: str, note: str = "") -> None:
    form = row(page, kpi).get_by_role("form", name=f"Record a reading of {kpi.name}")
    form.get_by_label("Value").fill(value)
    if note:
        form.get_by_label("Note").fill(note)
    form.get_by_role("button", name="Record").click()


def test_an_owner_records_readings_in_place_and_a_csv_of_twenty(page, owners_pilot, tmp_path):
    _, (match_rate, handling_time, hours_saved) = owners_pilot
    today = timezone.localdate()

    sign_in(page, "olivia")

    assert page.url.endswith("/me/")
    page.get_by_role("heading", name="My pilots", level=1).wait_for()
    # A full page load would forget this; an htmx swap keeps it.
    page.evaluate("window.__stillTheSamePage = true")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    record(page, match_rate, "61.5", note="week 47")
    row(page, match_rate).get_by_role("status").get_by_text("Recorded 61.5 % for Match rate").wait_for()
    assert "61.5 %" in row(page, match_rate).locator(".latest").inner_text()
    assert "better" in row(page, match_rate).locator(".trend").inner_text()

    record(page, handling_time, "7")
    row(page, handling_time).get_by_role("status").wait_for()

    # A mistyped value is explained beside the field, focused, and the typing is kept.
    record(page, hours_saved, "1.234,5", note="finance's figure")
    error = row(page, hours_saved).locator(".field__error")
    error.wait_for()
    assert '"1.234,5" is not a number' in error.inner_text()
    value_input = row(page, hours_saved).get_by_label("Value")
    assert value_input.input_value() == "1.234,5"
    assert value_input.evaluate("input => input === document.activeElement")
    assert row(page, hours_saved).get_by_label("Note").input_value() == "finance's figure"
    page.screenshot(path=str(ARTIFACTS / "owner_readings_mistake.png"), full_page=True)

    record(page, hours_saved, "1,234.5")
    row(page, hours_saved).get_by_role("status").get_by_text("Recorded 1,234.5 h").wait_for()

    # The same date again asks before replacing, and shows the old value.
    record(page, match_rate, "62")
    confirm = row(page, match_rate).get_by_role("alert")
    confirm.wait_for()
    assert f"already has a reading for {today.day} {today:%b %Y}: 61.5 %" in confirm.inner_text()
    row(page, match_rate).get_by_role("button", name="Replace").click()
    row(page, match_rate).get_by_role("status").get_by_text("Recorded 62 %").wait_for()

    # What was done leaves the "needs you first" list, still without a page load.
    needs = page.locator("#needs")
    needs.get_by_text("Nothing needs you right now").wait_for()
    assert "Reading due" not in needs.inner_text()
    assert page.evaluate("window.__stillTheSamePage") is True
    assert navigations == []
    page.screenshot(path=str(ARTIFACTS / "owner_readings_recorded.png"), full_page=True)
    assert KpiReading.objects.filter(measured_on=today).count() == 3
    assert KpiReading.objects.get(kpi=match_rate, measured_on=today).value == 62.0

    # Twenty readings at once.
    lines = ["kpi,date,value,note"]
    for days_ago in range(10, 20):
        on = today - dt.timedelta(days=days_ago)
        lines += [f"match-rate,{on},{50 + days_ago},", f"handling-time,{on},{days_ago / 2},"]
    upload = tmp_path / "readings.csv"
    upload.write_text("\n".join(lines) + "\n")
    page.get_by_role("link", name="Upload readings (CSV)").click()
    page.get_by_label("CSV file").set_input_files(str(upload))
    page.get_by_role("button", name="Preview the upload").click()
    page.get_by_role("heading", name="Nothing is recorded yet").wait_for()
    assert "20 new readings" in page.content()
    page.screenshot(path=str(ARTIFACTS / "owner_readings_csv_preview.png"), full_page=True)
    page.get_by_role("button", name="Record 20 readings").click()
    page.get_by_text("Recorded the upload: 20 new.").wait_for()

    assert KpiReading.objects.filter(source=Source.CSV).count() == 20
