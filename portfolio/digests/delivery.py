"""Delivering each digest once: claim with a lease, send, mark sent only after the mail server accepted it.

Once per recipient, kind and ISO week (the unique DigestDelivery row). A digest is
claimed by compare-and-set: the row's ``claimed_until`` lease is taken only if the row
is unsent and nobody else holds an unexpired lease, so two runs at once, a retried task
or a second beat never both send it. A run that dies mid-send leaves a lease that
expires after 15 minutes, and the next attempt sends the digest again: at worst one
digest twice, never one lost. A failure records its error, releases the lease and asks
for a retry with backoff; one refused address does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from dataclasses import dataclass, field
from email.mime.image import MIMEImage
from email.utils import formataddr
from urllib.parse import urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import F, Q
from django.utils import timezone

from portfolio.models import DigestDelivery

from .content import Links
from .period import iso_week
from .plan import PlannedDigest, plan_week
from .render import RenderedDigest, inline_images

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=settings.DIGEST_LEASE_SECONDS)
MAX_ATTEMPTS = 6
# 1, 2, 4, 8, 16 then 30 minutes: well under the broker's visibility timeout (DESIGN 10).
FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 30 * 60
# After a lease held by another run runs out, look again a little later.
LEASE_GRACE_SECONDS = 30

# Refusals of this one message; anything else from the mail server (refused connection,
# timeout, dropped session, failed login) means the server is unavailable to every digest.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)

SENT = "sent"
ALREADY_SENT = "already sent"
BUSY = "being sent by another run"
FAILED = "failed"
WOULD_SEND = "would send"
NO_ADDRESS = "skipped: no email address"
GONE = "skipped: no such digest"


@dataclass
class Outcome:
    username: str
    email: str
    kind: str
    subject: str
    status: str
    error: str = ""
    delivery_id: int | None = None
    # Seconds until this digest should be tried again, or None.
    retry_in: int | None = None


@dataclass
class RunReport:
    as_of: dt.date
    period: str
    dry_run: bool = False
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def retries(self) -> list[tuple[int, int]]:
        """(delivery id, seconds) of every digest to try again."""
        return [
            (outcome.delivery_id, outcome.retry_in)
            for outcome in self.outcomes
            if outcome.delivery_id is not None and outcome.retry_in is not None
        ]


def retry_delay(attempts: int) -> int | None:
    """Seconds before the next try after ``attempts`` tries, doubling from a minute; None once we give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), LONGEST_RETRY_SECONDS)


def lease_wait(claimed_until: dt.datetime | None, now: dt.datetime) -> int:
    """Seconds until another run's lease has run out, plus a little grace."""
    remaining = (claimed_until - now).total_seconds() if claimed_until else 0
    return max(int(remaining), 0) + LEASE_GRACE_SECONDS


# --- The claim and its two endings ---------------------------------------------------


def claim(delivery_id: int, *, now: dt.datetime, rendered: RenderedDigest | None = None) -> bool:
    """Take the digest's lease if it is unsent and free; with ``rendered``, store what is about to be sent.

    One UPDATE, so the check and the claim are atomic on every database; the content is
    written only by the run that won the claim, and a claimed row always has its content.
    """
    changes: dict[str, object] = {"claimed_until": now + LEASE, "attempts": F("attempts") + 1}
    if rendered is not None:
        changes.update(subject=rendered.subject[:200], html_body=rendered.html, text_body=rendered.text)
    claimed = (
        DigestDelivery.objects.filter(pk=delivery_id, sent_at=None)
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .update(**changes)
    )
    return claimed == 1


def mark_sent(delivery_id: int) -> None:
    DigestDelivery.objects.filter(pk=delivery_id, sent_at=None).update(
        sent_at=timezone.now(), claimed_until=None, last_error=""
    )


def record_failure(delivery_id: int, error: str) -> None:
    """Keep the error and release the lease, so a retry need not wait for it to run out."""
    DigestDelivery.objects.filter(pk=delivery_id, sent_at=None).update(claimed_until=None, last_error=error[:2000])


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# --- The mail -----------------------------------------------------------------------


