"""Digests through a real SMTP server on localhost (aiosmtpd): accepted, refused, and not there at all."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import environ
import pytest
from aiosmtpd.controller import Controller

from portfolio.digests.delivery import send_week
from portfolio.models import DigestDelivery
from tests.factories import TODAY, FlagFactory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler (its hooks are named by aiosmtpd) that keeps what it accepts and refuses some recipients."""

    def __init__(self, refuse: set[str] | None = None) -> None:
        self.refuse = refuse or set()
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings) -> Iterator[tuple[Mailbox, int]]:
    """Start a server on a free port and point the email settings at it, as EMAIL_URL would."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    for name, value in environ.Env.email_url_config(f"smtp://127.0.0.1:{port}").items():
        setattr(settings, name, value)
    settings.EMAIL_TIMEOUT = 5
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture
def week(owner, sponsor, executive, pilot, frozen_today):
    FlagFactory(pilot=pilot, kind="stale")
    return pilot


def test_the_digests_arrive_at_a_real_smtp_server_with_the_chart_inline(smtp_server, week, settings):
    mailbox, _ = smtp_server

    report = send_week(as_of=TODAY)

    assert {outcome.status for outcome in report.outcomes} == {"sent"}
    by_recipient = {rcpt_tos[0]: message for _, rcpt_tos, message in mailbox.received}
    assert sorted(by_recipient) == ["erin@example.com", "olivia@example.com", "sam@example.com"]
    assert {mail_from for mail_from, _, _ in mailbox.received} == {"portfolio@localhost"}

    owner_mail = by_recipient["olivia@example.com"]
    assert owner_mail["Subject"] == "Week 47: Invoice matching needs you"
    assert owner_mail["To"] == "Olivia Owner <olivia@example.com>"
    assert "Record the latest KPI readings." in owner_mail.get_body(preferencelist=("plain",)).get_content()

    executive_mail = by_recipient["erin@example.com"]
    assert executive_mail["Subject"].startswith("Portfolio week 47:")
    html = executive_mail.get_body(preferencelist=("html",)).get_content()
    image = next(part for part in executive_mail.walk() if part.get_content_type() == "image/png")
    assert image.get_content_disposition() == "inline"
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    assert image.get_content().startswith(b"\x89PNG")

    sent = DigestDelivery.objects.filter(sent_at__isnull=False)
    assert sent.count() == 3
    assert set(sent.values_list("subject", flat=True)) == {m["Subject"] for _, _, m in mailbox.received}


def test_a_refused_recipient_is_recorded_and_the_others_still_arrive(smtp_server, week):
    mailbox, _ = smtp_server
    mailbox.refuse = {"olivia@example.com"}

    report = send_week(as_of=TODAY)

    assert sorted(rcpt_tos[0] for _, rcpt_tos, _ in mailbox.received) == ["erin@example.com", "sam@example.com"]
    refused = DigestDelivery.objects.get(recipient__username="olivia")
    assert refused.sent_at is None
    assert "550" in refused.last_error
    assert "No such user here" in refused.last_error
    assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == 2
    assert [(delivery_id, seconds) for delivery_id, seconds in report.retries] == [(refused.pk, 60)]


def test_a_mail_server_that_is_down_marks_nothing_sent_and_records_the_error(week, settings):
    for name, value in environ.Env.email_url_config(f"smtp://127.0.0.1:{free_port()}").items():
        setattr(settings, name, value)

    report = send_week(as_of=TODAY)

    rows = list(DigestDelivery.objects.order_by("recipient__username"))
    assert len(rows) == 3
    assert all(row.sent_at is None and row.claimed_until is None for row in rows)
    assert all("Connection refused" in row.last_error or "Errno" in row.last_error for row in rows)
    assert {outcome.status for outcome in report.outcomes} == {"failed"}
    assert len(report.retries) == 3


def test_once_the_server_is_back_the_next_run_sends_what_failed(smtp_server, week, settings):
    mailbox, port = smtp_server
    settings.EMAIL_PORT = free_port()
    send_week(as_of=TODAY)
    assert DigestDelivery.objects.filter(sent_at__isnull=True).count() == 3

    settings.EMAIL_PORT = port
    send_week(as_of=TODAY)

    assert len(mailbox.received) == 3
    assert not DigestDelivery.objects.filter(sent_at__isnull=True).exists()


def test_each_digest_carries_a_message_id_of_its_own_that_a_resend_repeats(smtp_server, week, settings):
    """A digest sent twice (a worker killed after the server took it) is one message to a mail client."""
    mailbox, _ = smtp_server
    settings.SITE_URL = "https://portfolio.example.com"

    send_week(as_of=TODAY)
    first = {rcpt_tos[0]: message["Message-ID"] for _, rcpt_tos, message in mailbox.received}
    rows = {row.recipient.email: row.pk for row in DigestDelivery.objects.select_related("recipient")}
    assert first == {email: f"<digest-{pk}@portfolio.example.com>" for email, pk in rows.items()}
    assert len(set(first.values())) == 3

    # As after a crash between the server's answer and the row marked sent: the next run sends it again.
    DigestDelivery.objects.filter(recipient__email="olivia@example.com").update(sent_at=None, claimed_until=None)
    send_week(as_of=TODAY)

    again = [message["Message-ID"] for _, rcpt_tos, message in mailbox.received[3:]]
    assert again == [first["olivia@example.com"]]
