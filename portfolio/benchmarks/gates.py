"""Benchmark section: the gate facts the dashboard asks for, each beside the bare SQL it sends.

Run with ``manage.py benchmark --sections gates`` (it is not a default section: the
dashboard's own figure includes these calls). Through ``portfolio.extensions`` only,
as the dashboard calls them: portfolio never imports gates.
"""

from __future__ import annotations

from collections.abc import Callable

from portfolio import extensions
from portfolio.benchmarks import BenchContext, Measurement, median_seconds
from portfolio.benchmarks.floor import capturing_queries, replay
from portfolio.models import PHASE_ORDER, Pilot, Status
from portfolio.selectors import changed_after_approval_counts

# A share of the dashboard's 100 ms: what blocks each pilot must not be most of it.
BLOCKERS_BUDGET_SECONDS = 0.05


def measure(context: BenchContext) -> list[Measurement]:
    pilot_ids = list(Pilot.objects.values_list("id", flat=True))
    # What the unfiltered dashboard asks about: the active pilots with a gate ahead.
    facing_a_gate = list(
        Pilot.objects.filter(status=Status.ACTIVE).exclude(phase=PHASE_ORDER[-1]).values_list("id", flat=True)
    )
    return [
        _timed(
            "gate blockers of every pilot (extensions.gate_blockers)",
            lambda: extensions.gate_blockers(pilot_ids, context.as_of),
            context,
            budget=BLOCKERS_BUDGET_SECONDS,
            note=f"{len(pilot_ids)} pilots",
        ),
        _timed(
            "gate blockers the dashboard asks for",
            lambda: extensions.gate_blockers(facing_a_gate, context.as_of),
            context,
            budget=BLOCKERS_BUDGET_SECONDS,
            note=f"{len(facing_a_gate)} active pilots with a gate ahead",
        ),
        _timed("overrides (extensions.gate_overrides)", extensions.gate_overrides, context),
        _timed("goalposts changed after approval, counts", changed_after_approval_counts, context),
    ]


def _timed(
    what: str, run: Callable[[], object], context: BenchContext, *, budget: float | None = None, note: str = ""
) -> Measurement:
    with capturing_queries() as captured:
        run()
    statements = [query["sql"] for query in captured.captured_queries]
    return Measurement(
        what=what,
        seconds=median_seconds(run, context.repeat),
        floor_seconds=median_seconds(lambda: replay(statements), context.repeat),
        budget_seconds=budget,
        queries=len(statements),
        note=note,
    )
