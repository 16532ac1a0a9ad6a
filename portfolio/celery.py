"""The Celery app: configured from Django settings under the CELERY_ namespace."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_ready

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
