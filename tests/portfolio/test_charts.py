"""Charts: drawn with the Figure API as SVG, right against their data, cached by it, shown to signed-in users."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from portfolio import charts, dashboard
from portfolio.dashboard import PhaseTime, WeekFlags
from portfolio.selectors_dashboard import KpiSeries
from tests.factories import (
    TODAY,
    BusinessUnitFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
)

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: bytes) -> list[str]:
    """Every piece of text the SVG shows, in document order."""
    return [element.text for element in ET.fromstring(svg).iter(f"{SVG}text") if element.text]


def series(**overrides: object) -> KpiSeries:
    fields = {
        "pilot_key": "invoice-matching",
        "pilot_name": "Invoice matching",
        "kpi_key": "auto-match",
        "name": "Invoices matched automatically",
        "unit": "%",
        "direction": "increase",
        "baseline": 40.0,
        "target": 85.0,
        "readings": [
            (TODAY - dt.timedelta(days=14), 45.0, "form"),
            (TODAY - dt.timedelta(days=7), 52.5, "form"),
            (TODAY, 61.0, "api"),
        ],
        "kill_thresholds": [("below", 30.0)],
    }
    fields.update(overrides)
    return KpiSeries(**fields)


# -- the drawings, checked against their data


def test_the_funnel_labels_each_phase_with_what_entered_and_went_on():
    funnel = dashboard.funnel(
        [("poc", "active")] * 6 + [("poc", "killed")] * 2 + [("pilot", "active")] * 3 + [("production", "active")]
    )

    shown = texts(charts.funnel_chart(funnel).svg)

    for label in ("Proof of concept", "Pilot", "Production", "Scaled adoption"):
        assert label in shown
    assert "12 entered · 33% went on" in shown
    assert "4 entered · 25% went on" in shown
    assert "1 entered · 0% went on" in shown
    assert "0 entered" in shown
    # The counts written on the bars: 4 went on, 6 still there, 2 killed for proof of concept.
    assert {"4", "6", "2", "3"} <= set(shown)
    assert {"Went on", "Still there", "Killed"} <= set(shown)


def test_the_time_in_phase_chart_shows_each_phases_median_longest_and_who_is_past_the_limit():
    times = [
        PhaseTime("poc", "Proof of concept", 3, 40.0, 120, 90, 1),
        PhaseTime("pilot", "Pilot", 2, 75.5, 100, 180, 0),
        PhaseTime("production", "Production", 0, None, None, None, 0),
        PhaseTime("scaled", "Scaled adoption", 1, 30.0, 30, None, 0),
    ]

    shown = texts(charts.time_in_phase_chart(times).svg)

    assert "median 40 · longest 120" in shown
    assert "1 past the limit" in shown
    assert "median 76 · longest 100" in shown
    assert "no live pilots" in shown
    assert "Days in current phase" in shown


def test_the_flags_chart_shows_the_open_flags_of_each_week_and_no_zeroes():
    weeks = [
        WeekFlags(on=TODAY - dt.timedelta(weeks=2), critical=1, warning=2),
        WeekFlags(on=TODAY - dt.timedelta(weeks=1), critical=0, warning=5),
        WeekFlags(on=TODAY, critical=2, warning=2),
    ]

    shown = texts(charts.flags_chart(weeks).svg)

    # Every other week is labelled, counting back from the latest.
    assert [t for t in shown if t.endswith("Nov")] == ["2 Nov", "16 Nov"]
    assert {"3", "5", "4"} <= set(shown)
    assert {"Critical", "Warning", "Open flags"} <= set(shown)
    quiet = texts(charts.flags_chart([WeekFlags(on=TODAY, critical=0, warning=0)]).svg)
    assert quiet.count("0") == 1  # the axis' 0, and no label on an empty bar


def test_a_kpi_chart_draws_baseline_target_and_kill_threshold_lines_with_labels():
    shown = texts(charts.kpi_chart(series()).svg)

    assert "Baseline 40 %" in shown
    assert "Target 85 %" in shown
    assert "Kill if below 30 %" in shown
    assert "Invoices matched automatically (higher is better)" in shown
    # One hollow series for people's readings, one filled for the system feed.
    assert {"Self-reported", "System feed"} <= set(shown)


def test_a_kpi_without_readings_still_shows_its_goalposts():
    shown = texts(charts.kpi_chart(series(readings=[], kill_thresholds=[], baseline=None)).svg)

    assert "No readings yet" in shown
    assert "Target 85 %" in shown
    assert not any(text.startswith("Baseline") for text in shown)


def test_large_values_have_whole_ticks_with_separators_and_no_offset():
    big = series(
        unit="EUR",
        baseline=1_000_000.0,
        target=1_250_000.0,
        readings=[(TODAY - dt.timedelta(days=7 * n), 1_000_000.0 + 9_000 * n, "form") for n in range(20)],
        kill_thresholds=[],
    )

    shown = texts(charts.kpi_chart(big).svg)

    assert "1,200,000" in shown
    # matplotlib's offset ("1e6" above the axis, on top of the legend) is gone.
    assert not any(re.fullmatch(r"[×x]?\s*1e\d+|1e\d+", text) for text in shown), shown


@pytest.mark.parametrize(
    ("step", "places", "label"), [(50_000, 0, "1,050,000"), (0.5, 1, "1,050,000.0"), (0.05, 2, "0.90")]
)
def test_ticks_keep_the_decimals_that_tell_them_apart(step, places, label):
    assert charts.tick_places(step) == places
    assert charts.tick_label(0.9 if places == 2 else 1_050_000, places) == label
    assert charts.tick_label(-0.001, 2) == "0.00"


def test_a_long_kpi_name_is_cut_short_to_the_chart_and_keeps_its_direction():
    name = "Average first-contact resolution time for tier-two escalations in the EMEA region"

    title = next(text for text in texts(charts.kpi_chart(series(name=name)).svg) if "is better" in text)

    assert title.endswith("… (higher is better)")
    assert name.startswith(title.removesuffix("… (higher is better)"))
    assert charts.fitted("Short", 10, 500, keep=" (x)") == "Short (x)"


def test_a_long_unit_stays_on_the_axis_and_off_the_line_labels():
    shown = texts(charts.kpi_chart(series(unit="tickets per agent-hour")).svg)

    assert "Target 85" in shown and "Baseline 40" in shown
    assert "tickets per agent-hour" in shown  # the y axis


def test_user_text_with_dollar_signs_is_shown_as_written():
    chart = charts.kpi_chart(series(name="Cost in $ per $ticket", unit="$"))

    assert "Cost in $ per $ticket (higher is better)" in texts(chart.svg)


def test_user_text_cannot_inject_markup_into_the_svg():
    chart = charts.kpi_chart(series(name='<script>alert("x")</script>'))

    assert b"<script" not in chart.svg
    assert '<script>alert("x")</script> (higher is better)' in texts(chart.svg)


def test_charts_are_drawn_with_the_figure_api_never_pyplot():
    with open(charts.__file__) as source:
        code = source.read()

    assert "matplotlib.pyplot" not in code
    assert "import pyplot" not in code


# -- the cache


def test_a_chart_is_drawn_once_and_then_served_from_the_cache_until_its_data_changes(monkeypatch):
    drawn = []
    draw = charts.draw_flags
    monkeypatch.setattr(charts, "draw_flags", lambda weeks: drawn.append(weeks) or draw(weeks))
    weeks = [WeekFlags(on=TODAY, critical=1, warning=1)]

    first = charts.flags_chart(weeks)
    again = charts.flags_chart(list(weeks))
    changed = charts.flags_chart([WeekFlags(on=TODAY, critical=2, warning=1)])

    assert len(drawn) == 2
    assert first.svg == again.svg
    assert first.digest == again.digest
    assert changed.digest != first.digest


def test_the_same_data_gives_the_same_bytes():
    first = charts.kpi_chart(series())
    charts.cache.clear()  # the in-process cache of this test, so the chart is drawn again

    assert charts.kpi_chart(series()).svg == first.svg


def test_a_broken_cache_costs_a_redraw_not_an_error(monkeypatch):
    class DownCache:
        def get(self, *args: object) -> None:
            raise ConnectionError("Redis is down")

        set = get

    monkeypatch.setattr(charts, "cache", DownCache())

    chart = charts.flags_chart([WeekFlags(on=TODAY, critical=0, warning=3)])

    assert "3" in texts(chart.svg)


# -- the chart views


@pytest.fixture
def signed_in(client, executive, fast_password_hashing):
    client.force_login(executive)
    return client


def test_chart_views_need_a_login(client, db):
    pilot = PilotFactory(key="invoice-matching")
    KpiFactory(pilot=pilot, key="auto-match")

    for url in (
        reverse("dashboard_chart", args=["funnel"]),
        reverse("kpi_chart", args=["invoice-matching", "auto-match"]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.usefixtures("frozen_today")
def test_a_kpi_chart_is_served_as_svg_with_its_lines(signed_in):
    pilot = PilotFactory(key="invoice-matching")
    kpi = KpiFactory(pilot=pilot, key="auto-match", name="Auto-match rate", unit="%", baseline=40, target=85)
    KpiReadingFactory(kpi=kpi, value=61, source="api")
    KillCriterionFactory(pilot=pilot, kpi=kpi, comparator="below", threshold=30)

    response = signed_in.get(reverse("kpi_chart", args=["invoice-matching", "auto-match"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    shown = texts(response.content)
    assert {"Baseline 40 %", "Target 85 %", "Kill if below 30 %", "System feed"} <= set(shown)


def test_a_kpi_is_found_only_under_its_own_pilot(signed_in):
    KpiFactory(pilot=PilotFactory(key="one"), key="speed")
    PilotFactory(key="two")

    assert signed_in.get(reverse("kpi_chart", args=["two", "speed"])).status_code == 404
    assert signed_in.get(reverse("kpi_chart", args=["one", "nope"])).status_code == 404


def test_an_unchanged_chart_is_not_sent_again(signed_in):
    PilotFactory()
    url = reverse("dashboard_chart", args=["funnel"])

    first = signed_in.get(url)
    again = signed_in.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


@pytest.mark.usefixtures("frozen_today")
def test_dashboard_charts_follow_the_filters(signed_in):
    finance = BusinessUnitFactory(name="Finance")
    PilotFactory.create_batch(3, business_unit=finance)
    PilotFactory.create_batch(2, business_unit=BusinessUnitFactory(name="Operations"))
    url = reverse("dashboard_chart", args=["funnel"])

    assert "5 entered · 0% went on" in texts(signed_in.get(url).content)
    assert "3 entered · 0% went on" in texts(signed_in.get(url, {"unit": "Finance"}).content)


@pytest.mark.usefixtures("frozen_today")
@pytest.mark.parametrize("chart", ["funnel", "time-in-phase", "flags"])
def test_every_dashboard_chart_is_served(signed_in, chart):
    PilotFactory(phase_entered_on=TODAY - dt.timedelta(days=5), started_on=TODAY - dt.timedelta(days=5))

    response = signed_in.get(reverse("dashboard_chart", args=[chart]))

    assert response.status_code == 200
    assert texts(response.content)


def test_an_unknown_chart_is_not_found(signed_in):
    assert signed_in.get(reverse("dashboard_chart", args=["pie"])).status_code == 404


def _pilot_with_two_kpis():
    pilot = PilotFactory(key="invoice-matching")
    kpi = KpiFactory(pilot=pilot, key="auto-match", name="Auto-match rate", unit="%", baseline=40, target=85)
    KpiReadingFactory(kpi=kpi, value=61)
    KpiFactory(
        pilot=pilot, key="cycle-time", name="Cycle time", unit="days", baseline=9, target=3, direction="decrease"
    )
    return pilot


AUTO_MATCH_ALT = (
    "1 readings of Auto-match rate from 16 Nov 2026 to 16 Nov 2026, latest 61 %; baseline 40 %; target 85 %."
)
CYCLE_TIME_ALT = "No readings of Cycle time yet; baseline 9 days; target 3 days."


@pytest.mark.usefixtures("frozen_today")
def test_the_pilot_page_never_waits_for_a_chart_it_leaves_undrawn_charts_to_images(signed_in, monkeypatch):
    pilot = _pilot_with_two_kpis()
    drawn = []
    draw = charts.draw_kpi
    monkeypatch.setattr(charts, "draw_kpi", lambda series: drawn.append(series) or draw(series))

    html = signed_in.get(pilot.get_absolute_url()).content.decode()

    assert drawn == []
    assert '<svg role="img"' not in html
    images = re.findall(r'<img class="chart__img" src="([^"]+)" alt="([^"]+)" width="518" height="250"', html)
    assert images == [
        (reverse("kpi_chart", args=["invoice-matching", "auto-match"]), AUTO_MATCH_ALT),
        (reverse("kpi_chart", args=["invoice-matching", "cycle-time"]), CYCLE_TIME_ALT),
    ]
    # Each image is the chart, drawn in its own request.
    for url, _ in images:
        response = signed_in.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/svg+xml"
    assert [series.kpi_key for series in drawn] == ["auto-match", "cycle-time"]


@pytest.mark.usefixtures("frozen_today")
def test_the_pilot_page_inlines_the_charts_already_drawn_with_a_description(signed_in):
    pilot = _pilot_with_two_kpis()
    signed_in.get(reverse("kpi_chart", args=["invoice-matching", "auto-match"]))

    html = signed_in.get(pilot.get_absolute_url()).content.decode()

    assert html.count('<svg role="img"') == 1
    assert f'<svg role="img" aria-label="{AUTO_MATCH_ALT}"' in html
    assert f'alt="{CYCLE_TIME_ALT}"' in html
    assert html.count('<img class="chart__img"') == 1
    assert f'href="{reverse("kpi_chart", args=["invoice-matching", "auto-match"])}"' in html


@pytest.mark.usefixtures("frozen_today")
def test_a_new_reading_sends_the_pilot_page_back_to_an_image_until_its_chart_is_drawn(signed_in):
    pilot = _pilot_with_two_kpis()
    url = reverse("kpi_chart", args=["invoice-matching", "auto-match"])
    signed_in.get(url)
    KpiReadingFactory(kpi=pilot.kpis.get(key="auto-match"), value=70, measured_on=TODAY - dt.timedelta(days=1))

    html = signed_in.get(pilot.get_absolute_url()).content.decode()

    assert f'<img class="chart__img" src="{url}"' in html
    assert signed_in.get(url).status_code == 200
    html = signed_in.get(pilot.get_absolute_url()).content.decode()
    assert '<svg role="img" aria-label="2 readings of Auto-match rate' in html


def test_inline_charts_keep_their_ids_apart():
    one = charts.inline(charts.kpi_chart(series()), "One")
    other = charts.inline(charts.kpi_chart(series(name="Other")), "Other")

    ids = lambda markup: set(re.findall(r' id="([^"]+)"', markup))  # noqa: E731
    assert ids(one) and ids(other)
    assert not ids(one) & ids(other)
    # Every reference points at an id of its own chart.
    for markup in (one, other):
        for target in re.findall(r'(?:url\(#|href="#)([^")]+)', markup):
            assert target in ids(markup)
    assert not one.startswith("<?xml")
    assert 'aria-label="One"' in one
