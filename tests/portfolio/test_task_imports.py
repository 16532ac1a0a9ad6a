"""What importing the tasks loads: a worker that only scans does not load the digests' charting (matplotlib)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
# A fresh interpreter: this test process has long since imported everything.
REPORT = """
import json, sys
import django
django.setup()
import {module}
from portfolio.celery import app
print(json.dumps({{"matplotlib": "matplotlib" in sys.modules, "tasks": sorted(app.tasks)}}))
"""


def imported(module: str, tmp_path: Path) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portfolio.settings", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", REPORT.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_importing_the_tasks_leaves_matplotlib_unloaded(tmp_path):
    assert imported("portfolio.tasks", tmp_path)["matplotlib"] is False


def test_the_digest_code_itself_does_load_it(tmp_path):
    # The check above can fail: the digests draw their chart with matplotlib.
    assert imported("portfolio.digests.delivery", tmp_path)["matplotlib"] is True


def test_every_task_the_beat_sends_and_the_digest_retry_are_still_registered(tmp_path):
    registered = set(imported("portfolio.tasks", tmp_path)["tasks"])

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "portfolio.tasks.send_weekly_digests" in scheduled
    assert scheduled | {"portfolio.tasks.send_digest_delivery"} <= registered
