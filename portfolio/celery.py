"""The Celery app: configured from Django settings under the CELERY_ namespace."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_ready
from django.core import checks

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio.settings")

app = Celery("portfolio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Connects the signals that carry a web request's id into the tasks it queues.
import portfolio.request_id  # noqa: E402, F401


@worker_ready.connect
def _scan_when_a_worker_starts(sender: object, **kwargs: object) -> None:
    # Beat's first tick is a whole period away; after a restart or on a fresh install
    # the flags (and /healthz) should not wait that long. Scans are idempotent and
    # locked, so several workers starting at once is harmless.
    app.send_task("portfolio.tasks.scan_portfolio_task")


def longest_waits() -> dict[str, int]:
    """Each way a task can wait or run before it is acknowledged, with its longest time in seconds.

    A message unacknowledged for longer than the Redis visibility timeout is handed to a
    second worker while the first still holds it (DESIGN 10): an ETA task would run twice,
    a long task would start again beside itself.
    """
    from django.conf import settings

    from portfolio import tasks, webhooks
    from portfolio.digests import delivery

    lease = settings.DIGEST_LEASE_SECONDS
    digest_retry = max(delivery.retry_delay(attempts) or 0 for attempts in range(1, delivery.MAX_ATTEMPTS + 1))
    webhook_retry = webhooks.backoff_seconds(64)
    ours = [task for name, task in app.tasks.items() if name.startswith(("portfolio.", "gates."))]
    return {
        "autoretry backoff (scan, rescan, webhook announcements)": tasks.RETRY_OPTIONS["retry_backoff_max"],
        "a digest run stopped by its time limit, retried after the lease": lease + 60,
        "a failed digest, retried with backoff": digest_retry + tasks.most_jitter(digest_retry),
        "a digest another run holds, retried after its lease": lease
        + delivery.LEASE_GRACE_SECONDS
        + tasks.most_jitter(lease + delivery.LEASE_GRACE_SECONDS),
        "a webhook delivery, retried with backoff": webhook_retry + tasks.most_jitter(webhook_retry),
        "the longest task time limit": max(task.time_limit or app.conf.task_time_limit or 0 for task in ours),
    }


# A deployment check (`manage.py check --deploy`): the visibility timeout is Redis's, and
# production configuration is what it judges; development on the filesystem broker has none.
@checks.register(checks.Tags.compatibility, deploy=True)
def _waits_fit_the_visibility_timeout(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    from django.conf import settings

    timeout = settings.CELERY_VISIBILITY_TIMEOUT
    return [
        checks.Error(
            f"CELERY_VISIBILITY_TIMEOUT ({timeout} s) is shorter than {what} ({seconds} s).",
            hint="Raise CELERY_VISIBILITY_TIMEOUT: Redis would hand the task to a second worker.",
            id="portfolio.E001",
        )
        for what, seconds in longest_waits().items()
        if seconds >= timeout
    ]
