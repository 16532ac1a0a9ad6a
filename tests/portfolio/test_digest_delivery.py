"""Sending a week's digests once: the claim and its lease, re-runs, crashes, failures and their retries."""

from __future__ import annotations

import datetime as dt
import smtplib
from email import message_from_bytes, policy

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone

from portfolio.digests import delivery
from portfolio.digests.delivery import LEASE, retry_delay, send_one, send_week
from portfolio.digests.plan import plan_week
from portfolio.models import DigestDelivery, DigestKind
from tests.factories import TODAY, DigestDeliveryFactory, FlagFactory, PilotFactory, UserFactory

NOON = dt.datetime.combine(TODAY, dt.time(12, 0), tzinfo=dt.UTC)


@pytest.fixture
def week(owner, sponsor, executive, pilot, frozen_today):
    """Three digests are due: the owner's, the sponsor's and the executive's."""
    FlagFactory(pilot=pilot, kind="stale")
    return pilot


def statuses(report) -> dict[tuple[str, str], str]:
    return {(outcome.username, outcome.kind): outcome.status for outcome in report.outcomes}


class RefusingBackend(EmailBackend):
    """Accepts every mail but those to ``refused``, like a server that refuses one recipient."""

    def __init__(self, refused: set[str], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.refused = refused

    def send_messages(self, messages):
        for message in messages:
            if any(address in to for to in message.to for address in self.refused):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"5.1.1 No such user")})
        return super().send_messages(messages)


class WorkerKilled(BaseException):
    """What a killed worker looks like from inside: nothing after it runs."""


class DyingBackend(EmailBackend):
    def send_messages(self, messages):
        raise WorkerKilled


def test_it_sends_each_digest_once_and_keeps_it(week):
    report = send_week(as_of=TODAY)

    assert statuses(report) == {
        ("erin", "executive"): "sent",
        ("olivia", "owner"): "sent",
        ("sam", "owner"): "sent",
    }
    assert sorted(message.to[0] for message in mail.outbox) == [
        "Erin Executive <erin@example.com>",
        "Olivia Owner <olivia@example.com>",
        "Sam Sponsor <sam@example.com>",
    ]
    row = DigestDelivery.objects.get(recipient__username="olivia")
    assert (row.kind, row.period, row.attempts, row.claimed_until, row.last_error) == ("owner", "2026-W47", 1, None, "")
    assert row.sent_at == timezone.now()
    assert row.subject == mail.outbox[[m.to[0] for m in mail.outbox].index("Olivia Owner <olivia@example.com>")].subject
    assert "Invoice matching" in row.html_body
    assert "Invoice matching" in row.text_body


def test_a_second_run_in_the_same_week_sends_nothing(week):
    send_week(as_of=TODAY)

    report = send_week(as_of=TODAY + dt.timedelta(days=3))

    assert set(statuses(report).values()) == {"already sent"}
    assert len(mail.outbox) == 3
    assert DigestDelivery.objects.count() == 3


def test_the_next_week_sends_again(week):
    send_week(as_of=TODAY)

    send_week(as_of=TODAY + dt.timedelta(days=7))

    assert len(mail.outbox) == 6
    assert set(DigestDelivery.objects.values_list("period", flat=True)) == {"2026-W47", "2026-W48"}


def test_nobody_gets_an_owner_digest_when_no_pilot_has_an_open_flag(owner, sponsor, pilot, frozen_today):
    report = send_week(as_of=TODAY)

    assert report.outcomes == []
    assert mail.outbox == []


def test_a_digest_claimed_by_a_run_in_progress_is_left_to_it_and_checked_after_its_lease(week, owner):
    DigestDeliveryFactory(recipient=owner, period="2026-W47", claimed_until=NOON + dt.timedelta(minutes=10))

    report = send_week(as_of=TODAY)

    busy = next(outcome for outcome in report.outcomes if outcome.username == "olivia")
    assert busy.status == delivery.BUSY
    assert busy.retry_in == 10 * 60 + delivery.LEASE_GRACE_SECONDS
    assert len(mail.outbox) == 2


def test_a_claim_left_by_a_crashed_run_is_taken_over_once_its_lease_runs_out(week, owner):
    crashed = DigestDeliveryFactory(recipient=owner, period="2026-W47", claimed_until=NOON + LEASE, attempts=1)

    with time_machine.travel(NOON + LEASE - dt.timedelta(seconds=1), tick=False):
        send_week(as_of=TODAY)
    assert "olivia@example.com" not in " ".join(m.to[0] for m in mail.outbox)

    with time_machine.travel(NOON + LEASE + dt.timedelta(seconds=1), tick=False):
        report = send_week(as_of=TODAY)

    assert statuses(report)[("olivia", "owner")] == "sent"
    crashed.refresh_from_db()
    assert crashed.sent_at is not None
    assert crashed.attempts == 2
    assert len(mail.outbox) == 3


def test_a_worker_killed_mid_send_leaves_its_digest_for_the_next_run_after_the_lease(week):
    with pytest.raises(WorkerKilled):
        send_week(as_of=TODAY, connection=DyingBackend())
    claimed = DigestDelivery.objects.get(claimed_until__isnull=False)
    # The content it was about to send is kept with the claim.
    assert claimed.subject
    assert claimed.sent_at is None

    send_week(as_of=TODAY)
    assert claimed.recipient.email not in " ".join(m.to[0] for m in mail.outbox)
    assert len(mail.outbox) == 2

    with time_machine.travel(NOON + LEASE + dt.timedelta(minutes=1), tick=False):
        send_week(as_of=TODAY)

    assert len(mail.outbox) == 3
    assert not DigestDelivery.objects.filter(sent_at__isnull=True).exists()


