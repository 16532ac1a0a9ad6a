"""Benchmark section: batch ingestion through the API, batches of 1,000 readings (budget ≥ 5,000 readings/s).

Each run POSTs 1,000 new daily readings of a fresh KPI with a write token, through the
whole stack (token, rate limit, JSON and schema validation, permissions, the batch
service with its history rows, the commit). The budget of 5,000 readings a second is
0.2 s a batch. The floor replays the request's SQL statements bare, in a transaction
that is rolled back.
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.utils import timezone

from portfolio.benchmarks import BenchContext, Measurement, wall_seconds
from portfolio.benchmarks.floor import capturing_queries, replay, statements_sent
from portfolio.models import BusinessUnit, Kpi, Pilot, TokenScope
from portfolio.services import api_token_create

BATCH = 1000
BUDGET_SECONDS = 0.2
MOST_RUNS = 10
PILOT_KEY = "bench-api-ingestion"


def measure(context: BenchContext) -> list[Measurement]:
    runs = max(3, min(context.repeat, MOST_RUNS))
    end = min(context.as_of, timezone.localdate())
    pilot, secret = _feed(end)
    client = Client()
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        # One run captured (and rolled back) for its statements and the floor.
        with transaction.atomic():
            _new_kpi(pilot, "bench-captured")
            with capturing_queries() as captured:
                _post(client, headers, pilot, "bench-captured", end)
            transaction.set_rollback(True)
        # Read now: the log is cleared at the start of every request that follows.
        queries = len(captured.captured_queries)
        statements = statements_sent(captured)

        _new_kpi(pilot, "bench-warm-up")
        _post(client, headers, pilot, "bench-warm-up", end)
        times = []
        for run in range(runs):
            _new_kpi(pilot, f"bench-{run}")
            times.append(wall_seconds(lambda key=f"bench-{run}": _post(client, headers, pilot, key, end)))
        times.sort()
        floors = sorted(wall_seconds(lambda: replay(statements)) for _ in range(runs))
    finally:
        Pilot.objects.filter(pk=pilot.pk).delete()
    seconds, floor = times[len(times) // 2], floors[len(floors) // 2]
    return [
        Measurement(
            what="API: POST a batch of 1,000 readings",
            seconds=seconds,
            floor_seconds=floor,
            budget_seconds=BUDGET_SECONDS,
            queries=queries,
            note=(
                f"{BATCH / seconds:,.0f} readings/s (budget ≥ {BATCH / BUDGET_SECONDS:,.0f}); median of {runs} "
                f"batches of new dates, each a fresh KPI; floor = the request's {len(statements)} statements bare"
            ),
        )
    ]


def _feed(end: dt.date) -> tuple[Pilot, str]:
    """A pilot started long enough ago for 1,000 daily readings, and its owner's write token."""
    Pilot.objects.filter(key=PILOT_KEY).delete()
    owner, _ = get_user_model().objects.get_or_create(username="bench-api-feed")
    unit = BusinessUnit.objects.order_by("id").first() or BusinessUnit.objects.create(name="Benchmark")
    started = end - dt.timedelta(days=BATCH + 30)
    pilot = Pilot.objects.create(
        key=PILOT_KEY,
        name="Benchmark: API ingestion",
        business_unit=unit,
        owner=owner,
        started_on=started,
        phase_entered_on=started,
    )
    return pilot, api_token_create(user=owner, name="benchmark", scope=TokenScope.READ_WRITE_READINGS)[1]


def _new_kpi(pilot: Pilot, key: str) -> None:
    Kpi.objects.create(pilot=pilot, key=key, name=key, baseline=50.0, target=80.0)


def _post(client: Client, headers: dict[str, str], pilot: Pilot, kpi_key: str, end: dt.date) -> None:
    body = json.dumps(
        {"readings": [{"on": (end - dt.timedelta(days=n)).isoformat(), "value": 50.0 + n % 30} for n in range(BATCH)]}
    )
    response = client.post(
        f"/api/pilots/{pilot.key}/kpis/{kpi_key}/readings",
        body,
        content_type="application/json",
        headers=headers,
        # Production settings redirect plain HTTP to HTTPS.
        secure=True,
    )
    if response.status_code != 200 or response.json()["created"] != BATCH:
        raise RuntimeError(f"the batch was refused: {response.status_code} {response.content[:500]!r}")
