"""Two scans and two digest runs at the same time, as four separate processes: no flag twice, no mail twice.

The four ``manage.py`` processes start together, and the test makes sure they really
overlap at the moment that matters: it lets them read but holds back every write to the
flags and to the digest rows until both scans and both digest runs are waiting (a scan
may wait at the scan lock instead, which is the point of that lock). Released together,
each pair races for the same flags and the same digests.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections import Counter

import psycopg
import pytest
from django.utils import timezone

from portfolio.models import DigestDelivery, Flag, ScanRun
from portfolio.scan import scan_portfolio
from tests.factories import PilotFactory, UserFactory
from tests.faults.servers import ROOT, app_env, mail_server, wait_until
from tests.workers import shared_database_url

pytestmark = pytest.mark.integration


def waiting_for(lock: psycopg.Connection, condition: str) -> int:
    """How many other sessions wait for a lock matching ``condition`` (a pg_locks WHERE clause)."""
    return lock.execute(f"SELECT count(*) FROM pg_locks WHERE NOT granted AND {condition}").fetchone()[0]


def test_two_scans_and_two_digest_runs_at_once_raise_each_flag_once_and_send_each_digest_once(
    own_redis, shared_database, tmp_path
):
    started = timezone.localdate() - dt.timedelta(days=60)
    sponsor = UserFactory(username="sam")
    # Flagged before the runs (no KPI, no reading): their owners, the sponsor and the executive get digests.
    flagged = [
        PilotFactory(key=f"flagged-{n}", owner=UserFactory(username=f"owner{n}"), sponsor=sponsor, started_on=started)
        for n in range(5)
    ]
    scan_portfolio(pilot_ids=[pilot.pk for pilot in flagged])
    UserFactory(username="erin", roles=["executive"])
    # Not flagged yet: the two scans race to raise their flags.
    unscanned = [PilotFactory(key=f"unscanned-{n}", owner=None, started_on=started) for n in range(20)]
    flags_before = Flag.objects.count()

    with (
        mail_server(delay=0.1) as (mailbox, email_url),
        psycopg.connect(shared_database_url(), autocommit=True) as lock,
    ):
        env = app_env(tmp_path, DATABASE_URL=shared_database_url(), REDIS_URL=own_redis.url(), EMAIL_URL=email_url)
        flags, digests = Flag._meta.db_table, DigestDelivery._meta.db_table
        lock.execute("BEGIN")
        # SHARE: other sessions read these tables but cannot write to them.
        lock.execute(f"LOCK TABLE {flags}, {digests} IN SHARE MODE")
        commands = ["scan_health", "scan_health", "send_digests", "send_digests"]
        processes = [
            subprocess.Popen(
                [sys.executable, "manage.py", command],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for command in commands
        ]
        try:
            wait_until(
                lambda: waiting_for(lock, f"(locktype = 'advisory' OR relation = '{flags}'::regclass)") == 2,
                60,
                "both scans at the scan lock or their first write",
            )
            wait_until(
                lambda: waiting_for(lock, f"relation = '{digests}'::regclass") == 2,
                60,
                "both digest runs at their first write",
            )
            lock.execute("COMMIT")
            outputs = [process.communicate(timeout=90)[0] for process in processes]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()

    for command, process, output in zip(commands, processes, outputs, strict=True):
        assert process.returncode == 0, f"{command}:\n{output}"

    runs = list(ScanRun.objects.order_by("id"))
    assert [run.error for run in runs] == ["", ""]
    # One scan raised every new flag, the other (after the lock) found them open already.
    assert sorted(run.flags_raised for run in runs) == [0, Flag.objects.count() - flags_before]
    open_flags = Counter(
        Flag.objects.filter(resolved_at=None).values_list("pilot_id", "kind", "kpi_id", "kill_criterion_id")
    )
    assert set(open_flags.values()) == {1}
    assert {(pilot.pk, "no_owner", None, None) for pilot in unscanned} <= set(open_flags)

    expected = {person.email for pilot in flagged for person in (pilot.owner, pilot.sponsor)} | {"erin@example.com"}
    deliveries = Counter(mailbox.recipients())
    assert set(deliveries) == expected
    assert set(deliveries.values()) == {1}
    assert DigestDelivery.objects.filter(sent_at__isnull=False).count() == len(expected)
    # Both runs took part: between them they sent every digest once.
    sent_by_each = [int(re.search(r"Sent (\d+) digest", output)[1]) for output in outputs[2:]]
    assert sum(sent_by_each) == len(expected)
