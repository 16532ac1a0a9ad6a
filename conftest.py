"""Root pytest plugin: under CI_REQUIRE_ALL, real-server and browser tests may not skip."""

from __future__ import annotations

import os

import pytest

MUST_RUN_MARKERS = {"integration", "e2e", "postgres"}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not os.environ.get("CI_REQUIRE_ALL") or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = [r for r in reporter.stats.get("skipped", []) if MUST_RUN_MARKERS & set(r.keywords)]
    if skipped:
        for report in skipped:
            reporter.write_line(f"NOT ALLOWED TO SKIP IN CI: {report.nodeid}", red=True)
        session.exitstatus = 1