def message_id(delivery_id: int) -> str:
    """The same Message-ID every time a digest is sent, so a mail client drops a copy sent twice.

    A digest goes out at least once: a worker killed after the mail server accepted it and
    before the row was marked sent leaves the next run to send it again.
    """
    host = urlsplit(settings.SITE_URL).hostname or "pilot-portfolio.invalid"
    return f"<digest-{delivery_id}@{host}>"


def compose(
    *,
    subject: str,
    html: str,
    text: str,
    name: str,
    email: str,
    delivery_id: int,
    connection: BaseEmailBackend | None = None,
) -> EmailMultiAlternatives:
    """The mail of one digest: text and HTML alternatives, the chart as an inline image the HTML points at."""
    html, images = inline_images(html)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((name, email))],
        connection=connection,
        headers={
            # Out-of-office replies should not answer a robot.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "List-Unsubscribe": f"<{Links(settings.SITE_URL).preferences}>",
            "Message-ID": message_id(delivery_id),
        },
    )
    message.attach_alternative(html, "text/html")
    if images:
        # multipart/related keeps the image beside the HTML that shows it, not as an attachment.
        message.mixed_subtype = "related"
        for content_id, data in images:
            image = MIMEImage(data, "png")
            image.add_header("Content-ID", f"<{content_id}>")
            image.add_header("Content-Disposition", "inline", filename="portfolio-chart.png")
            message.attach(image)
    return message


def _deliver(message: EmailMultiAlternatives, connection: BaseEmailBackend) -> None:
    if connection.send_messages([message]) != 1:
        raise smtplib.SMTPException("The mail server accepted nothing")


# --- A week's run --------------------------------------------------------------------


def send_week(
    *, as_of: dt.date | None = None, dry_run: bool = False, connection: BaseEmailBackend | None = None
) -> RunReport:
    """Send every digest of the ISO week of ``as_of`` that has not been sent; a dry run only reports."""
    now = timezone.now()
    as_of = as_of or timezone.localdate(now)
    period = iso_week(as_of)
    existing = {(row.recipient_id, row.kind): row for row in _rows(period)}
    sent_already = {key for key, row in existing.items() if row.sent_at is not None}
    plan = plan_week(as_of=as_of, now=now, skip=sent_already)
    report = RunReport(as_of=as_of, period=period, dry_run=dry_run)

    if dry_run:
        for digest in plan.digests:
            row = existing.get(digest.key)
            report.outcomes.append(_dry_outcome(digest, row, now))
        return report

    rows = _ensure_rows(plan.period, [d for d in plan.digests if d.recipient.email], existing)
    connection = connection or get_connection()
    opened = False
    server_error: str | None = None
    try:
        for digest in plan.digests:
            person = digest.recipient
            outcome = Outcome(person.username, person.email, digest.kind, "", ALREADY_SENT)
            report.outcomes.append(outcome)
            if not person.email:
                outcome.status = NO_ADDRESS
                continue
            row = rows[digest.key]
            outcome.delivery_id = row.pk
            if digest.rendered is None or row.sent_at is not None:
                outcome.subject = row.subject
                continue
            outcome.subject = digest.rendered.subject
            if not claim(row.pk, now=timezone.now(), rendered=digest.rendered):
                _explain_lost_claim(outcome, row.pk)
                continue
            attempts = row.attempts + 1
            if server_error is not None:
                _fail(outcome, f"Not tried: the mail server was unavailable ({server_error})", attempts)
                continue
            try:
                message = compose(
                    subject=digest.rendered.subject,
                    html=digest.rendered.html,
                    text=digest.rendered.text,
                    name=person.name,
                    email=person.email,
                    delivery_id=row.pk,
                    connection=connection,
                )
                if not opened:
                    connection.open()
                    opened = True
                _deliver(message, connection)
            except SoftTimeLimitExceeded:
                raise
            except MESSAGE_ERRORS as exc:
                _fail(outcome, describe(exc), attempts)
            except OSError as exc:
                server_error = describe(exc)
                _fail(outcome, server_error, attempts)
                _close_quietly(connection)
                opened = False
            except Exception as exc:
                # A fault in one digest (a bad header, a bug) must not keep the others from going out.
                logger.exception("Digest %s could not be sent", row.pk)
                _fail(outcome, describe(exc), attempts)
            else:
                mark_sent(row.pk)
                outcome.status = SENT
    finally:
        if opened:
            _close_quietly(connection)
    return report


