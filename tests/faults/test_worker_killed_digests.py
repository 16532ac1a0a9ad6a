"""A worker is killed (SIGKILL) in the middle of the weekly digest run; another takes over.

A real worker sends the digests to a real, slow SMTP server. It is killed while the
server is taking one message; the run's message was never acknowledged, so once the
visibility timeout has passed it comes back from Redis to a new worker, which sends what
is left: the digest that was being taken once its claim (lease) has run out, the others at
once. Lease and visibility timeout are shortened through the environment, as an
operator could; the code path is the production one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from portfolio.celery import app
from portfolio.models import DigestDelivery, ScanRun
from tests.factories import PilotFactory, UserFactory
from tests.faults.servers import kill, mail_server
from tests.workers import running_worker, wait_for

pytestmark = pytest.mark.integration

OWNERS = 4
# Every owner, the sponsor they share and one executive.
RECIPIENTS = OWNERS + 2
LEASE_SECONDS = 3
VISIBILITY_SECONDS = 6


@pytest.fixture
def week_with_flags(shared_database):
    """Pilots with no KPI and no reading for 60 days: the worker's first scan flags them all."""
    started = timezone.localdate() - dt.timedelta(days=60)
    sponsor = UserFactory(username="sam")
    for number in range(OWNERS):
        PilotFactory(
            key=f"pilot-{number}", owner=UserFactory(username=f"owner{number}"), sponsor=sponsor, started_on=started
        )
    UserFactory(username="erin", roles=["executive"])


def queue_the_weekly_digests() -> None:
    """What beat sends on Monday morning: the scheduled task with the entry's options."""
    entry = settings.CELERY_BEAT_SCHEDULE["send-weekly-digests"]
    app.send_task(entry["task"], **entry["options"])


def worker_env(email_url: str) -> dict[str, str]:
    return {
        "EMAIL_URL": email_url,
        "DIGEST_LEASE_SECONDS": str(LEASE_SECONDS),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
    }


def digest_runs(log: Path) -> set[str]:
    """The ids of the digest runs a worker received, from its log."""
    return set(re.findall(r"send_weekly_digests\[([0-9a-f-]+)\] received", log.read_text()))


def all_sent() -> bool:
    return (
        DigestDelivery.objects.count() == RECIPIENTS
        and not DigestDelivery.objects.filter(sent_at__isnull=True).exists()
    )


def test_after_a_worker_is_killed_mid_run_every_recipient_gets_exactly_one_digest(own_redis, week_with_flags, tmp_path):
    with mail_server(delay=0.3) as (mailbox, email_url):
        # Two digests delivered, the third in the server's hands and never accepted.
        mailbox.hold = 3
        first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"
        with running_worker(own_redis.url(), first_log, env=worker_env(email_url)) as first:
            assert wait_for(lambda: ScanRun.objects.filter(finished_at__isnull=False).exists(), timeout=30)
            queue_the_weekly_digests()
            assert wait_for(lambda: mailbox.begun == 3, timeout=30), first_log.read_text()
            kill(first)
        assert len(mailbox.received) == 2
        interrupted = DigestDelivery.objects.get(sent_at=None, claimed_until__isnull=False)
        assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == 2

        with running_worker(own_redis.url(), second_log, env=worker_env(email_url), flush=False):
            assert wait_for(all_sent, timeout=60), second_log.read_text()

    assert sorted(Counter(mailbox.recipients()).values()) == [1] * RECIPIENTS
    assert set(mailbox.recipients()) == set(DigestDelivery.objects.values_list("recipient__email", flat=True))
    interrupted.refresh_from_db()
    assert interrupted.attempts == 2
    # Taken over by the run of the worker that died, come back from Redis, not by a new one.
    assert len(digest_runs(first_log)) == 1
    assert digest_runs(second_log) == digest_runs(first_log)


def test_a_worker_killed_after_the_server_took_a_digest_but_before_it_said_so_sends_that_one_twice(
    own_redis, week_with_flags, tmp_path
):
    """The at-least-once window of DESIGN 6, shown rather than hidden: only the digest in flight is doubled."""
    with mail_server(delay=0.2) as (mailbox, email_url):
        first_log, second_log = tmp_path / "worker-1.log", tmp_path / "worker-2.log"
        with running_worker(own_redis.url(), first_log, env=worker_env(email_url)) as first:
            assert wait_for(lambda: ScanRun.objects.filter(finished_at__isnull=False).exists(), timeout=30)

            def crash_on_the_second(taken: int) -> None:
                if taken == 2:
                    kill(first)
                    mailbox.after_taking = None

            mailbox.after_taking = crash_on_the_second
            queue_the_weekly_digests()
            assert wait_for(lambda: first.poll() is not None, timeout=30), first_log.read_text()
        in_flight = mailbox.received[1][0]
        assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == 1

        with running_worker(own_redis.url(), second_log, env=worker_env(email_url), flush=False):
            assert wait_for(all_sent, timeout=60), second_log.read_text()

    deliveries = Counter(mailbox.recipients())
    assert deliveries.pop(in_flight) == 2
    assert sorted(deliveries.values()) == [1] * (RECIPIENTS - 1)
    # Both copies carry the same Message-ID, so the recipient's mail client shows one.
    copies = {mid for (to, _), mid in zip(mailbox.received, mailbox.message_ids, strict=True) if to == in_flight}
    assert len(copies) == 1
    assert len(set(mailbox.message_ids)) == RECIPIENTS
