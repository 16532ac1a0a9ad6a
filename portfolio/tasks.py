"""Celery tasks of the health scan: the periodic scan and the rescan of one pilot after a write.

Thin: they call ``portfolio.scan`` and own their retries. Both are idempotent, so a
late ack that redelivers a task after a worker crash does no harm.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError, transaction

from portfolio.scan import scan_portfolio

logger = logging.getLogger(__name__)

# A lost connection or a lock timeout is worth another try; a bug is not.
RETRY_OPTIONS = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    # Well under the Redis visibility timeout (DESIGN 10).
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(**RETRY_OPTIONS, soft_time_limit=240, time_limit=300)
def scan_portfolio_task() -> int:
    """Scan the whole portfolio as of today; the id of the ScanRun."""
    return scan_portfolio().pk


@shared_task(**RETRY_OPTIONS, soft_time_limit=30, time_limit=60)
def rescan_pilot(pilot_id: int) -> None:
    """Re-evaluate one pilot's flags as of today."""
    scan_portfolio(pilot_ids=[pilot_id])


def rescan_pilot_after_commit(pilot_id: int) -> None:
    """Queue a rescan of the pilot once the current transaction commits.

    Every write that can change a pilot's flags calls this. Publishing happens after
    commit so the worker sees the write; and if the broker is down the write has
    already succeeded, so the error is logged and the periodic scan catches up.
    """
    transaction.on_commit(lambda: _publish_rescan(pilot_id))


def _publish_rescan(pilot_id: int) -> None:
    try:
        rescan_pilot.apply_async(args=[pilot_id], retry=False)
    except Exception:
        # Whatever the broker raises (refused, timed out, DNS), the user's write
        # must not fail: this runs in their request, after their commit.
        logger.warning("Could not queue a rescan of pilot %s; the periodic scan will catch up", pilot_id, exc_info=True)
