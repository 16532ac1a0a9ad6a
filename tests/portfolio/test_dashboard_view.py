"""The executive dashboard at /: every section from the database, filters as htmx swaps, flat query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portfolio import extensions
from portfolio.models import Kpi, Phase, Pilot, Status
from tests.factories import (
    TODAY,
    BusinessUnitFactory,
    FlagFactory,
    GateReviewFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
    ScanRunFactory,
    UserFactory,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing", "frozen_today")

URL = reverse("dashboard")
NOON = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)


@pytest.fixture
def signed_in(client, executive):
    client.force_login(executive)
    return client


@pytest.fixture
def blockers(monkeypatch):
    """A gates provider that says what each pilot lacks, set per test."""
    unmet: dict[int, list[str]] = {}
    monkeypatch.setattr(
        extensions.registry, "gate_blockers", lambda ids, as_of: {i: unmet[i] for i in ids if i in unmet}
    )
    return unmet


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def test_it_needs_a_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_empty_portfolio_says_so_instead_of_showing_zeroes(signed_in):
    response = signed_in.get(URL)

    assert response.status_code == 200
    assert "No pilots yet" in response.content.decode()


def test_the_funnel_counts_pilots_per_phase_and_status_and_links_to_them(signed_in):
    PilotFactory.create_batch(2, phase=Phase.POC)
    PilotFactory(phase=Phase.POC, status=Status.KILLED)
    PilotFactory(phase=Phase.PILOT, status=Status.ON_HOLD)
    PilotFactory(phase=Phase.PRODUCTION)

    response = signed_in.get(URL)

    funnel = response.context["data"].funnel
    poc = funnel.stages[0]
    assert (poc.entered, poc.went_on, poc.killed, poc.active) == (5, 2, 1, 2)
    assert funnel.reached_production == 1
    html = response.content.decode()
    list_url = reverse("pilot_list")
    assert f'href="{list_url}?phase=pilot&amp;status=on_hold"' in html
    assert f'href="{list_url}?phase=poc&amp;status=killed"' in html
    assert "20%" in html  # 1 of 5 reached production
    assert "12%" in html  # beside the industry figure


def test_pilots_past_their_phase_limit_lead_the_ageing_view(signed_in):
    PilotFactory(name="Fresh", phase=Phase.POC, started_on=days_ago(10), phase_entered_on=days_ago(10))
    PilotFactory(name="Stuck", phase=Phase.POC, started_on=days_ago(120), phase_entered_on=days_ago(120))
    PilotFactory(name="Long pilot", phase=Phase.PILOT, started_on=days_ago(300), phase_entered_on=days_ago(170))

    response = signed_in.get(URL)

    ageing = response.context["data"].ageing
    assert [row.pilot.name for row in ageing] == ["Stuck", "Long pilot", "Fresh"]
    assert ageing[0].days_over == 30
    assert response.context["data"].past_limit == 1
    assert "30 over" in response.content.decode()


def test_each_active_pilot_shows_what_blocks_its_next_gate_and_its_flags(signed_in, blockers):
    blocked = PilotFactory(name="Blocked one", phase=Phase.PILOT)
    ready = PilotFactory(name="Ready one", phase=Phase.POC)
    blockers[blocked.pk] = ["Sponsor engaged", "Monitoring and alerting in place"]
    FlagFactory(pilot=blocked, kind="stale", detail="No reading for 30 days.")

    response = signed_in.get(URL)

    rows = {row.pilot.name: row for row in response.context["data"].blocked}
    assert rows["Blocked one"].blockers == ["Sponsor engaged", "Monitoring and alerting in place"]
    assert [flag.kind for flag in rows["Blocked one"].flags] == ["stale"]
    assert rows["Ready one"].ready
    tallies = response.context["data"].common_blockers
    assert [(t.label, t.pilots) for t in tallies] == [("Monitoring and alerting in place", 1), ("Sponsor engaged", 1)]
    html = response.content.decode()
    assert "Monitoring and alerting in place" in html
    assert "Ready for the gate" in html
    assert ready.get_absolute_url() in html


def test_value_is_shown_for_pilots_in_production_with_the_system_fed_kind_apart(signed_in):
    fed = PilotFactory(name="Fed by a system", phase=Phase.PRODUCTION, spent=100)
    reported = PilotFactory(name="Self reported", phase=Phase.SCALED, spent=100)
    nothing = PilotFactory(name="No value yet", phase=Phase.PRODUCTION, spent=100)
    PilotFactory(name="Still early", phase=Phase.POC, spent=100)
    KpiReadingFactory(kpi=KpiFactory(pilot=fed, baseline=50, target=80), value=65, source="api")
    KpiReadingFactory(kpi=KpiFactory(pilot=reported, baseline=50, target=80), value=56, source="form")
    KpiReadingFactory(kpi=KpiFactory(pilot=nothing, baseline=50, target=80), value=45)

    response = signed_in.get(URL)

    value = response.context["data"].value
    assert (value.pilots, value.reached_production, value.delivering, value.shown_by_system) == (4, 3, 2, 1)
    assert value.delivering_share == pytest.approx(0.5)
    rows = {row.pilot.name: row for row in response.context["data"].values}
    assert rows["Fed by a system"].best.progress == pytest.approx(0.5)
    html = response.content.decode()
    assert "System feed" in html
    assert "No KPI beats its baseline" in html


def test_a_reading_after_the_dashboard_date_is_not_counted(signed_in):
    pilot = PilotFactory(phase=Phase.PRODUCTION)
    kpi = KpiFactory(pilot=pilot, baseline=50, target=80)
    KpiReadingFactory(kpi=kpi, measured_on=days_ago(1), value=40)
    KpiReadingFactory(kpi=kpi, measured_on=TODAY + dt.timedelta(days=1), value=79)

    value = signed_in.get(URL).context["data"].value

    assert value.delivering == 0


def test_budget_and_spend_per_phase_and_the_spend_sunk_in_killed_pilots(signed_in):
    PilotFactory(phase=Phase.POC, budget=1000, spent=400)
    PilotFactory(phase=Phase.PILOT, status=Status.KILLED, budget=5000, spent=3500)

    response = signed_in.get(URL)

    spending = response.context["data"].spending
    assert spending.killed.spent == 3500
    assert spending.by_phase[0].spent == 400
    assert "3,500" in response.content.decode()


def test_overrides_and_changes_after_approval_link_to_the_pilots(signed_in, frozen_today):
    overridden = PilotFactory(key="pushed-through", name="Pushed through", phase=Phase.PILOT)
    GateReviewFactory(pilot=overridden, override_justification="The board asked for it.")
    moved = PilotFactory(key="moved-goalposts", name="Moved goalposts", phase=Phase.POC)
    kpi = KpiFactory(pilot=moved, baseline=50, target=80)
    moved.phase = Phase.PILOT
    moved.save()
    frozen_today.shift(dt.timedelta(hours=1))
    kpi = Kpi.objects.get(pk=kpi.pk)
    kpi.target = 70
    kpi._change_reason = "Target was too ambitious."
    kpi.save()

    response = signed_in.get(URL)

    integrity = response.context["data"].integrity
    assert [link.key for link in integrity.overrides] == ["pushed-through"]
    assert [(link.key, link.count) for link in integrity.changed_after_approval] == [("moved-goalposts", 1)]
    html = response.content.decode()
    assert f'href="{reverse("pilot_detail", args=["pushed-through"])}"' in html
    assert f'href="{reverse("pilot_detail", args=["moved-goalposts"])}#history"' in html


def test_it_warns_when_the_health_scan_is_overdue(signed_in):
    PilotFactory()
    ScanRunFactory(finished_at=NOON - dt.timedelta(hours=5))

    html = signed_in.get(URL).content.decode()

    assert "longer ago than it should" in html


def test_a_recent_scan_raises_no_warning(signed_in):
    PilotFactory()
    ScanRunFactory(finished_at=NOON - dt.timedelta(minutes=10))

    html = signed_in.get(URL).content.decode()

    assert "longer ago than it should" not in html
    assert "On schedule" in html


def test_it_says_when_no_scan_has_run(signed_in):
    PilotFactory()

    html = signed_in.get(URL).content.decode()

    assert "No health scan has finished yet" in html


# -- filters


@pytest.fixture
def two_units(owner, sponsor):
    finance, operations = BusinessUnitFactory(name="Finance"), BusinessUnitFactory(name="Operations")
    other_sponsor = UserFactory(username="victor", first_name="Victor", last_name="Vp")
    PilotFactory(key="fin-poc", business_unit=finance, phase=Phase.POC, sponsor=sponsor)
    PilotFactory(key="fin-prod", business_unit=finance, phase=Phase.PRODUCTION, sponsor=other_sponsor)
    stale = PilotFactory(key="ops-pilot", business_unit=operations, phase=Phase.PILOT, sponsor=sponsor)
    FlagFactory(pilot=stale, kind="stale")
    return finance, operations


def keys(response) -> list[str]:
    # Every pilot of the fixture is live, so the ageing view lists each selected one.
    data = response.context["data"]
    assert data.ageing_count == data.pilot_count
    return sorted(row.pilot.key for row in data.ageing)


def test_filters_narrow_every_figure_by_unit(signed_in, two_units):
    response = signed_in.get(URL, {"unit": "Finance"})

    data = response.context["data"]
    assert keys(response) == ["fin-poc", "fin-prod"]
    assert data.total_pilots == 3
    assert data.funnel.total == 2
    assert data.open_flags == 0
    assert "2 of 3 pilots" in response.content.decode()


def test_filters_by_sponsor_phase_and_flag(signed_in, two_units):
    assert keys(signed_in.get(URL, {"sponsor": "sam"})) == ["fin-poc", "ops-pilot"]
    assert keys(signed_in.get(URL, {"phase": "production"})) == ["fin-prod"]
    assert keys(signed_in.get(URL, {"flag": "stale"})) == ["ops-pilot"]
    assert keys(signed_in.get(URL, {"sponsor": "sam", "unit": "Operations"})) == ["ops-pilot"]


def test_a_bad_filter_value_is_reported_and_ignored(signed_in, two_units):
    response = signed_in.get(URL, {"phase": "purgatory"})

    assert keys(response) == ["fin-poc", "fin-prod", "ops-pilot"]
    assert "Select a valid choice" in response.content.decode()


def test_without_javascript_the_filtered_page_is_a_whole_page_with_the_filter_chosen(signed_in, two_units):
    response = signed_in.get(URL, {"unit": "Finance"})

    html = response.content.decode()
    assert "<html" in html
    assert '<option value="Finance" selected>' in html
    assert html.count('id="dashboard-status"') == 1
    # Charts and the export carry the same filters.
    assert f"{reverse('dashboard_chart', args=['funnel'])}?unit=Finance" in html
    assert f"{reverse('pilot_export')}?unit=Finance" in html


def test_htmx_gets_the_body_only_and_the_address_bar_gets_the_filters_in_use(signed_in, two_units):
    response = signed_in.get(URL, {"unit": "Finance", "sponsor": "", "phase": "", "flag": ""}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="dashboard-body"' in html
    assert response["HX-Push-Url"] == f"{URL}?unit=Finance"
    assert "HX-Request" in response["Vary"]
    # Screen readers hear what changed, not the whole dashboard.
    assert '<p id="dashboard-status" hx-swap-oob="innerHTML">2 of 3 pilots match the filters.</p>' in html


def test_clearing_the_filters_pushes_the_bare_address(signed_in, two_units):
    response = signed_in.get(URL, {"unit": ""}, HTTP_HX_REQUEST="true")

    assert response["HX-Push-Url"] == URL


def test_a_filter_that_matches_nothing_says_so(signed_in, two_units):
    response = signed_in.get(URL, {"unit": "Legal"})

    assert "No pilots match these filters" in response.content.decode()


# -- scale


def _portfolio(size: int, owner, sponsor) -> None:
    phases = [Phase.POC, Phase.PILOT, Phase.PRODUCTION, Phase.SCALED]
    statuses = [Status.ACTIVE, Status.ACTIVE, Status.ON_HOLD, Status.KILLED]
    for n in range(size):
        pilot = PilotFactory(
            business_unit=BusinessUnitFactory(name=("Finance", "Operations")[n % 2]),
            phase=phases[n % 4],
            status=statuses[(n // 4) % 4],
            owner=owner,
            sponsor=sponsor,
            budget=100,
            spent=50,
        )
        kpi = KpiFactory(pilot=pilot)
        KpiReadingFactory(kpi=kpi, value=40 + n % 30, source="api" if n % 2 else "form")
        if n % 3 == 0:
            FlagFactory(pilot=pilot, kind="stale")
        if n % 7 == 0:
            GateReviewFactory(pilot=pilot, override_justification="Because.")


def _queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    assert response.context["data"].pilot_count, "the filters must select some pilots"
    return len(queries)


def test_the_query_count_does_not_grow_with_the_portfolio(signed_in, owner, sponsor, settings):
    settings.DASHBOARD_MAX_STALE_SECONDS = 0  # each count is of a board computed from the data as it is
    _portfolio(10, owner, sponsor)
    small = _queries(signed_in)
    small_filtered = _queries(signed_in, flag="stale", unit="Finance", sponsor="sam")

    _portfolio(290, owner, sponsor)
    assert Pilot.objects.count() == 300
    large = _queries(signed_in)
    large_filtered = _queries(signed_in, flag="stale", unit="Finance", sponsor="sam")

    assert large == small
    assert large_filtered == small_filtered
    assert large <= 30


# -- the cache behind the page


def test_a_second_view_of_unchanged_data_is_served_from_the_cache(signed_in, monkeypatch):
    PilotFactory(phase=Phase.PILOT)
    asked = []
    monkeypatch.setattr(extensions.registry, "gate_blockers", lambda ids, as_of: asked.append(ids) or {})

    signed_in.get(URL)
    signed_in.get(URL)
    signed_in.get(URL, {"phase": "pilot"})

    assert len(asked) == 2  # once for the whole portfolio, once for the filtered view


def test_the_page_shows_a_new_reading_at_once(signed_in, settings):
    settings.DASHBOARD_MAX_STALE_SECONDS = 0  # always as fresh as the data (the bound: test_dashboard_freshness)
    pilot = PilotFactory(phase=Phase.PRODUCTION)
    kpi = KpiFactory(pilot=pilot, baseline=50, target=80)
    reading = KpiReadingFactory(kpi=kpi, measured_on=days_ago(7), value=45)
    assert signed_in.get(URL).context["data"].value.delivering == 0

    reading.value = 65
    reading.save()

    assert signed_in.get(URL).context["data"].value.delivering == 1


def test_the_page_shows_a_resolved_flag_at_once(signed_in, settings):
    settings.DASHBOARD_MAX_STALE_SECONDS = 0
    flag = FlagFactory(pilot=PilotFactory())
    assert signed_in.get(URL).context["data"].open_flags == 1

    type(flag).objects.filter(pk=flag.pk).update(resolved_at=NOON)

    assert signed_in.get(URL).context["data"].open_flags == 0


@pytest.mark.parametrize(
    "change",
    [
        "a pilot edited",
        "a KPI's target moved",
        "a reading recorded",
        "a kill criterion added",
        "a check-in recorded",
        "a flag raised",
        "a flag resolved",
        "evidence attested",
        "a gate decision recorded",
        "a gate criterion switched off",
    ],
)
def test_the_data_version_moves_with_every_change_the_dashboard_reads(change, pilot):
    from gates.models import GateCriterion
    from portfolio.selectors_dashboard import data_version
    from tests.factories import AttestationFactory, CheckInFactory, KillCriterionFactory

    kpi = KpiFactory(pilot=pilot)
    flag = FlagFactory(pilot=pilot)
    before = data_version()

    if change == "a pilot edited":
        pilot.name = "Renamed"
        pilot.save()
    elif change == "a KPI's target moved":
        kpi.target = 90
        kpi.save()
    elif change == "a reading recorded":
        KpiReadingFactory(kpi=kpi)
    elif change == "a kill criterion added":
        KillCriterionFactory(pilot=pilot)
    elif change == "a check-in recorded":
        CheckInFactory(pilot=pilot)
    elif change == "a flag raised":
        FlagFactory(pilot=pilot, kind="no_kpi")
    elif change == "a flag resolved":
        type(flag).objects.filter(pk=flag.pk).update(resolved_at=NOON)
    elif change == "evidence attested":
        AttestationFactory(pilot=pilot)
    elif change == "a gate decision recorded":
        GateReviewFactory(pilot=pilot)
    elif change == "a gate criterion switched off":
        criterion = GateCriterion.objects.get(code="monitoring")
        criterion.active = False
        criterion.save()

    assert data_version() != before
    assert data_version() == data_version()


def test_long_lists_show_their_first_rows_and_say_how_many_there_are(signed_in, blockers):
    for n in range(12):
        pilot = PilotFactory(name=f"Waiting {n:02d}", phase=Phase.POC)
        blockers[pilot.pk] = ["Kill criteria set"]

    response = signed_in.get(URL)

    data = response.context["data"]
    assert (len(data.blocked), data.blocked_count) == (10, 12)
    assert (len(data.ageing), data.ageing_count) == (10, 12)
    assert data.common_blockers[0].pilots == 12  # counted over every pilot, not the rows shown
    assert "(10 of 12; the CSV has all)" in response.content.decode()
