"""Start a real Celery worker process against the test database and a real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
# Its own Redis database (overridable so two suites can share one Redis at once).
INTEGRATION_REDIS_DB = int(os.environ.get("INTEGRATION_REDIS_DB", "14"))


def integration_broker_url() -> str:
    """REDIS_URL with a database of its own, so a test worker never eats a developer's tasks."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("integration test: set REDIS_URL to a real Redis")
    parts = urlsplit(redis_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{INTEGRATION_REDIS_DB}", "", ""))


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("integration test: the worker process shares the test database, which needs PostgreSQL")


def shared_database_url() -> str:
    """The URL of the database this test uses, for the processes it starts."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def running_worker(
    broker_url: str, log_path: Path, *extra: str, env: dict[str, str] | None = None, flush: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    """A `celery worker` process on the test database; stopped (and reaped) afterwards.

    ``env`` adds to its environment (a mail server, a shorter lease...); ``flush=False``
    keeps what is already queued, for a worker that takes over from one that died.
    """
    import redis

    if flush:
        redis.Redis.from_url(broker_url).flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url(),
        "REDIS_URL": broker_url,
        "DEBUG": "1",
        **(env or {}),
    }
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portfolio",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start:\n" + log_path.read_text(errors="replace"))
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_for(condition, timeout: float = 30.0, interval: float = 0.25) -> bool:
    """Poll ``condition`` until it is truthy or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())
