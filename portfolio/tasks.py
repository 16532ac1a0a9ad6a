"""Celery tasks of the health scan: the periodic scan and the rescan of one pilot after a write.

Thin: they call ``portfolio.scan`` and own their retries. Both are idempotent, so a
late ack that redelivers a task after a worker crash does no harm. The dashboard's refresh
(after them) recomputes one cached board the same way. The weekly digests'
tasks (further down) call ``portfolio.digests.delivery`` the same way, and the webhook
tasks (at the end) ``portfolio.webhooks``.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

from portfolio import webhooks
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


def jittered(seconds: int) -> int:
    """``seconds`` and up to a tenth more: retries that failed together do not all come back together."""
    return seconds + random.randint(0, most_jitter(seconds))


def most_jitter(seconds: int) -> int:
    """The most ``jittered`` adds; a countdown plus this stays under the visibility timeout (DESIGN 10)."""
    return max(seconds // 10, 1)


@shared_task(**RETRY_OPTIONS, soft_time_limit=240, time_limit=300)
def scan_portfolio_task() -> int:
    """Scan the whole portfolio as of today, then have today's dashboard computed; the id of the ScanRun."""
    run = scan_portfolio()
    from portfolio.selectors_dashboard import DashboardFilters, refresh_soon

    # The scan changed the flags the dashboard shows: its figures are worked out now, on a
    # worker, rather than by the next executive's request.
    refresh_soon(DashboardFilters(), as_of=timezone.localdate())
    return run.pk


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


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def refresh_dashboard(filters: dict[str, str], as_of: str) -> bool:
    """Bring the cached dashboard of one view (filters and date) up to date; False if it already was."""
    from portfolio.selectors_dashboard import DashboardFilters, dashboard_refresh

    return dashboard_refresh(DashboardFilters(**filters), as_of=dt.date.fromisoformat(as_of))


# --- Weekly digests (DESIGN 6) ---------------------------------------------------------
# The claims on DigestDelivery rows make overlapping runs harmless (two beats, a manual
# run, a redelivered task): each digest is sent by whichever run claims it first.
# The digest code is imported inside its tasks: it draws charts with matplotlib, which
# would otherwise load into every worker and every process that queues a rescan.


@shared_task(bind=True, acks_late=True, soft_time_limit=900, time_limit=960)
def send_weekly_digests(self, as_of: str | None = None) -> dict[str, int]:
    """Send this week's owner and executive digests that have not gone out; counts by outcome."""
    from portfolio.digests.delivery import LEASE, send_week

    day = dt.date.fromisoformat(as_of) if as_of else timezone.localdate()
    try:
        report = send_week(as_of=day)
    except SoftTimeLimitExceeded:
        # The digest being sent keeps its lease; the rest are unclaimed. Start again once
        # the lease has run out, with the same week (a Sunday-night run stays in its week).
        raise self.retry(args=[day.isoformat()], countdown=int(LEASE.total_seconds()) + 60, max_retries=3) from None
    schedule_digest_retries(report.retries)
    counts: dict[str, int] = {}
    for outcome in report.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def send_digest_delivery(delivery_id: int) -> str:
    """Try one digest again (after a failure, or after another run's lease ran out)."""
    from portfolio.digests.delivery import send_one

    outcome = send_one(delivery_id)
    if outcome.retry_in is not None:
        schedule_digest_retries([(delivery_id, outcome.retry_in)])
    return outcome.status


def schedule_digest_retries(retries: list[tuple[int, int]]) -> None:
    """Queue a retry of each (delivery id, seconds); a broker that is down only costs the retry, not the run."""
    for delivery_id, seconds in retries:
        # A little jitter, so a mail server that was down is not hit by every retry at once.
        countdown = jittered(seconds)
        try:
            send_digest_delivery.apply_async(args=[delivery_id], countdown=countdown, retry=False)
        except Exception:
            logger.warning(
                "Could not queue a retry of digest %s; the next run will send it", delivery_id, exc_info=True
            )


# --- Outgoing webhooks (issue 8) -------------------------------------------------------
# Announcing writes one WebhookDelivery per matching endpoint and queues each after
# commit; a delivery task POSTs once and retries with backoff on a timeout or a 5xx.


@shared_task(**RETRY_OPTIONS, soft_time_limit=60, time_limit=90)
def webhooks_announce(event_id: str, event: str, data: dict, text: str, business_unit_id: int | None) -> int:
    """Queue one event (a gate decision...) to every matching endpoint; how many deliveries were queued."""
    return _announce([webhooks.Event(event_id, event, data, text, business_unit_id)])


@shared_task(**RETRY_OPTIONS, soft_time_limit=120, time_limit=180)
def webhooks_announce_flags(raised_ids: list[int], resolved_ids: list[int]) -> int:
    """Queue the events of the flags a scan raised and resolved; how many deliveries were queued."""
    return _announce(webhooks.flag_events(raised_ids, resolved_ids))


def _announce(events: list[webhooks.Event]) -> int:
    with transaction.atomic():
        delivery_ids = webhooks.deliveries_create(events)
        transaction.on_commit(lambda: queue_webhook_deliveries(delivery_ids))
    return len(delivery_ids)


def queue_webhook_deliveries(delivery_ids: list[int]) -> None:
    """Queue a delivery task for each id; what cannot be queued is logged (its row stays pending)."""
    for delivery_id in delivery_ids:
        try:
            deliver_webhook.apply_async(args=[delivery_id], retry=False)
        except Exception:
            logger.warning("Could not queue webhook delivery %s", delivery_id, exc_info=True)


@shared_task(bind=True, acks_late=True, soft_time_limit=30, time_limit=60)
def deliver_webhook(self, delivery_id: int) -> str:
    """POST one delivery; on a timeout, a refused connection or a 5xx try again later, up to WEBHOOK_MAX_ATTEMPTS."""
    attempt = webhooks.delivery_attempt(delivery_id)
    if attempt.delivered:
        return "delivered"
    if not attempt.retry:
        return "failed"
    if self.request.retries + 1 >= settings.WEBHOOK_MAX_ATTEMPTS:
        logger.warning("Webhook delivery %s failed %s times; giving up", delivery_id, self.request.retries + 1)
        return "gave up"
    countdown = webhooks.backoff_seconds(self.request.retries)
    raise self.retry(countdown=jittered(countdown), max_retries=None)
