"""Real servers for the fault tests, each on a free port of localhost and stopped even when a test fails.

A redis-server of the test's own (stopped and started again on the same port), a
PostgreSQL cluster of its own (initdb and pg_ctl, as the ``postgres`` user since initdb
refuses root), a gunicorn web process, ``manage.py`` commands run side by side, and a
small cookie-keeping HTTP client that signs in through the real form.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from tests.workers import wait_for

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_BIN = Path(os.environ.get("POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout: float, what: str) -> None:
    """Poll ``condition`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    if not wait_for(condition, timeout=timeout, interval=0.1):
        raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL if it does not go; always reaped."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


# --- Redis ---------------------------------------------------------------------------


class RedisServer:
    """A redis-server on its own port, without persistence: a restart starts it empty."""

    def __init__(self, directory: Path) -> None:
        if not shutil.which("redis-server"):
            pytest.skip("fault test: redis-server is not installed")
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.directory / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._pong, 10, f"redis-server on port {self.port}")

    def _pong(self) -> bool:
        import redis

        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited:\n{(self.directory / 'redis.log').read_text(errors='replace')}")
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5).ping())
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None
        wait_until(lambda: not _answers(self.port), 10, f"port {self.port} to close")


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- PostgreSQL ----------------------------------------------------------------------


class PostgresCluster:
    """A PostgreSQL cluster of the test's own, in a temporary folder the ``postgres`` user owns."""

    def __init__(self) -> None:
        if not (POSTGRES_BIN / "initdb").exists() or not shutil.which("runuser"):
            pytest.skip(f"fault test: PostgreSQL's initdb is not at {POSTGRES_BIN}")
        self.port = free_port()
        # Not pytest's tmp_path: that is private to root, and the server runs as postgres.
        self.directory = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        shutil.chown(self.directory, "postgres", "postgres")
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _as_postgres(self, *command: str) -> None:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command], capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"{command[0]} failed:\n{result.stdout}\n{result.stderr}\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def initdb(self) -> None:
        self._as_postgres(
            str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync"
        )

    def _pg_ctl(self, action: str, *args: str) -> None:
        # Durability off: this cluster lives for one test. The log file and the options go
        # with every start: a server started without -l would hold pg_ctl's output open.
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        pg_ctl = str(POSTGRES_BIN / "pg_ctl")
        self._as_postgres(pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *args, action)

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        """pg_ctl restart -m fast: every connection is cut, the server comes back on the same port."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(cluster.directory, ignore_errors=True)


# --- SMTP ----------------------------------------------------------------------------


@dataclass
class SlowMailbox:
    """An aiosmtpd handler (hooks named by aiosmtpd) that takes ``delay`` seconds over each message.

    A message counts as delivered once the server has taken it, just before its 250 answer.
    aiosmtpd cancels the handler when the client hangs up, so a client that dies during the
    delay delivers nothing, as with a real mail server. ``after_taking`` runs once the server
    has the message and before it answers: the moment a crash sends a digest twice.
    """

    delay: float
    received: list[tuple[str, str]] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    begun: int = 0
    after_taking: Callable[[int], None] | None = None

    async def handle_DATA(self, server, session, envelope):
        self.begun += 1
        await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((envelope.rcpt_tos[0], str(message["Subject"])))
        self.message_ids.append(str(message["Message-ID"]))
        if self.after_taking is not None:
            self.after_taking(len(self.received))
            # The answer is still to come when the hook has killed the client.
            await asyncio.sleep(2)
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return [recipient for recipient, _ in self.received]


@contextmanager
def mail_server(delay: float) -> Iterator[tuple[SlowMailbox, str]]:
    """An SMTP server on a free port; yields its mailbox and the EMAIL_URL that points at it."""
    from aiosmtpd.controller import Controller

    mailbox = SlowMailbox(delay)
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    try:
        yield mailbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


# --- The application's processes ------------------------------------------------------


def app_env(directory: Path, **overrides: str) -> dict[str, str]:
    """The environment of a process of the app: development mode, no .env, files under ``directory``."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "CI_REQUIRE_ALL"}}
    env.update(DEBUG="1", ENV_FILE="", VAR_DIR=str(directory), LOG_LEVEL="INFO", PYTHONUNBUFFERED="1")
    env.update(overrides)
    return env


def manage(directory: Path, *args: str, timeout: float = 180, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` with the app's environment; fails with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=app_env(directory, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@contextmanager
def web_process(directory: Path, **env: str) -> Iterator[str]:
    """A gunicorn process serving the app on a free port; yields its base URL."""
    port = free_port()
    log_path = directory / f"web-{port}.log"
    directory.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portfolio.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "30",
                "--access-logfile",
                "-",
            ],
            cwd=ROOT,
            env=app_env(directory, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:

            def serving() -> bool:
                if process.poll() is not None:
                    raise RuntimeError("the web process exited:\n" + log_path.read_text(errors="replace"))
                return _answers(port)

            wait_until(serving, 60, "the web process")
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(process)


# --- An HTTP client that signs in -----------------------------------------------------


@dataclass
class Answer:
    status: int
    text: str
    seconds: float
    location: str = ""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is part of the answer under test (and the time it took), not a new request.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """Cookies, CSRF and the sign-in form, as a person's browser would use them."""

    def __init__(self, base_url: str, timeout: float = 30) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirects)

    def _cookie(self, name: str) -> str:
        return next((cookie.value for cookie in self.cookies if cookie.name == name), "")

    def request(self, path: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Answer:
        body = None if data is None else urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers or {})
        if data is not None:
            request.add_header("X-CSRFToken", self._cookie("csrftoken"))
            request.add_header("Referer", self.base_url + path)
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                status, text, location = response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            status, text, location = (
                error.code,
                error.read().decode(errors="replace"),
                error.headers.get("Location", ""),
            )
        return Answer(status, text, time.monotonic() - started, location)

    def get(self, path: str) -> Answer:
        return self.request(path)

    def post(self, path: str, data: dict[str, str]) -> Answer:
        return self.request(path, data)

    def sign_in(self, username: str, password: str) -> None:
        form = self.get("/accounts/login/")
        assert form.status == 200, form.text[:500]
        answer = self.post("/accounts/login/", {"username": username, "password": password})
        assert answer.status == 302 and "/accounts/login/" not in answer.location, (answer.status, answer.text[:500])


def pbkdf2_password(password: str) -> str:
    """A hash every process of the app accepts (the test process hashes with MD5 for speed)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.utils.crypto import get_random_string

    return PBKDF2PasswordHasher().encode(password, get_random_string(16))


def kill(process: subprocess.Popen) -> None:
    """SIGKILL: no shutdown, no ack, no cleanup, as when the machine or the OOM killer takes it."""
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
