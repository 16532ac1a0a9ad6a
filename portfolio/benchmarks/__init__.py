"""The benchmark of DESIGN section 9: each figure beside the bare SQL it needs (its floor).

Sections live in their own modules (``scan``, ``pages``, ``digests``, ``api``...) and each
exposes ``measure(context: BenchContext) -> list[Measurement]``. The ``benchmark``
management command generates the portfolio once and runs every registered section.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Measurement:
    """One figure beside its floor and budget, all in ``unit``: seconds, or "MB" for memory."""

    what: str
    seconds: float
    floor_seconds: float | None = None
    budget_seconds: float | None = None
    queries: int | None = None
    note: str = ""
    unit: str = "s"

    @classmethod
    def memory(cls, what: str, megabytes: float, budget_megabytes: float | None = None, note: str = "") -> Measurement:
        """A memory figure: it reuses the time fields, so the table and the budget check stay one."""
        return cls(what=what, seconds=megabytes, budget_seconds=budget_megabytes, note=note, unit="MB")

    @property
    def ratio(self) -> float | None:
        if not self.floor_seconds:
            return None
        return self.seconds / self.floor_seconds

    @property
    def within_budget(self) -> bool | None:
        return None if self.budget_seconds is None else self.seconds <= self.budget_seconds


@dataclass
class BenchContext:
    """What every section may use: the date the portfolio is as of, and handy objects in it."""

    as_of: dt.date
    pilot_count: int
    sample_pilot_keys: list[str] = field(default_factory=list)
    executive_username: str = ""
    repeat: int = 20
    # The benchmark database, for sections that measure a child process (a worker's memory).
    database_url: str = ""


def wall_seconds(run: Callable[[], object]) -> float:
    """Wall time of one call."""
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls after one warm-up call."""
    run()
    return statistics.median([wall_seconds(run) for _ in range(repeat)])
