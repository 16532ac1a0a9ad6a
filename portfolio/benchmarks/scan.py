"""Benchmark section: the full health scan, its floor (the bare SQL it sends) and a worker's peak memory.

The floor replays, with a raw psycopg cursor, every statement a steady-state scan sends:
the reads fetched in full, the writes (touching the flags that still hold) rolled back.
What the scan takes beyond that is Python: building the facts and running the rules.
The memory figure is a real Celery worker (solo pool, so the task runs in the process
measured) doing one full scan, read from the kernel's rusage of that child. A worker
scans the portfolio as soon as it starts (portfolio/celery.py), so nothing needs queuing.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from portfolio.benchmarks import BenchContext, Measurement, median_seconds
from portfolio.benchmarks.floor import capturing_queries, replay, statements_sent
from portfolio.models import ScanRun
from portfolio.scan import scan_portfolio

SCAN_BUDGET_SECONDS = 10.0
RSS_BUDGET_MB = 300.0
# A scan takes seconds, not milliseconds: a handful of runs give a stable median.
MOST_SCAN_RUNS = 5
ROOT = Path(__file__).resolve().parent.parent.parent
CELERY = (sys.executable, "-m", "celery", "-A", "portfolio")
# One worker alone: nothing to gossip or synchronise with, and no beat.
QUIET_WORKER = ("--without-gossip", "--without-mingle", "--without-heartbeat")


def measure(context: BenchContext) -> list[Measurement]:
    runs = max(1, min(context.repeat, MOST_SCAN_RUNS))

    started = time.perf_counter()
    first = scan_portfolio(as_of=context.as_of)
    first_seconds = time.perf_counter() - started

    with capturing_queries() as captured:
        steady = scan_portfolio(as_of=context.as_of)
    statements = statements_sent(captured)

    seconds = median_seconds(lambda: scan_portfolio(as_of=context.as_of), runs)
    floor = median_seconds(lambda: replay(statements), runs)
    measurements = [
        Measurement(
            what="health scan, first run",
            seconds=first_seconds,
            budget_seconds=SCAN_BUDGET_SECONDS,
            note=f"{first.pilots_scanned} pilots; raised {first.flags_raised} flags, resolved {first.flags_resolved}",
        ),
        Measurement(
            what="health scan (full portfolio)",
            seconds=seconds,
            floor_seconds=floor,
            budget_seconds=SCAN_BUDGET_SECONDS,
            queries=len(captured.captured_queries),
            note=(
                f"median of {runs} runs; {steady.pilots_scanned} pilots, {steady.flags_raised} raised, "
                f"{steady.flags_resolved} resolved; floor = its {len(statements)} statements replayed bare"
            ),
        ),
    ]
    if context.database_url:
        measurements.append(worker_scan_memory(context.database_url))
    return measurements


def worker_scan_memory(database_url: str, timeout: float = 300.0) -> Measurement:
    """Peak RSS of a Celery worker process that runs its start-up full scan, then is stopped."""
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as folder:
        # The worker's own broker: the filesystem transport in a scratch folder, so the
        # benchmark neither needs Redis nor feeds a real worker's queue.
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": "",
            "VAR_DIR": folder,
            # Production mode, as a deployed worker runs: DEBUG would keep every query in memory.
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS") or "localhost",
        }
        log_path = Path(folder) / "worker.log"
        before = ScanRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        with log_path.open("wb") as log:
            worker = subprocess.Popen(
                [*CELERY, "worker", "--pool", "solo", "--loglevel", "INFO", *QUIET_WORKER],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                run = _wait_for_scan_after(before, worker, timeout)
            finally:
                if not _has_exited(worker):
                    os.kill(worker.pid, signal.SIGTERM)
            peak_mb = _reap_peak_rss_mb(worker)
        if run is None:
            raise RuntimeError("the worker did not finish a scan:\n" + log_path.read_text(errors="replace")[-2000:])
    return Measurement.memory(
        "worker peak RSS during a scan",
        peak_mb,
        budget_megabytes=RSS_BUDGET_MB,
        note=f"a Celery worker (solo pool) that ran one full scan of {run.pilots_scanned} pilots, then stopped",
    )


def _wait_for_scan_after(after_pk: int, worker: subprocess.Popen[bytes], timeout: float) -> ScanRun | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not _has_exited(worker):
        run = ScanRun.objects.filter(pk__gt=after_pk, finished_at__isnull=False).order_by("pk").first()
        if run is not None:
            if run.error:
                raise RuntimeError(f"the worker's scan failed: {run.error}")
            return run
        time.sleep(0.2)
    return None


def _has_exited(process: subprocess.Popen[bytes]) -> bool:
    # Look without reaping (WNOWAIT), and never through Popen.poll(), which reaps: the
    # child's rusage can be read only once, by the wait4 that reaps it.
    return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def _reap_peak_rss_mb(process: subprocess.Popen[bytes], timeout: float = 60.0) -> float:
    """Reap the stopped child and return its own peak RSS: wait4 reports that child alone."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            # Linux reports ru_maxrss in kilobytes.
            return usage.ru_maxrss / 1024
        if time.monotonic() > deadline:
            os.kill(process.pid, signal.SIGKILL)
        time.sleep(0.1)
