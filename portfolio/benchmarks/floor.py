"""A figure's floor: the SQL statements a measured run sent, replayed bare on a raw cursor.

What the run takes beyond its floor is Python (ORM, rules, templates); the floor itself
is the database's share, which no Python change can remove.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

# Statements worth replaying: bookkeeping such as savepoints would not replay alone.
STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
READS = ("SELECT", "WITH")


@contextmanager
def capturing_queries() -> Iterator[CaptureQueriesContext]:
    """Capture the queries the block sends on the default connection, from an emptied log.

    Django logs the last 9,000 queries only; once that log is full, CaptureQueriesContext
    counts 9,000 before and after and sees nothing, so a section measured after thousands
    of queries (the digests send a thousand a run) would report none and a floor of zero.
    """
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as captured:
        yield captured


def statements_sent(captured: CaptureQueriesContext, kinds: tuple[str, ...] = STATEMENTS) -> list[str]:
    """The captured run's statements of ``kinds``, in the order it sent them."""
    return [query["sql"] for query in captured.captured_queries if query["sql"].lstrip().startswith(kinds)]


def replay(statements: list[str]) -> None:
    """Send the statements as they were sent, fetching every row; roll the writes back."""
    with transaction.atomic():
        raw = connection.connection.cursor()
        for sql in statements:
            raw.execute(sql)
            if raw.description is not None:
                raw.fetchall()
        raw.close()
        transaction.set_rollback(True)


def replay_reads(statements: list[str]) -> None:
    """Send reads as they were sent on a raw cursor, fetching every row: no transaction to roll back."""
    with connection.cursor() as wrapped:
        raw = wrapped.cursor
        for sql in statements:
            raw.execute(sql)
            if raw.description is not None:
                raw.fetchall()