def _rows(period: str) -> list[DigestDelivery]:
    return list(
        DigestDelivery.objects.filter(period=period).only(
            "id", "recipient_id", "kind", "period", "subject", "sent_at", "claimed_until", "attempts"
        )
    )


def _ensure_rows(
    period: str, digests: list[PlannedDigest], existing: dict[tuple[int, str], DigestDelivery]
) -> dict[tuple[int, str], DigestDelivery]:
    """A row for every digest of the week, created in one statement; a row another run inserted first is kept."""
    missing = [
        DigestDelivery(recipient_id=digest.recipient.id, kind=digest.kind, period=period)
        for digest in digests
        if digest.key not in existing
    ]
    if not missing:
        return existing
    DigestDelivery.objects.bulk_create(missing, ignore_conflicts=True)
    return {(row.recipient_id, row.kind): row for row in _rows(period)}


def _explain_lost_claim(outcome: Outcome, delivery_id: int) -> None:
    row = DigestDelivery.objects.filter(pk=delivery_id).values("sent_at", "claimed_until").first()
    if row is None or row["sent_at"] is not None:
        outcome.status = ALREADY_SENT
        return
    outcome.status = BUSY
    # If that run died, its lease runs out and this digest must still go out.
    outcome.retry_in = lease_wait(row["claimed_until"], timezone.now())


def _fail(outcome: Outcome, error: str, attempts: int) -> None:
    record_failure(outcome.delivery_id, error)
    outcome.status = FAILED
    outcome.error = error
    outcome.retry_in = retry_delay(attempts)


def _close_quietly(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except Exception:
        # Closing a connection the server already dropped may fail; nothing is lost.
        logger.debug("Closing the mail connection failed", exc_info=True)


def _dry_outcome(digest: PlannedDigest, row: DigestDelivery | None, now: dt.datetime) -> Outcome:
    person = digest.recipient
    outcome = Outcome(person.username, person.email, digest.kind, "", WOULD_SEND)
    if row is not None:
        outcome.delivery_id = row.pk
    if not person.email:
        outcome.status = NO_ADDRESS
    elif row is not None and row.sent_at is not None:
        outcome.status, outcome.subject = ALREADY_SENT, row.subject
    elif row is not None and row.claimed_until is not None and row.claimed_until >= now:
        outcome.status = BUSY
    if digest.rendered is not None and not outcome.subject:
        outcome.subject = digest.rendered.subject
    return outcome


# --- One digest again (the retries) --------------------------------------------------


def send_one(delivery_id: int, *, connection: BaseEmailBackend | None = None) -> Outcome:
    """Try one stored digest again: the content it was claimed with, to its recipient's current address."""
    row = DigestDelivery.objects.select_related("recipient").filter(pk=delivery_id).first()
    if row is None:
        return Outcome("", "", "", "", GONE, delivery_id=delivery_id)
    person = row.recipient
    name = person.get_full_name() or person.get_username()
    outcome = Outcome(person.get_username(), person.email, row.kind, row.subject, ALREADY_SENT, delivery_id=row.pk)
    if row.sent_at is not None:
        return outcome
    if not person.email or not person.is_active:
        outcome.status = NO_ADDRESS
        record_failure(row.pk, "Not sent: the recipient has no email address or is inactive")
        return outcome
    if not (row.html_body or row.text_body):
        # Never claimed with content: the next weekly run builds and sends it.
        outcome.status = GONE
        return outcome
    if not claim(row.pk, now=timezone.now()):
        _explain_lost_claim(outcome, row.pk)
        return outcome
    connection = connection or get_connection()
    try:
        message = compose(
            subject=row.subject,
            html=row.html_body,
            text=row.text_body,
            name=name,
            email=person.email,
            delivery_id=row.pk,
            connection=connection,
        )
        _deliver(message, connection)
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        if not isinstance(exc, OSError):
            logger.exception("Digest %s could not be sent", row.pk)
        _fail(outcome, describe(exc), row.attempts + 1)
    else:
        mark_sent(row.pk)
        outcome.status = SENT
    finally:
        _close_quietly(connection)
    return outcome
