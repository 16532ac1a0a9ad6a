"""gunicorn.conf.py: every setting from the environment, loaded the way gunicorn loads it."""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.app.base import Application
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "gunicorn.conf.py"
VARIABLES = (
    "GUNICORN_BIND",
    "PORT",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_KEEPALIVE",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_MAX_REQUESTS_JITTER",
    "FORWARDED_ALLOW_IPS",
    "LOG_FORMAT",
    "DEBUG",
    "GUNICORN_CMD_ARGS",
    "GUNICORN_CONTROL_SOCKET",
)


class _ConfigOnly(Application):
    """gunicorn's own loading of a config file, without an app to serve."""

    def load_config(self) -> None:
        pass

    def load(self) -> None:  # pragma: no cover - never served
        raise AssertionError("not served")


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch):
    def _load(cpus: int = 2, **env: str) -> Config:
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(multiprocessing, "cpu_count", lambda: cpus)
        app = _ConfigOnly()
        app.load_config_from_file(str(CONF))
        return app.cfg

    return _load


@pytest.mark.parametrize(("cpus", "workers"), [(1, 3), (2, 5), (3, 7), (16, 8)])
def test_workers_default_to_two_per_core_plus_one_at_most_eight(load, cpus, workers):
    assert load(cpus=cpus).workers == workers


def test_defaults_suit_a_single_container(load):
    cfg = load()
    assert cfg.bind == ["0.0.0.0:8000"]
    assert cfg.threads == 1 and cfg.worker_class_str == "sync"
    assert (cfg.timeout, cfg.graceful_timeout, cfg.keepalive) == (30, 30, 5)
    assert (cfg.max_requests, cfg.max_requests_jitter) == (1000, 100)
    assert cfg.forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert cfg.accesslog == "-" and cfg.errorlog == "-"
    # No control socket at the one per-user path two servers would fight over.
    assert cfg.control_socket_disable is True


def test_every_value_comes_from_the_environment(load):
    cfg = load(
        WEB_CONCURRENCY="3",
        GUNICORN_THREADS="4",
        GUNICORN_TIMEOUT="60",
        GUNICORN_GRACEFUL_TIMEOUT="20",
        GUNICORN_KEEPALIVE="75",
        GUNICORN_MAX_REQUESTS="500",
        GUNICORN_MAX_REQUESTS_JITTER="50",
        FORWARDED_ALLOW_IPS="10.0.0.1,10.0.0.2",
        PORT="9000",
    )
    assert cfg.workers == 3
    assert cfg.threads == 4 and cfg.worker_class_str == "gthread"
    assert (cfg.timeout, cfg.graceful_timeout, cfg.keepalive) == (60, 20, 75)
    assert (cfg.max_requests, cfg.max_requests_jitter) == (500, 50)
    assert cfg.forwarded_allow_ips == ["10.0.0.1", "10.0.0.2"]
    assert cfg.bind == ["0.0.0.0:9000"]
    assert load(GUNICORN_BIND="127.0.0.1:8123", PORT="9000").bind == ["127.0.0.1:8123"]
    with_socket = load(GUNICORN_CONTROL_SOCKET="/run/portfolio/gunicorn.ctl")
    assert with_socket.control_socket_disable is False
    assert with_socket.control_socket == "/run/portfolio/gunicorn.ctl"


def _access_line(cfg: Config) -> str:
    """What the configured logger writes for one request whose answer carries a request id."""
    logger = cfg.logger_class(cfg)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.access_log.handlers = [handler]
    response = SimpleNamespace(
        status="200 OK", sent=1234, headers=[("Content-Type", "text/html"), ("X-Request-ID", "abc123def456")]
    )
    request = SimpleNamespace(headers=[("USER-AGENT", 'curl "quoted"')])
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/pilots/?phase=pilot",
        "PATH_INFO": "/pilots/",
        "QUERY_STRING": "phase=pilot",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.1.2.3",
        "HTTP_USER_AGENT": 'curl "quoted"',
    }
    logger.access(response, request, environ, timedelta(milliseconds=42))
    return stream.getvalue().strip()


def test_production_access_log_is_json_with_the_request_id(load):
    line = json.loads(_access_line(load(DEBUG="0")))
    assert line["request_id"] == "abc123def456"
    assert line["logger"] == "gunicorn.access" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["query"], line["status"]) == ("GET", "/pilots/", "phase=pilot", 200)
    assert line["duration_ms"] == 42 and line["bytes"] == 1234
    assert line["user_agent"] == 'curl "quoted"'
    assert line["time"].endswith("+00:00")


def test_development_access_log_is_a_plain_line_with_the_request_id(load):
    line = _access_line(load(DEBUG="1"))
    assert line.startswith('10.1.2.3 "GET /pilots/?phase=pilot HTTP/1.1" 200 1234 42ms')
    assert "request_id=abc123def456" in line
    assert "request_id=abc123def456" in _access_line(load(DEBUG="0", LOG_FORMAT="plain"))


def _check_config(**env: str) -> subprocess.CompletedProcess[str]:
    production = {
        **{k: v for k, v in os.environ.items() if k not in VARIABLES},
        "DEBUG": "0",
        "SECRET_KEY": "test-only-secret-key-for-check-config",
        "ALLOWED_HOSTS": "127.0.0.1",
        "ENV_FILE": "",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "--check-config", "-c", str(CONF), "portfolio.wsgi"],
        cwd=ROOT,
        env=production,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_gunicorn_accepts_it_and_loads_the_app_under_production_settings():
    checked = _check_config()
    assert checked.returncode == 0, checked.stderr
    # And refuses what is not a setting it understands: the check can fail.
    refused = _check_config(GUNICORN_KEEPALIVE="soon")
    assert refused.returncode != 0
    assert "GUNICORN_KEEPALIVE" in refused.stderr or "soon" in refused.stderr
