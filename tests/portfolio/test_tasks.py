"""Celery tasks of the health scan, called directly, and the rescan queued after commit."""

from __future__ import annotations

import logging
import time

import pytest
from django.conf import settings
from django.db import OperationalError, transaction

from portfolio import celery_app, tasks
from portfolio.models import Flag, ScanRun
from portfolio.tasks import rescan_pilot, rescan_pilot_after_commit, scan_portfolio_task
from tests.factories import TODAY, PilotFactory

pytestmark = pytest.mark.django_db


def open_kinds(pilot) -> set[str]:
    return set(Flag.objects.filter(pilot=pilot, resolved_at__isnull=True).values_list("kind", flat=True))


@pytest.fixture
def broker_down():
    """Point the Celery app at a port where nothing listens."""
    saved = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    celery_app.pool.force_close_all()
    celery_app._pool = None
    yield
    celery_app.conf.broker_url = saved
    celery_app.pool.force_close_all()
    celery_app._pool = None


@pytest.fixture
def published(monkeypatch) -> list[list[int]]:
    calls: list[list[int]] = []
    monkeypatch.setattr(rescan_pilot, "apply_async", lambda args, **options: calls.append(args))
    return calls


def test_rescanning_a_pilot_raises_its_flags(pilot, frozen_today):
    rescan_pilot(pilot.id)

    assert open_kinds(pilot) == {"no_kpi", "stale"}


def test_rescanning_a_pilot_leaves_the_others_alone(pilot, owner, sponsor, frozen_today):
    other = PilotFactory(owner=owner, sponsor=sponsor)

    rescan_pilot(pilot.id)

    assert open_kinds(other) == set()


def test_the_periodic_scan_records_its_run(pilot, frozen_today):
    run_id = scan_portfolio_task()

    assert ScanRun.objects.get(id=run_id).flags_raised == 2
    assert open_kinds(pilot) == {"no_kpi", "stale"}


def test_the_periodic_scan_has_today_s_dashboard_computed_on_a_worker(pilot, frozen_today, monkeypatch):
    queued: list[list] = []
    monkeypatch.setattr(tasks.refresh_dashboard, "apply_async", lambda args, **options: queued.append(args))

    scan_portfolio_task()
    # A second scan while the first refresh still holds the view: not queued twice.
    scan_portfolio_task()

    assert queued == [[{}, TODAY.isoformat()]]


def test_a_rescan_is_queued_only_once_the_transaction_commits(pilot, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rescan_pilot_after_commit(pilot.id)
    assert published == []

    for callback in callbacks:
        callback()

    assert published == [[pilot.id]]


def test_a_rescan_is_not_queued_when_the_transaction_rolls_back(pilot, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        rescan_pilot_after_commit(pilot.id)
        raise RuntimeError("the write failed")

    assert published == []


def test_a_broker_that_is_down_fails_no_write_and_is_logged(
    pilot, broker_down, django_capture_on_commit_callbacks, caplog
):
    started = time.monotonic()
    with (
        caplog.at_level(logging.WARNING, logger="portfolio.tasks"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        rescan_pilot_after_commit(pilot.id)

    assert len(callbacks) == 1
    assert time.monotonic() - started < 5
    assert f"Could not queue a rescan of pilot {pilot.id}" in caplog.text


def test_a_lost_database_connection_is_retried(pilot, frozen_today, monkeypatch):
    attempts: list[int] = []
    real_scan = tasks.scan_portfolio

    def flaky_scan(**kwargs: object):
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_scan(**kwargs)

    monkeypatch.setattr(tasks, "scan_portfolio", flaky_scan)

    result = rescan_pilot.apply(args=[pilot.id])

    assert result.successful()
    assert len(attempts) == 2
    assert open_kinds(pilot) == {"no_kpi", "stale"}


def test_the_tasks_ack_late_and_have_time_limits():
    for task in (scan_portfolio_task, rescan_pilot):
        assert task.acks_late is True
        assert task.autoretry_for == (OperationalError,)
        assert task.retry_backoff is True
        assert task.max_retries
        assert 0 < task.soft_time_limit < task.time_limit <= settings.CELERY_VISIBILITY_TIMEOUT


def test_beat_runs_the_scan_every_period():
    entry = settings.CELERY_BEAT_SCHEDULE["scan-portfolio-health"]

    assert entry["task"] in celery_app.tasks
    assert celery_app.tasks[entry["task"]] is scan_portfolio_task._get_current_object()
    assert entry["schedule"] == settings.HEALTH_THRESHOLDS["scan_period_minutes"] * 60
