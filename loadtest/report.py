"""The load test's tables: each request's count, failures, p50 and p95, beside its budget.

Computed from the log of every request the locustfile writes (``REQUEST_LOG_COLUMNS``), for
the whole run and for its steady state: the requests started after the last user signed in
and landed. The first seconds carry every user's sign-in at once (the production password
hasher costs about a fifth of a second of CPU each), which says how the site takes fifty people
arriving together, not how it serves fifty people at work; the two are reported apart.

Budgets (issue 9): dashboard p95 ≤ 500 ms, reading POST p95 ≤ 300 ms (the htmx form, its
confirmed replacement and the API's week of readings), no errors at all.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtest import names

P95_BUDGET_MS = {
    names.DASHBOARD: 500,
    names.DASHBOARD_FILTERED: 500,
    names.READING_POST: 300,
    names.READING_REPLACE: 300,
    names.API_READINGS: 300,
}
TOTAL = "Aggregated"


@dataclass(frozen=True)
class Row:
    name: str
    count: int
    failures: int
    p50_ms: float
    p95_ms: float
    per_second: float

    @property
    def budget_ms(self) -> int | None:
        return P95_BUDGET_MS.get(self.name)

    @property
    def within_budget(self) -> bool | None:
        return None if self.budget_ms is None else self.p95_ms <= self.budget_ms


REQUEST_LOG_COLUMNS = ("started", "name", "method", "ms", "failed")


@dataclass(frozen=True)
class Request:
    started: float  # seconds since the epoch
    name: str
    ms: float
    failed: bool

    @property
    def ended(self) -> float:
        return self.started + self.ms / 1000


def read_requests(path: Path) -> list[Request]:
    """The requests of the log the locustfile writes, in the order they ended."""
    with path.open(newline="") as handle:
        return [
            Request(started=float(r["started"]), name=r["name"], ms=float(r["ms"]), failed=r["failed"] == "1")
            for r in csv.DictReader(handle)
        ]


def steady_from(requests: Sequence[Request]) -> float | None:
    """When the last user had signed in and seen the landing page (None: nobody signed in)."""
    return max((r.ended for r in requests if r.name == names.LANDING), default=None)


def steady_state(requests: Sequence[Request]) -> list[Request]:
    """The requests started once the last user had signed in (none if nobody signed in)."""
    start = steady_from(requests)
    return [] if start is None else [r for r in requests if r.started >= start]


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``share`` of them at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


def summarise(requests: Sequence[Request]) -> list[Row]:
    """One row per request name, then the aggregate."""
    if not requests:
        return []
    span = max(r.ended for r in requests) - min(r.started for r in requests)
    by_name: dict[str, list[Request]] = defaultdict(list)
    for request in requests:
        by_name[request.name].append(request)

    def row(name: str, group: Sequence[Request]) -> Row:
        times = [r.ms for r in group]
        return Row(
            name=name,
            count=len(group),
            failures=sum(r.failed for r in group),
            p50_ms=percentile(times, 0.50),
            p95_ms=percentile(times, 0.95),
            per_second=len(group) / span if span > 0 else 0.0,
        )

    return [row(name, group) for name, group in by_name.items()] + [row(TOTAL, requests)]


def read_failures(path: Path) -> list[str]:
    """One line per distinct failure in locust's ``<prefix>_failures.csv``."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [f"{r['Occurrences']} × {r['Method']} {r['Name']}: {r['Error']}" for r in csv.DictReader(handle)]


def error_count(rows: Sequence[Row]) -> int:
    return next((row.failures for row in rows if row.name == TOTAL), sum(row.failures for row in rows))


def broken_budgets(rows: Sequence[Row], *, every_kind_of_user: bool = True) -> list[str]:
    """The names of the budgets broken: requests over their p95, and "errors" if any request failed.

    With every kind of user in the run, a budgeted request never made counts as broken too
    (the scenario lost it); a run of some kinds only (``USER_CLASSES``) is judged on what it made.
    """
    broken = [row.name for row in rows if row.within_budget is False]
    missing = sorted(set(P95_BUDGET_MS) - {row.name for row in rows if row.count}) if every_kind_of_user else []
    return broken + [f"{name} (never requested)" for name in missing] + (["errors"] if error_count(rows) else [])


HEADERS = ("request", "count", "failures", "p50", "p95", "req/s", "p95 budget", "within budget")


def render(rows: Sequence[Row]) -> list[str]:
    """The table to print: one line per request name, the aggregate, and the error budget."""
    ordered = sorted((row for row in rows if row.name != TOTAL), key=lambda row: row.name) + [
        row for row in rows if row.name == TOTAL
    ]
    cells = [
        (
            "all requests" if row.name == TOTAL else row.name,
            f"{row.count:,}",
            f"{row.failures:,}",
            f"{row.p50_ms:.0f} ms",
            f"{row.p95_ms:.0f} ms",
            f"{row.per_second:.1f}",
            "" if row.budget_ms is None else f"≤ {row.budget_ms} ms",
            "" if row.within_budget is None else ("yes" if row.within_budget else "NO"),
        )
        for row in ordered
    ]
    total = sum(row.count for row in rows if row.name != TOTAL)
    errors = error_count(rows)
    cells.append(("errors", f"{errors:,} of {total:,}", "", "", "", "", "0", "yes" if errors == 0 else "NO"))
    widths = [max(len(line[column]) for line in [HEADERS, *cells]) for column in range(len(HEADERS))]
    aligned = [str.ljust] + [str.rjust] * (len(HEADERS) - 2) + [str.ljust]

    def line(row: Sequence[str]) -> str:
        return "  ".join(align(cell, width) for align, cell, width in zip(aligned, row, widths, strict=True)).rstrip()

    return [line(HEADERS), "  ".join("-" * width for width in widths), *(line(cell) for cell in cells)]