def test_a_refused_recipient_is_recorded_and_retried_and_the_others_still_go_out(week):
    report = send_week(as_of=TODAY, connection=RefusingBackend({"olivia@example.com"}))

    refused = DigestDelivery.objects.get(recipient__username="olivia")
    assert refused.sent_at is None
    assert refused.claimed_until is None
    assert "SMTPRecipientsRefused" in refused.last_error
    assert "No such user" in refused.last_error
    assert statuses(report) == {("erin", "executive"): "sent", ("olivia", "owner"): "failed", ("sam", "owner"): "sent"}
    assert report.retries == [(refused.pk, 60)]


def test_a_retry_sends_the_stored_digest_once(week):
    send_week(as_of=TODAY, connection=RefusingBackend({"olivia@example.com"}))
    refused = DigestDelivery.objects.get(recipient__username="olivia")

    first = send_one(refused.pk)
    second = send_one(refused.pk)

    assert (first.status, second.status) == ("sent", "already sent")
    assert [m.subject for m in mail.outbox if "olivia" in m.to[0]] == [refused.subject]
    refused.refresh_from_db()
    assert (refused.attempts, refused.last_error) == (2, "")


def test_a_retry_that_fails_again_backs_off_further(week):
    send_week(as_of=TODAY, connection=RefusingBackend({"olivia@example.com"}))
    refused = DigestDelivery.objects.get(recipient__username="olivia")

    outcome = send_one(refused.pk, connection=RefusingBackend({"olivia@example.com"}))

    assert (outcome.status, outcome.retry_in) == ("failed", 120)


def test_retries_back_off_and_give_up_well_within_the_visibility_timeout():
    delays = [retry_delay(attempts) for attempts in range(1, 8)]

    assert delays == [60, 120, 240, 480, 960, None, None]
    assert max(d for d in delays if d) * 1.1 < settings.CELERY_VISIBILITY_TIMEOUT
    assert LEASE.total_seconds() + delivery.LEASE_GRACE_SECONDS < settings.CELERY_VISIBILITY_TIMEOUT


def test_the_dry_run_lists_recipients_and_subjects_and_writes_nothing(week):
    report = send_week(as_of=TODAY, dry_run=True)

    assert statuses(report) == {
        ("erin", "executive"): "would send",
        ("olivia", "owner"): "would send",
        ("sam", "owner"): "would send",
    }
    assert all(outcome.subject.startswith(("Week 47", "Portfolio week 47")) for outcome in report.outcomes)
    assert mail.outbox == []
    assert not DigestDelivery.objects.exists()


def test_the_dry_run_says_what_was_already_sent(week):
    send_week(as_of=TODAY)

    report = send_week(as_of=TODAY, dry_run=True)

    assert set(statuses(report).values()) == {"already sent"}


def test_a_user_without_an_email_address_is_skipped_without_a_row(owner, pilot, week):
    owner.email = ""
    owner.save()

    report = send_week(as_of=TODAY)

    assert statuses(report)[("olivia", "owner")] == delivery.NO_ADDRESS
    assert not DigestDelivery.objects.filter(recipient=owner).exists()


def test_the_mail_has_text_html_and_the_chart_as_an_inline_image(week):
    send_week(as_of=TODAY)

    message = next(m for m in mail.outbox if m.to[0].startswith("Erin"))
    parsed = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/related"
    html = parsed.get_body(preferencelist=("html",)).get_content()
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    image = next(part for part in parsed.walk() if part.get_content_type() == "image/png")
    content_id = image["Content-ID"].strip("<>")
    assert f'src="cid:{content_id}"' in html
    assert "data:image/png" not in html
    assert image.get_content_disposition() == "inline"
    assert image.get_content().startswith(b"\x89PNG")
    assert "PILOTS BY PHASE AND STATUS" in text
    assert parsed["Auto-Submitted"] == "auto-generated"
    # The archive keeps the chart inside the HTML, so it reads without the mail.
    assert "data:image/png;base64," in DigestDelivery.objects.get(kind=DigestKind.EXECUTIVE).html_body


def test_the_owner_digest_has_no_image_part(week):
    send_week(as_of=TODAY)

    message = next(m for m in mail.outbox if m.to[0].startswith("Olivia"))
    parsed = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"


def test_an_executive_digest_reports_since_the_previous_one(week, executive):
    last_week = DigestDeliveryFactory(
        recipient=executive, kind="executive", period="2026-W46", sent_at=NOON - dt.timedelta(days=6)
    )

    plan = plan_week(as_of=TODAY)

    digest = next(d for d in plan.digests if d.kind == DigestKind.EXECUTIVE)
    assert last_week.sent_at.date() == dt.date(2026, 11, 10)
    assert "since your last digest on Tue 10 Nov" in digest.rendered.text


def test_planning_takes_the_same_queries_for_a_bigger_portfolio(executive, frozen_today, django_assert_num_queries):
    def add_flagged_pilots(count: int) -> None:
        for _ in range(count):
            FlagFactory(pilot=PilotFactory(owner=UserFactory(), sponsor=UserFactory()), kind="stale")

    add_flagged_pilots(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        plan_week(as_of=TODAY)
    add_flagged_pilots(6)

    with django_assert_num_queries(len(small.captured_queries)):
        plan = plan_week(as_of=TODAY)

    assert len(plan.digests) == 17
