"""``bin/loadtest``: the locust scenario against gunicorn and a Celery worker on localhost, in production mode.

It never touches the database it is given: it creates ``<name>_load`` beside it on the same
server, migrates it, fills it with the benchmark's generated portfolio, serves it with
gunicorn (``gunicorn.conf.py``) and a worker, runs locust headless, prints the table of
``loadtest/report.py``, then stops everything and drops the database. The Redis database it
is given must be empty (one of its own): the run's queue and cache go there and it is
flushed afterwards. Exit status: 1 if any request failed (or the stack did not start), else
0; a latency budget missed shows as "NO" in the table but does not fail the run, because
latency depends on the machine (see README "Load test").
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from loadtest import report

ROOT = Path(__file__).resolve().parent.parent
LOAD_SUFFIX = "_load"
HEALTHY_WITHIN_SECONDS = 600


@dataclass(frozen=True)
class Options:
    database_url: str
    redis_url: str
    users: int
    spawn_rate: int
    duration: str
    pilots: int
    kpis: int
    readings: int
    port: int
    logs: Path
    # Only these locust user classes (Executive, Owner, ApiFeed); empty: all three by their weights.
    user_classes: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls, environ: dict[str, str]) -> Options:
        def number(name: str, default: int) -> int:
            return int(environ.get(name) or default)

        return cls(
            database_url=environ.get("DATABASE_URL", ""),
            redis_url=environ.get("REDIS_URL", ""),
            users=number("USERS", 50),
            spawn_rate=number("SPAWN_RATE", 10),
            duration=environ.get("DURATION") or "2m",
            pilots=number("LOADTEST_PILOTS", 2000),
            kpis=number("LOADTEST_KPIS", 10_000),
            readings=number("LOADTEST_READINGS", 1_000_000),
            port=number("PORT", 0) or free_port(),
            logs=Path(environ.get("LOADTEST_LOGS") or ROOT / "var" / "loadtest"),
            user_classes=tuple(environ.get("USER_CLASSES", "").replace(",", " ").split()),
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_database_url(database_url: str) -> tuple[str, str]:
    """The load database's name and URL: the given one's name plus ``_load``, on the same server."""
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit("bin/loadtest needs PostgreSQL: DATABASE_URL=postgres://user@host:5432/name")
    name = parts.path.lstrip("/") + LOAD_SUFFIX
    return name, urlunsplit(parts._replace(path=f"/{name}"))


def _say(text: str) -> None:
    print(text, flush=True)


@contextmanager
def load_database(database_url: str) -> Iterator[str]:
    """Create ``<name>_load`` (recreated if a previous run left it); drop it afterwards."""
    import psycopg

    name, url = load_database_url(database_url)
    quoted = '"' + name.replace('"', '""') + '"'

    def execute(sql: str) -> None:
        # Through the given database, or the server's maintenance database if it does not exist yet.
        try:
            connection = psycopg.connect(database_url, autocommit=True)
        except psycopg.OperationalError:
            connection = psycopg.connect(urlunsplit(urlsplit(database_url)._replace(path="/postgres")), autocommit=True)
        with connection:
            connection.execute(sql)

    execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    execute(f"CREATE DATABASE {quoted}")
    try:
        yield url
    finally:
        execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        _say(f"Dropped {name}.")


@contextmanager
def empty_redis(redis_url: str) -> Iterator[None]:
    """The run's Redis database: refused unless empty, flushed afterwards."""
    import redis

    client = redis.Redis.from_url(redis_url)
    if keys := client.dbsize():
        raise SystemExit(
            f"REDIS_URL {redis_url} holds {keys} keys: give the load test an empty Redis database of its own "
            "(its queue and cache go there and it is flushed afterwards)."
        )
    try:
        yield
    finally:
        client.flushdb()


def app_environment(*, port: int, database_url: str, redis_url: str, scratch: Path) -> dict[str, str]:
    """Production settings on plain HTTP on localhost, with a throwaway secret key and scratch folders."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "ENV_FILE": "",
        "EMAIL_URL": "",
        "VAR_DIR": str(scratch / "var"),
        "STATIC_ROOT": str(scratch / "static"),
        "LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "PYTHONPATH": str(ROOT),
    }


def step(what: str, command: list[str], env: dict[str, str]) -> None:
    started = time.perf_counter()
    _say(f"{what}...")
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    _say(f"  {what}: {time.perf_counter() - started:.1f} s")


@contextmanager
def background(
    name: str, command: list[str], env: dict[str, str], log: Path, *, stop: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    """A process beside the run, its output in ``log``.

    Afterwards it is stopped (SIGTERM, then SIGKILL), or with ``stop=False`` waited for;
    either way it is stopped if the block failed.
    """
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield process
            if not stop:
                process.wait()
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                _say(f"Stopped {name} (log: {log}).")


def wait_until_healthy(url: str, processes: dict[str, subprocess.Popen[bytes]]) -> None:
    """/healthz answers 200 once the database, the broker and the worker's first scan are all fine."""
    deadline = time.monotonic() + HEALTHY_WITHIN_SECONDS
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise SystemExit(f"{name} stopped (exit status {process.returncode}) before the stack was healthy")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as answer:  # noqa: S310 (our http://127.0.0.1)
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    raise SystemExit(f"{url}/healthz did not answer 200 within {HEALTHY_WITHIN_SECONDS} s")


