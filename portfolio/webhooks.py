"""Outgoing webhooks: the events, their chat text, the signature, and one delivery attempt.

An event (``flag.raised``, ``flag.resolved``, ``gate.decided``) is announced after the
transaction that caused it commits; a Celery task then writes one WebhookDelivery per
matching endpoint (every active endpoint without a business unit, and those of the
pilot's unit) and queues each. A delivery POSTs the JSON body with
``X-Portfolio-Signature: sha256=<hex HMAC-SHA256 of the body with the endpoint's secret>``;
the body's ``text`` makes it a message Slack and Teams incoming webhooks show as it is.
Delivery is at least once: a receiver de-duplicates by the event's ``id``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from portfolio.models import Flag, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    import datetime as dt

    from django.contrib.auth.models import AbstractBaseUser

    from portfolio.models import Pilot

logger = logging.getLogger(__name__)

FLAG_RAISED = "flag.raised"
FLAG_RESOLVED = "flag.resolved"
GATE_DECIDED = "gate.decided"
EVENTS = (FLAG_RAISED, FLAG_RESOLVED, GATE_DECIDED)
SIGNATURE_HEADER = "X-Portfolio-Signature"
# Statuses worth another try: the receiver is down, overloaded or asks us to slow down.
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Event:
    """What happened, its data, the sentence a person reads in chat, and whose unit it concerns."""

    id: str
    name: str
    data: Mapping[str, Any]
    text: str
    business_unit_id: int | None


# -- signing --------------------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    """The value of X-Portfolio-Signature for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    """What a receiver checks (constant time), given the raw body and the header."""
    return hmac.compare_digest(signature(secret, body), header or "")


