"""The load test's table: each request's count, failures, p50 and p95 from locust's CSV, beside its budget.

Budgets (issue 9): dashboard p95 ≤ 500 ms, reading POST p95 ≤ 300 ms (the htmx form, its
confirmed replacement and the API's week of readings), no errors at all.
"""

from __future__ import annotations

import csv
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


def _number(text: str) -> float:
    # locust writes "N/A" for a percentile of no requests.
    try:
        return float(text)
    except ValueError:
        return 0.0


def read_stats(path: Path) -> list[Row]:
    """The rows of locust's ``<prefix>_stats.csv``, the aggregate last."""
    with path.open(newline="") as handle:
        return [
            Row(
                name=record["Name"],
                count=int(record["Request Count"]),
                failures=int(record["Failure Count"]),
                p50_ms=_number(record["50%"]),
                p95_ms=_number(record["95%"]),
                per_second=_number(record["Requests/s"]),
            )
            for record in csv.DictReader(handle)
        ]


def read_failures(path: Path) -> list[str]:
    """One line per distinct failure in locust's ``<prefix>_failures.csv``."""
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return [f"{r['Occurrences']} × {r['Method']} {r['Name']}: {r['Error']}" for r in csv.DictReader(handle)]


def error_count(rows: Sequence[Row]) -> int:
    return next((row.failures for row in rows if row.name == TOTAL), sum(row.failures for row in rows))


def broken_budgets(rows: Sequence[Row]) -> list[str]:
    """The names of the budgets broken: requests over their p95, and "errors" if any request failed."""
    broken = [row.name for row in rows if row.within_budget is False]
    missing = sorted(set(P95_BUDGET_MS) - {row.name for row in rows if row.count})
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
