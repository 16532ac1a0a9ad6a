"""No task waits or runs longer than the Redis visibility timeout; the long tasks are taken one at a time.

The check behind these tests (portfolio.E001) runs with ``manage.py check``, so an operator
who lowers CELERY_VISIBILITY_TIMEOUT below a retry countdown or a time limit hears of it.
"""

from __future__ import annotations

from django.conf import settings

from portfolio.celery import _waits_fit_the_visibility_timeout, app, longest_waits
from portfolio.digests import delivery


def test_every_wait_is_shorter_than_the_visibility_timeout():
    waits = longest_waits()

    assert waits, "nothing measured"
    too_long = {what: seconds for what, seconds in waits.items() if seconds >= settings.CELERY_VISIBILITY_TIMEOUT}
    assert too_long == {}
    assert _waits_fit_the_visibility_timeout() == []


def test_the_waits_include_the_longest_retries_and_time_limits():
    waits = longest_waits()

    assert waits["a failed digest, retried with backoff"] > delivery.retry_delay(delivery.MAX_ATTEMPTS - 1)
    assert waits["a webhook delivery, retried with backoff"] >= settings.WEBHOOK_RETRY_BACKOFF_MAX_SECONDS
    assert waits["the longest task time limit"] == max(
        task.time_limit for name, task in app.tasks.items() if name.startswith("portfolio.")
    )


def test_a_visibility_timeout_shorter_than_a_wait_fails_the_check(settings):
    settings.CELERY_VISIBILITY_TIMEOUT = 10 * 60

    errors = _waits_fit_the_visibility_timeout()

    assert {error.id for error in errors} == {"portfolio.E001"}
    assert any("a failed digest, retried with backoff" in error.msg for error in errors)
    assert all("(600 s)" in error.msg for error in errors)
    assert not any("autoretry backoff" in error.msg for error in errors)


def test_the_digest_lease_runs_out_before_the_run_of_a_dead_worker_comes_back():
    assert settings.DIGEST_LEASE_SECONDS < settings.CELERY_VISIBILITY_TIMEOUT


def test_the_long_tasks_are_taken_one_at_a_time_and_acknowledged_late():
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    ours = {name: task for name, task in app.tasks.items() if name.startswith("portfolio.")}
    assert "portfolio.tasks.send_weekly_digests" in ours
    assert {name for name, task in ours.items() if not task.acks_late} == set()


def test_a_worker_reconnects_to_its_broker_for_as_long_as_it_takes():
    assert app.conf.broker_connection_retry is True
    assert app.conf.broker_connection_max_retries is None
    # Tasks are idempotent: one that outlives a lost connection finishes instead of being killed mid-send.
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is False
