"""A figure's floor: the statements a run sent, replayed bare (writes rolled back)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portfolio.benchmarks import median_seconds, wall_seconds
from portfolio.benchmarks.floor import READS, replay, statements_sent
from portfolio.models import BusinessUnit

pytestmark = pytest.mark.django_db


def captured_insert() -> list[str]:
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        BusinessUnit.objects.create(name="Replayed")
        list(BusinessUnit.objects.all())
    return statements_sent(captured)


def test_only_statements_are_kept_in_order_without_the_savepoints():
    statements = captured_insert()

    assert [sql.split()[0] for sql in statements] == ["INSERT", "SELECT"]
    assert not any("SAVEPOINT" in sql for sql in statements)


def test_reads_alone_can_be_asked_for():
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        BusinessUnit.objects.create(name="Replayed")
        list(BusinessUnit.objects.all())

    assert [sql.split()[0] for sql in statements_sent(captured, READS)] == ["SELECT"]


def test_a_replay_sends_the_writes_and_rolls_them_back():
    statements = captured_insert()
    # The unit is still there: replaying its insert really runs it (on the driver's own cursor).
    with pytest.raises(connection.Database.IntegrityError), transaction.atomic():
        replay(statements)
    BusinessUnit.objects.filter(name="Replayed").delete()

    replay(statements)

    assert not BusinessUnit.objects.filter(name="Replayed").exists()


def test_the_median_is_of_the_timed_calls_after_one_warm_up():
    calls = []

    seconds = median_seconds(lambda: calls.append(1), 3)

    assert len(calls) == 4
    assert 0 <= seconds < 1
    assert wall_seconds(lambda: None) >= 0
