"""Outgoing webhooks: events after commit, endpoints per unit, signed bodies, retries against a real server."""

from __future__ import annotations

import datetime as dt
import socket

import pytest

from portfolio import webhooks
from portfolio.models import WebhookDelivery, WebhookEndpoint
from portfolio.scan import scan_portfolio
from portfolio.tasks import deliver_webhook, webhooks_announce, webhooks_announce_flags
from tests.factories import TODAY, BusinessUnitFactory, FlagFactory, KpiFactory, PilotFactory
from tests.portfolio.webhook_receiver import receiving

pytestmark = pytest.mark.django_db

SECRET = "s3cret-shared-with-the-receiver"


@pytest.fixture
def published(monkeypatch):
    """What would have been sent to the broker, as (task name, args)."""
    sent: list[tuple[str, list]] = []
    monkeypatch.setattr(webhooks, "_publish", lambda name, args: sent.append((name, args)))
    return sent


@pytest.fixture
def queued(monkeypatch):
    """Delivery ids queued for sending."""
    ids: list[int] = []
    monkeypatch.setattr("portfolio.tasks.queue_webhook_deliveries", ids.extend)
    return ids


def endpoint(url: str = "http://127.0.0.1:9/hook", **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=url, secret=SECRET, **fields)


def delivery_to(url: str, **fields) -> WebhookDelivery:
    event = webhooks.Event("gate.decided:1", "gate.decided", {"pilot": {"key": "invoice-matching"}}, "A decision", None)
    [delivery_id] = webhooks.deliveries_create([event])
    return WebhookDelivery.objects.get(pk=delivery_id)


# -- announcing -----------------------------------------------------------------------------------


