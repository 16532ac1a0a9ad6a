"""Redis restarts under a running worker: the worker reconnects and runs what is queued afterwards."""

from __future__ import annotations

import pytest

from portfolio.models import Flag, FlagKind, ScanRun
from portfolio.tasks import rescan_pilot
from tests.factories import PilotFactory
from tests.workers import running_worker, wait_for

pytestmark = pytest.mark.integration


# solo, as the tests' workers run; prefork, as docker-compose's worker runs.
@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_task_queued_after_redis_restarts_is_run_by_the_same_worker(own_redis, shared_database, tmp_path, pool):
    log = tmp_path / "worker.log"
    with running_worker(own_redis.url(), log, "--pool", pool, "--concurrency", "1") as worker:
        assert wait_for(lambda: ScanRun.objects.filter(finished_at__isnull=False).exists(), timeout=30), log.read_text()

        own_redis.stop()
        own_redis.start()
        pilot = PilotFactory(key="nobody-owns-it", owner=None)
        rescan_pilot.apply_async(args=[pilot.pk], retry=False)

        def flagged() -> bool:
            return Flag.objects.filter(pilot=pilot, kind=FlagKind.NO_OWNER, resolved_at=None).exists()

        assert wait_for(flagged, timeout=60), log.read_text()
        assert worker.poll() is None
