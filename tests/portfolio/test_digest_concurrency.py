"""Digest runs at once on PostgreSQL (two beats, a manual run beside the scheduled one): each digest goes out once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection

from portfolio.digests.delivery import claim, send_week
from portfolio.models import DigestDelivery
from tests.factories import TODAY, DigestDeliveryFactory, FlagFactory, PilotFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
    # Real commits from several connections; the serialised rollback puts back the
    # rows of data migrations (groups, gate criteria) that the flush would drop.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

OWNERS = 8


@pytest.fixture
def busy_week():
    sponsor = UserFactory(username="sam")
    for number in range(OWNERS):
        pilot = PilotFactory(key=f"pilot-{number}", owner=UserFactory(username=f"owner{number}"), sponsor=sponsor)
        FlagFactory(pilot=pilot, kind="stale")
    UserFactory(username="erin", roles=["executive"])
    UserFactory(username="ezra", roles=["executive"])


def in_threads(target: Callable[[], object], count: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            # Each thread has its own connection; leave none open for the flush.
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_runs_at_the_same_time_send_each_digest_once(busy_week):
    expected = OWNERS + 1 + 2  # every owner, the sponsor and two executives
    for _round in range(3):
        DigestDelivery.objects.all().delete()
        mail.outbox = []

        errors = in_threads(lambda: send_week(as_of=TODAY), 3)

        assert errors == []
        deliveries = Counter(message.to[0] for message in mail.outbox)
        assert len(deliveries) == expected
        assert set(deliveries.values()) == {1}
        assert DigestDelivery.objects.count() == expected
        assert DigestDelivery.objects.filter(sent_at__isnull=False, attempts=1).count() == expected


def test_only_one_of_many_simultaneous_claims_wins():
    delivery = DigestDeliveryFactory(recipient=UserFactory(username="olivia"))
    from django.utils import timezone

    won: list[bool] = []
    errors = in_threads(lambda: won.append(claim(delivery.pk, now=timezone.now())), 8)

    assert errors == []
    assert sorted(won) == [False] * 7 + [True]
    delivery.refresh_from_db()
    assert delivery.attempts == 1
