"""gunicorn's settings, from the environment: `gunicorn -c gunicorn.conf.py portfolio.wsgi`.

| variable | default | meaning |
| --- | --- | --- |
| GUNICORN_BIND | 0.0.0.0:$PORT (PORT 8000) | address to listen on |
| WEB_CONCURRENCY | 2 × cores + 1, at most 8 | worker processes |
| GUNICORN_THREADS | 1 | threads per worker (more than 1: the gthread worker) |
| GUNICORN_TIMEOUT | 30 | seconds a request may take before its worker is restarted |
| GUNICORN_GRACEFUL_TIMEOUT | 30 | seconds a stopping worker gets to finish its requests |
| GUNICORN_KEEPALIVE | 5 | seconds a kept-alive connection waits (longer than the proxy's idle timeout is wrong) |
| GUNICORN_MAX_REQUESTS, GUNICORN_MAX_REQUESTS_JITTER | 1000, 100 | a worker is replaced after so many requests |
| FORWARDED_ALLOW_IPS | 127.0.0.1,::1 | proxies whose X-Forwarded-* headers are trusted |
| LOG_FORMAT | json unless DEBUG=1 | access log lines as JSON objects (like the app's) or plain text |
| GUNICORN_CONTROL_SOCKET | unset: none | path of gunicorn's control socket (for `gunicornc`) |

Each PostgreSQL connection is per thread: one process holds up to WEB_CONCURRENCY ×
GUNICORN_THREADS of them (README "Scaling out").
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os

from gunicorn import glogging

MOST_WORKERS = 8


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _default_workers() -> int:
    return min(2 * multiprocessing.cpu_count() + 1, MOST_WORKERS)


def _debug() -> bool:
    return os.environ.get("DEBUG", "1").strip().lower() in {"1", "true", "yes", "on"}


class JsonAccessLogger(glogging.Logger):
    """Access log lines as JSON objects with the fields of the app's logs (time, level, logger, request_id)."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        line = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            # Set by portfolio.request_id's middleware on every answer.
            "request_id": atoms.get("{x-request-id}o", "-"),
            "message": f"{atoms['m']} {atoms['U']} {atoms['s']}",
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"],
            "status": int(atoms["s"]),
            "bytes": atoms["B"],
            "duration_ms": atoms["M"],
            "remote": atoms["h"],
            "user_agent": atoms["a"],
        }
        try:
            self.access_log.info(json.dumps(line))
        except Exception:  # as gunicorn's own access(): a log line never fails a request
            self.exception("access log line failed")


bind = [os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"]
workers = _int("WEB_CONCURRENCY", _default_workers())
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# A slow leak (or fragmentation) never grows a worker for ever; the jitter keeps the
# workers from all restarting at the same moment.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The heartbeat file in memory: a container's disk-backed /tmp can stall it into a timeout.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (gunicorn's advice)

# gunicorn 25+ opens a control socket at one path per user ($HOME/.gunicorn/gunicorn.ctl): two
# servers of one user (a test's and a developer's) would take it from each other. Off unless asked.
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
if os.environ.get("LOG_FORMAT", "plain" if _debug() else "json") == "json":
    logger_class = JsonAccessLogger
else:
    access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s "%(a)s"'
