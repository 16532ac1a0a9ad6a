"""Fixtures of the fault tests: a redis-server of the test's own, and the app's Celery client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from conftest import use_broker
from tests.faults.servers import RedisServer, redis_server
from tests.workers import require_postgresql


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server on a free port; this test process publishes to it, as a web process would."""
    with redis_server(tmp_path / "redis") as server:
        use_broker(server.url(), settings.CELERY_BROKER_TRANSPORT_OPTIONS)
        yield server


@pytest.fixture
def shared_database(django_db_serialized_rollback, transactional_db) -> None:
    """Rows this test writes are committed, so the processes it starts see them.

    Put back afterwards as the browser tests' are (serialized rollback): a plain flush
    re-creates content types with new ids, and a later test restoring the serialised
    database would trip over them.
    """
    require_postgresql()