def test_a_scan_announces_the_flags_it_raises_and_resolves_after_it_commits(
    pilot, published, frozen_today, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        scan_portfolio()
    [(task, (raised, resolved))] = published
    assert task == "portfolio.tasks.webhooks_announce_flags"
    assert sorted(pilot.flags.filter(id__in=raised).values_list("kind", flat=True)) == ["no_kpi", "stale"]
    assert resolved == []

    KpiFactory(pilot=pilot)
    with django_capture_on_commit_callbacks(execute=True):
        scan_portfolio()

    assert published[1][1] == [[], list(pilot.flags.filter(kind="no_kpi").values_list("id", flat=True))]


def test_a_scan_that_changes_nothing_announces_nothing(
    pilot, published, frozen_today, django_capture_on_commit_callbacks
):
    scan_portfolio()

    with django_capture_on_commit_callbacks(execute=True):
        scan_portfolio()

    assert published == []


def test_a_scan_that_fails_announces_nothing(
    pilot, published, frozen_today, monkeypatch, django_capture_on_commit_callbacks
):
    def failing(*args, **kwargs):
        raise RuntimeError("lost the connection")

    monkeypatch.setattr("portfolio.scan._serialise_scans", failing)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        scan_portfolio()

    assert published == []


def test_flag_events_go_to_endpoints_of_every_unit_and_of_the_pilots_unit_only(
    pilot, queued, django_capture_on_commit_callbacks
):
    everything = endpoint("http://127.0.0.1:9/all")
    same_unit = endpoint("http://127.0.0.1:9/mine", business_unit=pilot.business_unit)
    endpoint("http://127.0.0.1:9/theirs", business_unit=BusinessUnitFactory(name="Elsewhere"))
    endpoint("http://127.0.0.1:9/paused", active=False)
    flag = FlagFactory(pilot=pilot, kind="stale", detail="No reading for 30 days.")

    with django_capture_on_commit_callbacks(execute=True):
        webhooks_announce_flags.apply(args=[[flag.pk], []])

    deliveries = WebhookDelivery.objects.order_by("endpoint__url")
    assert [d.endpoint for d in deliveries] == [everything, same_unit]
    assert sorted(queued) == sorted(d.pk for d in deliveries)
    body = deliveries[0].payload
    assert (body["event"], body["id"]) == ("flag.raised", f"flag.raised:{flag.pk}")
    assert body["data"]["pilot"]["key"] == "invoice-matching"
    assert body["data"]["flag"]["kind"] == "stale"
    assert body["text"] == (
        "Flag raised on Invoice matching: Stale (warning) — No reading for 30 days. "
        "http://127.0.0.1:8000/pilots/invoice-matching/"
    )


def test_announcing_the_same_flags_twice_queues_each_delivery_once(pilot, queued, django_capture_on_commit_callbacks):
    endpoint()
    flag = FlagFactory(pilot=pilot)

    with django_capture_on_commit_callbacks(execute=True):
        webhooks_announce_flags.apply(args=[[flag.pk], []])
        webhooks_announce_flags.apply(args=[[flag.pk], []])

    assert WebhookDelivery.objects.count() == 1
    assert len(queued) == 1


def test_a_resolved_flag_is_announced_as_resolved(pilot, queued):
    endpoint()
    flag = FlagFactory(pilot=pilot, kind="no_owner", severity="critical")

    webhooks_announce_flags.apply(args=[[], [flag.pk]])

    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "flag.resolved"
    assert delivery.payload["text"].startswith("Flag resolved on Invoice matching: No owner")


def test_an_event_is_published_only_once_the_transaction_commits(published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        webhooks.event_emit_after_commit("gate.decided", {"decision": "hold", "on": TODAY}, None)
        assert published == []

    for callback in callbacks:
        callback()
    [(task, args)] = published
    assert task == "portfolio.tasks.webhooks_announce"
    assert args[1:3] == ["gate.decided", {"decision": "hold", "on": "2026-11-16"}]


def test_a_broker_that_is_down_does_not_fail_the_write(monkeypatch, caplog, django_capture_on_commit_callbacks):
    from portfolio.celery import app

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(app, "send_task", refuse)

    with django_capture_on_commit_callbacks(execute=True):
        webhooks.event_emit_after_commit("gate.decided", {"decision": "hold"}, None)

    assert "Could not queue the webhook task" in caplog.text


def test_an_unknown_event_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhooks.event_emit_after_commit("pilot.exploded", {}, None)


def test_a_gate_decision_reads_as_a_sentence_with_a_link(pilot, pmo, queued):
    endpoint()
    data = webhooks.gate_decision_payload(
        pilot=pilot,
        decision="advance",
        from_phase="poc",
        to_phase="pilot",
        decided_by=pmo,
        decided_on=TODAY,
        rationale="All criteria met.",
    )

    webhooks_announce.apply(args=["e-1", "gate.decided", data, webhooks.event_text("gate.decided", data), None])

    assert WebhookDelivery.objects.get().payload["text"] == (
        "Gate decision on Invoice matching: advance (poc → pilot) by paula. All criteria met. "
        "http://127.0.0.1:8000/pilots/invoice-matching/"
    )


# -- delivering to a real HTTP server on localhost ------------------------------------------------


def test_a_receiver_can_verify_the_signature_of_what_it_receives(db):
    with receiving() as receiver:
        endpoint(receiver.url)
        delivery = delivery_to(receiver.url)

        assert deliver_webhook.apply(args=[delivery.pk]).get() == "delivered"

    [received] = receiver.received
    assert received.signed_with(SECRET)
    assert not received.signed_with("another secret")
    assert received.headers["X-Portfolio-Event"] == "gate.decided"
    assert received.headers["Content-Type"].startswith("application/json")
    assert received.json["text"] == "A decision"
    assert received.json["id"] == "gate.decided:1"
    delivery.refresh_from_db()
    assert (delivery.status_code, delivery.attempts, delivery.last_error) == (200, 1, "")
    assert delivery.delivered_at is not None
    assert delivery.response_ms is not None


def test_a_500_is_retried_until_the_receiver_accepts(db):
    with receiving(500, 503) as receiver:
        endpoint(receiver.url)
        delivery = delivery_to(receiver.url)

        assert deliver_webhook.apply(args=[delivery.pk]).get() == "delivered"

    assert len(receiver.received) == 3
    assert len({r.json["id"] for r in receiver.received}) == 1
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status_code) == (3, 200)


def test_a_receiver_that_does_not_answer_in_time_is_retried(db, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    with receiving(("sleep", 1.5)) as receiver:
        endpoint(receiver.url)
        delivery = delivery_to(receiver.url)

        assert deliver_webhook.apply(args=[delivery.pk]).get() == "delivered"

    assert len(receiver.received) == 2
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status_code) == (2, 200)


def test_a_timeout_is_logged_with_the_time_waited(db, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    with receiving(("sleep", 1.5)) as receiver:
        endpoint(receiver.url)
        delivery = delivery_to(receiver.url)

        attempt = webhooks.delivery_attempt(delivery.pk)

    assert (attempt.delivered, attempt.retry) == (False, True)
    delivery.refresh_from_db()
    assert "timed out" in delivery.last_error
    assert delivery.response_ms >= 300


def test_it_gives_up_after_the_last_attempt_and_keeps_the_error(db, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    with receiving(503, 503, 503, 503) as receiver:
        endpoint(receiver.url)
        delivery = delivery_to(receiver.url)

        assert deliver_webhook.apply(args=[delivery.pk]).get() == "gave up"

    assert len(receiver.received) == 3
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status_code, delivery.delivered_at) == (3, 503, None)
    assert delivery.last_error == "The endpoint answered 503."


def test_a_refusal_such_as_404_is_not_retried(db):
    with receiving(404) as receiver:
        endpoint(receiver.url)
        delivery = delivery_to(receiver.url)

        assert deliver_webhook.apply(args=[delivery.pk]).get() == "failed"

    assert len(receiver.received) == 1


def test_a_closed_port_is_retried_like_a_timeout(db, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    endpoint(url)
    delivery = delivery_to(url)

    assert deliver_webhook.apply(args=[delivery.pk]).get() == "gave up"

    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.last_error.startswith("No answer")


def test_a_delivered_event_is_not_sent_again_by_a_redelivered_task(db):
    with receiving() as receiver:
        endpoint(receiver.url)
        delivery = delivery_to(receiver.url)
        deliver_webhook.apply(args=[delivery.pk])

        deliver_webhook.apply(args=[delivery.pk])

    assert len(receiver.received) == 1


def test_a_paused_endpoint_is_not_called(db):
    with receiving() as receiver:
        hook = endpoint(receiver.url)
        delivery = delivery_to(receiver.url)
        hook.active = False
        hook.save()

        assert deliver_webhook.apply(args=[delivery.pk]).get() == "failed"

    assert receiver.received == []


def test_backoff_doubles_up_to_its_ceiling(settings):
    settings.WEBHOOK_RETRY_BACKOFF_MAX_SECONDS = 100

    assert [webhooks.backoff_seconds(n) for n in range(5)] == [10, 20, 40, 80, 100]


def test_the_signature_is_the_hmac_sha256_of_the_body_in_hex():
    # The same figure a receiver computes with: hmac.new(secret, body, sha256).hexdigest()
    assert webhooks.signature("key", b"The quick brown fox jumps over the lazy dog") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_events_of_pilots_started_long_ago_still_carry_iso_dates(pilot, queued):
    endpoint()
    flag = FlagFactory(pilot=pilot, raised_at=dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC))

    webhooks_announce_flags.apply(args=[[flag.pk], []])

    assert WebhookDelivery.objects.get().payload["data"]["flag"]["raised_at"] == "2026-01-01T09:00:00+00:00"


def test_a_unit_specific_endpoint_ignores_events_without_a_unit(db, queued, pmo):
    endpoint(business_unit=BusinessUnitFactory(name="Finance"))

    webhooks_announce.apply(args=["e-2", "gate.decided", {}, "text", None])

    assert not WebhookDelivery.objects.exists()


def test_the_pilot_of_a_flag_event_is_in_the_payload(pilot, queued):
    endpoint()
    other = PilotFactory(key="other", business_unit=pilot.business_unit)
    FlagFactory(pilot=other)

    webhooks_announce_flags.apply(args=[list(other.flags.values_list("id", flat=True)), []])

    assert WebhookDelivery.objects.get().payload["data"]["pilot"]["key"] == "other"
