"""A real worker, Redis and PostgreSQL: a stale dashboard queues its refresh and the worker brings it up to date."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.core.cache import cache
from django.utils import timezone

from conftest import use_broker
from portfolio import selectors_dashboard
from portfolio.models import Phase, ScanRun
from portfolio.selectors_dashboard import DashboardFilters, dashboard_data
from tests.factories import KpiFactory, KpiReadingFactory, PilotFactory
from tests.workers import integration_broker_url, require_postgresql, running_worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def broker_url(settings):
    url = integration_broker_url()
    require_postgresql()
    use_broker(url, settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    # The cache the worker writes to (its REDIS_URL is the broker's), under the same prefix.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "pilot-portfolio",
        }
    }
    settings.DASHBOARD_MAX_STALE_SECONDS = 60
    yield url
    cache.clear()  # the Redis database is the test's own: leave it empty


def test_the_worker_refreshes_a_stale_board_and_the_next_view_serves_it(broker_url, tmp_path, monkeypatch):
    today = timezone.localdate()
    kpi = KpiFactory(pilot=PilotFactory(phase=Phase.PRODUCTION), baseline=50, target=80)
    KpiReadingFactory(kpi=kpi, measured_on=today - dt.timedelta(days=7), value=45)
    log = tmp_path / "worker.log"

    key = selectors_dashboard._view_key(DashboardFilters(), today)

    def current() -> bool:
        held = cache.get(key)
        return held is not None and held.computed.version == selectors_dashboard.data_version()

    with running_worker(broker_url, log):
        # The worker scans the portfolio when it starts, and then computes today's board.
        assert wait_for(lambda: ScanRun.objects.filter(finished_at__isnull=False).exists(), timeout=60), log.read_text()
        assert wait_for(current, timeout=60), log.read_text()
        warm = cache.get(key)
        assert warm.board.value.delivering == 0
        # Make it half the bound old: a view of it behind the data then asks for its refresh.
        half_old = replace(warm.computed, computed_at=warm.computed.computed_at - dt.timedelta(seconds=30))
        cache.set(key, replace(warm, computed=half_old))
        KpiReadingFactory(kpi=kpi, measured_on=today, value=65)

        stale = dashboard_data(DashboardFilters())
        assert (stale.value.delivering, stale.behind_data) == (0, True)
        assert wait_for(current, timeout=60), log.read_text()

    def computed(filters, as_of):
        raise AssertionError("the board was computed in the request")

    monkeypatch.setattr(selectors_dashboard, "_dashboard", computed)
    fresh = dashboard_data(DashboardFilters())
    assert (fresh.value.delivering, fresh.behind_data) == (1, False)
    assert "refresh_dashboard" in log.read_text()