def body_bytes(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent and signed."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# -- announcing events ------------------------------------------------------------------------------


def event_emit_after_commit(event: str, payload: dict, business_unit_id: int | None) -> None:
    """Announce ``event`` to the matching endpoints once the current transaction commits.

    ``payload`` is the event's data (dates and decimals are fine); a ``text`` key, if
    present, is the chat message, else one is written from the data. Nothing waits on
    an endpoint here: the publish happens after commit, and a broker that is down is
    logged and swallowed, so the user's write never fails or slows for a webhook.
    """
    if event not in EVENTS:
        raise ValueError(f"Unknown webhook event {event!r}; known: {', '.join(EVENTS)}")
    # Serialised now, in the caller, so a payload that cannot be sent fails its tests.
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    text = data.pop("text", None) or event_text(event, data)
    # The id is fixed here, so a redelivered task announces the same event, not a new one.
    args = [str(uuid.uuid4()), event, data, text, business_unit_id]
    transaction.on_commit(lambda: _publish("portfolio.tasks.webhooks_announce", args))


def flags_changed_after_commit(*, raised_ids: Sequence[int], resolved_ids: Sequence[int]) -> None:
    """Announce the flags a scan raised and resolved, once its transaction commits."""
    if not raised_ids and not resolved_ids:
        return
    raised, resolved = list(raised_ids), list(resolved_ids)
    transaction.on_commit(lambda: _publish("portfolio.tasks.webhooks_announce_flags", [raised, resolved]))


def _publish(task_name: str, args: list) -> None:
    from portfolio.celery import app

    try:
        app.send_task(task_name, args=args, retry=False)
    except Exception:
        # Runs after the commit of someone's write (or of a scan): whatever the broker
        # raises, that write stands. Losing an announcement is logged, not fatal.
        logger.warning("Could not queue the webhook task %s; the event is not announced", task_name, exc_info=True)


def gate_decision_payload(
    *,
    pilot: Pilot,
    decision: str,
    from_phase: str,
    to_phase: str,
    decided_by: AbstractBaseUser | None,
    decided_on: dt.date,
    rationale: str = "",
    override_justification: str = "",
) -> dict[str, Any]:
    """The data of a ``gate.decided`` event, for ``event_emit_after_commit``."""
    return {
        "pilot": _pilot_data(pilot),
        "decision": decision,
        "from_phase": from_phase,
        "to_phase": to_phase,
        "decided_by": None if decided_by is None else decided_by.get_username(),
        "decided_on": decided_on.isoformat(),
        "rationale": rationale,
        "override": bool(override_justification),
        "override_justification": override_justification,
    }


def _pilot_data(pilot: Pilot) -> dict[str, Any]:
    return {
        "key": pilot.key,
        "name": pilot.name,
        "business_unit": pilot.business_unit.name,
        "url": settings.SITE_URL + pilot.get_absolute_url(),
    }


def flag_events(raised_ids: Iterable[int], resolved_ids: Iterable[int]) -> list[Event]:
    """One event per flag raised or resolved, in one query."""
    raised, resolved = set(raised_ids), set(resolved_ids)
    flags = (
        Flag.objects.filter(pk__in=raised | resolved)
        .select_related("pilot__business_unit", "kpi", "kill_criterion")
        .order_by("pilot__key", "kind", "id")
    )
    events = []
    for flag in flags:
        name = FLAG_RAISED if flag.pk in raised else FLAG_RESOLVED
        data = {
            "flag": {
                "id": flag.pk,
                "kind": flag.kind,
                "label": flag.get_kind_display(),
                "severity": flag.severity,
                "subject": flag.subject_key,
                "detail": flag.detail,
                "raised_at": flag.raised_at.isoformat(),
                "resolved_at": flag.resolved_at.isoformat() if flag.resolved_at else None,
            },
            "pilot": _pilot_data(flag.pilot),
        }
        # One flag is raised once and resolved once: its id and the event name identify the event.
        event_id = f"{name}:{flag.pk}"
        events.append(Event(event_id, name, data, event_text(name, data), flag.pilot.business_unit_id))
    return events


def event_text(event: str, data: Mapping[str, Any]) -> str:
    """One line a person reads in Slack or Teams: what happened, to which pilot, and its link."""
    pilot = data.get("pilot") or {}
    name, url = pilot.get("name") or pilot.get("key") or "a pilot", pilot.get("url", "")
    if event in (FLAG_RAISED, FLAG_RESOLVED):
        flag = data.get("flag") or {}
        label = flag.get("label") or flag.get("kind", "")
        if event == FLAG_RAISED:
            line = f"Flag raised on {name}: {label} ({flag.get('severity', '')}) — {flag.get('detail', '')}"
        else:
            line = f"Flag resolved on {name}: {label}"
    elif event == GATE_DECIDED:
        who = data.get("decided_by") or "someone"
        line = f"Gate decision on {name}: {data.get('decision', '')} ({data.get('from_phase', '')} → "
        line += f"{data.get('to_phase', '')}) by {who}"
        if data.get("override"):
            line += ", overriding unmet criteria"
        if data.get("rationale"):
            line += f". {data['rationale']}"
    else:
        line = f"{event} on {name}"
    return f"{line} {url}".strip()


# -- deliveries -----------------------------------------------------------------------------------


def deliveries_create(events: Sequence[Event]) -> list[int]:
    """A pending delivery per event and matching endpoint, unless there is one already; the new ids."""
    if not events:
        return []
    endpoints = list(WebhookEndpoint.objects.filter(active=True).only("id", "business_unit_id"))
    if not endpoints:
        return []
    existing = set(
        WebhookDelivery.objects.filter(event_id__in=[event.id for event in events]).values_list(
            "endpoint_id", "event_id"
        )
    )
    now = timezone.now()
    deliveries = []
    for event in events:
        body = {
            "id": event.id,
            "event": event.name,
            "occurred_at": now.isoformat(),
            "text": event.text,
            "data": dict(event.data),
        }
        for endpoint in endpoints:
            wanted = endpoint.business_unit_id in (None, event.business_unit_id)
            if wanted and (endpoint.pk, event.id) not in existing:
                delivery = WebhookDelivery(endpoint=endpoint, event=event.name, event_id=event.id, payload=body)
                delivery.created_at = now
                deliveries.append(delivery)
    return [delivery.pk for delivery in WebhookDelivery.objects.bulk_create(deliveries, batch_size=500)]


@dataclass(frozen=True)
class Attempt:
    """How one attempt went, and whether another is worth making."""

    delivered: bool
    retry: bool
    status_code: int | None = None
    response_ms: int | None = None
    error: str = ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect by turning the POST into a GET without its body;
    # a moved endpoint is a configuration error worth seeing in the log instead.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def delivery_attempt(delivery_id: int) -> Attempt:
    """POST the delivery once (short timeout) and record the outcome on its row."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.delivered_at is not None:
        # Deleted, or already delivered by an earlier run of a redelivered task.
        return Attempt(delivered=delivery is not None, retry=False)
    endpoint = delivery.endpoint
    if not endpoint.active:
        return _record(delivery, Attempt(False, False, error="The endpoint is paused; not sent."))
    if not endpoint.url.lower().startswith(("http://", "https://")):
        return _record(delivery, Attempt(False, False, error="Only http and https endpoints are called."))
    body = body_bytes(delivery.payload)
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "PilotPortfolio-Webhooks/1",
            "X-Portfolio-Event": delivery.event,
            "X-Portfolio-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: signature(endpoint.secret, body),
        },
    )
    started = time.monotonic()
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read(65536)
            status = response.status
    except urllib.error.HTTPError as refused:
        status = refused.code
        refused.close()
    except (urllib.error.URLError, TimeoutError, OSError) as failed:
        reason = getattr(failed, "reason", failed)
        elapsed = _ms_since(started)
        return _record(delivery, Attempt(False, True, response_ms=elapsed, error=f"No answer: {reason}"[:500]))
    elapsed = _ms_since(started)
    if 200 <= status < 300:
        return _record(delivery, Attempt(True, False, status, elapsed))
    error = f"The endpoint answered {status}."
    return _record(delivery, Attempt(False, status in RETRY_STATUSES, status, elapsed, error))


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _record(delivery: WebhookDelivery, attempt: Attempt) -> Attempt:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1,
        status_code=attempt.status_code,
        response_ms=attempt.response_ms,
        last_error=attempt.error,
        delivered_at=timezone.now() if attempt.delivered else None,
    )
    return attempt


def backoff_seconds(retries: int) -> int:
    """Wait before the next try: 10 s, 20 s, 40 s… up to WEBHOOK_RETRY_BACKOFF_MAX_SECONDS."""
    return min(settings.WEBHOOK_RETRY_BACKOFF_MAX_SECONDS, 10 * 2**retries)