# Every request locust made, one row each (loadtest/report.py reads it).
REQUEST_LOG = "requests.csv"


def run(options: Options) -> int:
    python = sys.executable
    url = f"http://127.0.0.1:{options.port}"
    options.logs.mkdir(parents=True, exist_ok=True)
    for old in [*options.logs.glob("locust_*.csv"), options.logs / REQUEST_LOG]:
        old.unlink(missing_ok=True)
    load1, *_ = os.getloadavg()
    who = ", ".join(options.user_classes) or "executives, owners and API feeds"
    _say(
        f"Load test: {options.users} users ({who}; +{options.spawn_rate}/s) for {options.duration} against {url}, "
        f"{os.cpu_count()} cores, load average {load1:.1f} before the run."
    )
    with ExitStack() as stack:
        stack.enter_context(empty_redis(options.redis_url))
        database_url = stack.enter_context(load_database(options.database_url))
        scratch = Path(tempfile.mkdtemp(prefix="pilot-loadtest-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        env = app_environment(
            port=options.port, database_url=database_url, redis_url=options.redis_url, scratch=scratch
        )
        scenario = scratch / "scenario.json"

        # Static files are collected (and compressed) while the database is filled.
        collect = [python, "manage.py", "collectstatic", "--noinput", "-v", "0"]
        with background("collectstatic", collect, env, options.logs / "collectstatic.log", stop=False) as collecting:
            step("Migrate", [python, "manage.py", "migrate", "--noinput", "-v", "0"], env)
            sizes = ["--pilots", str(options.pilots), "--kpis", str(options.kpis), "--readings", str(options.readings)]
            step("Generate the portfolio", [python, "-m", "loadtest.prepare", "--out", str(scenario), *sizes], env)
        if collecting.returncode != 0:
            raise SystemExit(f"collectstatic failed: see {options.logs / 'collectstatic.log'}")
        _say("  static files collected")

        worker = stack.enter_context(
            background(
                "the worker",
                [python, "-m", "celery", "-A", "portfolio", "worker", "--loglevel", "WARNING", "--concurrency", "2"],
                env,
                options.logs / "worker.log",
            )
        )
        web = stack.enter_context(
            background(
                "gunicorn",
                [python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "portfolio.wsgi"],
                env,
                options.logs / "gunicorn.log",
            )
        )
        started = time.perf_counter()
        _say("Waiting for /healthz (the worker's first scan)...")
        wait_until_healthy(url, {"gunicorn": web, "the worker": worker})
        booted = (options.logs / "gunicorn.log").read_text(errors="replace").count("Booting worker")
        _say(f"  healthy after {time.perf_counter() - started:.1f} s; gunicorn runs {booted} worker processes")

        _say("Running locust...")
        csv_prefix = options.logs / "locust"
        locust = [
            python, "-m", "locust", "-f", "loadtest/locustfile.py", "--headless",
            "-u", str(options.users), "-r", str(options.spawn_rate), "-t", options.duration,
            "--host", url, "--csv", str(csv_prefix), "--only-summary", "--stop-timeout", "10",
            *options.user_classes,
        ]  # fmt: skip
        locust_env = {
            **env,
            "LOADTEST_SCENARIO": str(scenario),
            "LOADTEST_REQUEST_LOG": str(options.logs / REQUEST_LOG),
        }
        with (options.logs / "locust.log").open("wb") as output:
            subprocess.run(locust, cwd=ROOT, env=locust_env, stdout=output, stderr=subprocess.STDOUT)
    return summarise(options.logs / REQUEST_LOG, csv_prefix, every_kind_of_user=not options.user_classes)


def summarise(request_log: Path, csv_prefix: Path, *, every_kind_of_user: bool = True) -> int:
    """Print the whole run's table and the steady state's; 1 if any request failed."""
    requests = report.read_requests(request_log) if request_log.exists() else []
    if not requests:
        _say(f"locust recorded no requests: see {csv_prefix.parent / 'locust.log'}")
        return 1
    whole = report.summarise(requests)
    first = min(r.started for r in requests)
    steady_from = report.steady_from(requests)
    steady = report.summarise(report.steady_state(requests))
    tables = [("Whole run, the users' arrival and sign-in included:", whole)]
    if steady:
        arrival = f"{steady_from - first:.0f} s"
        tables.append((f"Steady state, from when the last user had signed in ({arrival} into the run):", steady))
    for title, rows in tables:
        _say("")
        _say(title)
        for line in report.render(rows):
            _say(line)
        broken = report.broken_budgets(rows, every_kind_of_user=every_kind_of_user)
        _say(f"Budgets broken: {', '.join(broken)}." if broken else "Every budget held.")
    failures = report.read_failures(Path(f"{csv_prefix}_failures.csv"))
    if failures:
        _say("")
        _say("Failures:")
        for line in failures:
            _say(f"  {line}")
    return 1 if report.error_count(whole) else 0


def main() -> int:
    options = Options.from_environment(dict(os.environ))
    if not options.database_url or not options.redis_url:
        raise SystemExit("bin/loadtest needs DATABASE_URL (PostgreSQL) and REDIS_URL (an empty Redis database)")
    load_database_url(options.database_url)
    return run(options)


if __name__ == "__main__":
    raise SystemExit(main())
