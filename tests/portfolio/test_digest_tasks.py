"""The Celery side of the digests: the weekly task, the retry of one digest, and the beat entry."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail

from portfolio import tasks
from portfolio.models import DigestDelivery
from portfolio.tasks import send_digest_delivery, send_weekly_digests
from tests.factories import TODAY, FlagFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def week(owner, sponsor, executive, pilot, frozen_today):
    FlagFactory(pilot=pilot, kind="stale")


@pytest.fixture
def queued(monkeypatch) -> list[tuple[list[int], int]]:
    calls: list[tuple[list[int], int]] = []
    monkeypatch.setattr(
        send_digest_delivery, "apply_async", lambda args, countdown, **options: calls.append((args, countdown))
    )
    return calls


def test_the_weekly_task_sends_this_weeks_digests_once(week, queued):
    first = send_weekly_digests()
    again = send_weekly_digests()

    assert first == {"sent": 3}
    assert again == {"already sent": 3}
    assert len(mail.outbox) == 3
    assert queued == []


def test_the_weekly_task_keeps_the_week_it_was_given(week, queued):
    send_weekly_digests(as_of=(TODAY - dt.timedelta(days=1)).isoformat())

    assert set(DigestDelivery.objects.values_list("period", flat=True)) == {"2026-W46"}


def test_a_failed_digest_is_queued_for_a_retry_with_backoff(week, queued, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1

    assert send_weekly_digests() == {"failed": 3}

    ids = set(DigestDelivery.objects.values_list("id", flat=True))
    assert {args[0] for args, _ in queued} == ids
    # A minute, plus at most a tenth of it as jitter.
    assert all(60 <= countdown <= 66 for _, countdown in queued)


def test_the_retry_task_sends_the_stored_digest_and_stops(week, queued, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    send_weekly_digests()
    queued.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    statuses = [
        send_digest_delivery(delivery_id) for delivery_id in DigestDelivery.objects.values_list("id", flat=True)
    ]

    assert statuses == ["sent"] * 3
    assert queued == []
    assert len(mail.outbox) == 3


def test_a_retry_that_fails_again_queues_the_next_one_later(week, queued, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    send_weekly_digests()
    delivery_id = DigestDelivery.objects.values_list("id", flat=True).first()
    queued.clear()

    assert send_digest_delivery(delivery_id) == "failed"

    [(args, countdown)] = queued
    assert args == [delivery_id]
    assert 120 <= countdown <= 132


def test_a_broker_that_is_down_costs_the_retry_not_the_run(monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(send_digest_delivery, "apply_async", refuse)

    tasks.schedule_digest_retries([(1, 60), (2, 60)])

    assert caplog.text.count("Could not queue a retry of digest") == 2


def test_the_beat_sends_the_digests_on_monday_at_seven_by_default():
    entry = settings.CELERY_BEAT_SCHEDULE["send-weekly-digests"]

    assert entry["task"] == "portfolio.tasks.send_weekly_digests"
    assert entry["schedule"] == crontab(minute="0", hour="7", day_of_week="mon")
    assert settings.CELERY_TIMEZONE == settings.TIME_ZONE
    # A beat that comes back hours late does not send last Monday's news.
    assert entry["options"]["expires"] == 6 * 60 * 60


def manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DIGEST_CRONTAB", "REDIS_URL"}}
    clean.update(VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_the_schedule_is_configurable_through_digest_crontab(tmp_path):
    show = "from django.conf import settings; print(settings.CELERY_BEAT_SCHEDULE['send-weekly-digests']['schedule'])"

    result = manage(tmp_path, "shell", "-c", show, DIGEST_CRONTAB="30 6 * * fri")

    assert result.returncode == 0, result.stderr
    assert "<crontab: 30 6 * * fri" in result.stdout


def test_a_bad_digest_crontab_refuses_to_start_with_one_line(tmp_path):
    result = manage(tmp_path, "check", DIGEST_CRONTAB="7 on mondays")

    assert result.returncode != 0
    assert result.stderr.strip() == (
        "Pilot Portfolio refuses to start: DIGEST_CRONTAB must have five fields (\"0 7 * * mon\"), not '7 on mondays'."
    )


def test_the_weekly_task_acks_late_and_has_time_limits():
    assert send_weekly_digests.acks_late is True
    assert send_weekly_digests.soft_time_limit < send_weekly_digests.time_limit < settings.CELERY_VISIBILITY_TIMEOUT
    assert send_digest_delivery.acks_late is True
