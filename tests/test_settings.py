"""Production mode refuses to start without its secrets; the embedded default needs nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    ignored = {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in ignored}
    # ENV_FILE="" so a developer's .env cannot answer for the missing variables.
    clean.update(VAR_DIR=str(tmp_path), ENV_FILE="", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_production_mode_without_a_secret_key_refuses_to_start_with_one_line(tmp_path):
    result = _manage(tmp_path, "check", DEBUG="0", ALLOWED_HOSTS="portfolio.example.com")
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "Pilot Portfolio refuses to start: SECRET_KEY is not set (required when DEBUG is off)."
    )


def test_production_mode_without_allowed_hosts_refuses_to_start(tmp_path):
    result = _manage(tmp_path, "check", DEBUG="0", SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_mode_with_both_starts(tmp_path):
    result = _manage(tmp_path, "check", DEBUG="0", SECRET_KEY="x" * 60, ALLOWED_HOSTS="portfolio.example.com")
    assert result.returncode == 0, result.stderr


def test_the_embedded_default_needs_no_configuration(tmp_path):
    result = _manage(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
