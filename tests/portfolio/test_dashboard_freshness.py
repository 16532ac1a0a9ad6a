"""The dashboard under writes: a board a little behind the data is served while one refresh brings it up to date."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from celery.signals import before_task_publish
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from conftest import use_broker
from portfolio import selectors_dashboard, tasks
from portfolio.models import Phase
from portfolio.selectors_dashboard import DashboardFilters, dashboard_data
from tests.factories import TODAY, KpiFactory, KpiReadingFactory, PilotFactory

pytestmark = pytest.mark.usefixtures("fast_password_hashing", "frozen_today")

URL = reverse("dashboard")
BOUND = 60
REFRESH = "portfolio.tasks.refresh_dashboard"


@pytest.fixture(autouse=True)
def bound(settings):
    settings.DASHBOARD_MAX_STALE_SECONDS = BOUND


@pytest.fixture
def signed_in(client, executive):
    client.force_login(executive)
    return client


@pytest.fixture
def refreshes():
    """The refresh tasks published to the broker (args of each), seen from the publishing side."""
    published: list[list] = []

    def seen(sender=None, body=None, **kwargs):
        if sender == REFRESH:
            published.append(body[0])

    before_task_publish.connect(seen, weak=False)
    yield published
    before_task_publish.disconnect(seen)


@pytest.fixture
def production_kpi(db):
    """A KPI below its baseline: the pilot starts to deliver once a reading passes the baseline."""
    kpi = KpiFactory(pilot=PilotFactory(phase=Phase.PRODUCTION), baseline=50, target=80)
    KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=7), value=45)
    return kpi


def deliver(kpi) -> None:
    KpiReadingFactory(kpi=kpi, measured_on=TODAY, value=65)


def half_the_bound_later(frozen_today) -> None:
    """From half the bound on, a board behind the data asks for its refresh."""
    frozen_today.shift(dt.timedelta(seconds=BOUND / 2))


def no_computing(monkeypatch) -> None:
    """From now on a view that computes the board fails the test."""

    def computed(filters, as_of):
        raise AssertionError("the board was computed in the request")

    monkeypatch.setattr(selectors_dashboard, "_dashboard", computed)


def lock_key() -> str:
    """The lock of the unfiltered view of today."""
    return selectors_dashboard._view_key(DashboardFilters(), TODAY) + ":lock"


def test_unchanged_data_is_served_from_the_cache_as_current_with_no_refresh(
    signed_in, production_kpi, refreshes, monkeypatch
):
    signed_in.get(URL)
    no_computing(monkeypatch)

    response = signed_in.get(URL)

    data = response.context["data"]
    assert not data.behind_data
    assert refreshes == []
    assert "figures as of" not in response.content.decode()


def test_after_a_change_the_last_board_is_served_and_one_refresh_is_queued(
    signed_in, production_kpi, refreshes, frozen_today, monkeypatch
):
    assert signed_in.get(URL).context["data"].value.delivering == 0
    frozen_today.shift(dt.timedelta(seconds=BOUND))  # the bound itself is still within it
    deliver(production_kpi)
    no_computing(monkeypatch)

    views = [signed_in.get(URL) for _ in range(4)]

    assert [v.context["data"].value.delivering for v in views] == [0, 0, 0, 0]
    assert all(v.context["data"].behind_data for v in views)
    assert refreshes == [[{}, TODAY.isoformat()]]
    # 12:00 UTC is 12:00 in London in November.
    assert "figures as of 12:00, newer changes follow shortly" in views[0].content.decode()


def test_just_after_a_change_the_last_board_is_served_and_no_refresh_asked_for_yet(
    signed_in, production_kpi, refreshes, frozen_today, monkeypatch
):
    signed_in.get(URL)
    deliver(production_kpi)
    frozen_today.shift(dt.timedelta(seconds=BOUND / 2 - 1))
    no_computing(monkeypatch)

    data = signed_in.get(URL).context["data"]

    assert (data.value.delivering, data.behind_data) == (0, True)
    assert refreshes == []


def test_concurrent_views_of_a_stale_board_queue_exactly_one_refresh(
    transactional_db, production_kpi, refreshes, frozen_today, monkeypatch
):
    dashboard_data(DashboardFilters())
    deliver(production_kpi)
    half_the_bound_later(frozen_today)
    no_computing(monkeypatch)
    start = threading.Barrier(8)
    served: list[bool] = []

    def view() -> None:
        try:
            start.wait()
            served.append(dashboard_data(DashboardFilters()).behind_data)
        finally:
            connection.close()

    threads = [threading.Thread(target=view) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert served == [True] * 8
    assert refreshes == [[{}, TODAY.isoformat()]]


def test_each_filtered_view_has_its_own_refresh(signed_in, production_kpi, refreshes, frozen_today):
    signed_in.get(URL)
    signed_in.get(URL, {"phase": "production"})
    deliver(production_kpi)
    half_the_bound_later(frozen_today)

    signed_in.get(URL)
    signed_in.get(URL, {"phase": "production"})

    assert refreshes == [[{}, TODAY.isoformat()], [{"phase": "production"}, TODAY.isoformat()]]


def test_a_board_older_than_the_bound_is_computed_in_the_request(signed_in, production_kpi, refreshes, frozen_today):
    signed_in.get(URL)
    deliver(production_kpi)
    frozen_today.shift(dt.timedelta(seconds=BOUND + 1))

    response = signed_in.get(URL)

    data = response.context["data"]
    assert data.value.delivering == 1
    assert not data.behind_data
    assert refreshes == []


def test_while_another_request_computes_a_too_old_board_it_is_served_as_it_is(
    signed_in, production_kpi, refreshes, frozen_today, monkeypatch
):
    signed_in.get(URL)
    deliver(production_kpi)
    frozen_today.shift(dt.timedelta(seconds=BOUND + 1))
    cache.add(lock_key(), 1)  # another request is computing it
    no_computing(monkeypatch)

    data = signed_in.get(URL).context["data"]

    assert (data.value.delivering, data.behind_data) == (0, True)
    assert refreshes == []


def test_with_no_board_yet_it_waits_for_the_one_another_request_computes(production_kpi, monkeypatch):
    key = selectors_dashboard._view_key(DashboardFilters(), TODAY)
    dashboard_data(DashboardFilters())
    theirs = cache.get(key)
    cache.delete(key)
    cache.add(lock_key(), 1)
    no_computing(monkeypatch)
    # The other request finishes a moment later.
    threading.Timer(0.3, lambda: cache.set(key, theirs)).start()

    data = dashboard_data(DashboardFilters())

    assert data.computed_at == theirs.computed.computed_at
    assert data.value.delivering == 0


def test_with_no_board_and_a_stuck_computation_it_computes_its_own_in_time(production_kpi, monkeypatch):
    monkeypatch.setattr(selectors_dashboard, "WAIT_FOR_BOARD_SECONDS", 0.3)
    cache.add(lock_key(), 1)  # held by a request that died

    data = dashboard_data(DashboardFilters())

    assert (data.value.delivering, data.behind_data) == (0, False)


def test_the_refresh_task_stores_a_board_the_next_view_serves(
    signed_in, production_kpi, refreshes, frozen_today, monkeypatch
):
    signed_in.get(URL)
    deliver(production_kpi)
    half_the_bound_later(frozen_today)
    assert signed_in.get(URL).context["data"].behind_data
    [(filters, as_of)] = refreshes

    assert tasks.refresh_dashboard(filters, as_of) is True

    no_computing(monkeypatch)
    data = signed_in.get(URL).context["data"]
    assert (data.value.delivering, data.behind_data) == (1, False)
    assert cache.add(lock_key(), 1), "the task released the lock"


def test_the_refresh_task_leaves_a_current_board_alone(production_kpi, monkeypatch):
    dashboard_data(DashboardFilters(phase="production"))
    no_computing(monkeypatch)

    assert tasks.refresh_dashboard({"phase": "production"}, TODAY.isoformat()) is False


def test_a_broker_outage_leaves_the_page_working(signed_in, production_kpi, frozen_today, caplog):
    signed_in.get(URL)
    deliver(production_kpi)
    half_the_bound_later(frozen_today)
    # Nothing listens there, and a web process's Redis transport does not retry (settings).
    use_broker("redis://127.0.0.1:1/0", {"max_retries": 0, "socket_connect_timeout": 2})

    started = time.monotonic()
    response = signed_in.get(URL)

    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert response.context["data"].behind_data
    assert "Could not queue a dashboard refresh" in caplog.text


def test_a_bound_of_zero_computes_every_change_in_the_request(signed_in, production_kpi, refreshes, settings):
    settings.DASHBOARD_MAX_STALE_SECONDS = 0
    signed_in.get(URL)
    deliver(production_kpi)

    data = signed_in.get(URL).context["data"]

    assert (data.value.delivering, data.behind_data) == (1, False)
    assert refreshes == []
