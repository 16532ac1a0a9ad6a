"""Fill the (empty, migrated) load database and write the scenario: `python -m loadtest.prepare --out FILE`.

The portfolio is the benchmark's (``portfolio.benchmarks.generate``): deterministic, written
with COPY, with the healthy, drifting, stale and ownerless pilots a real portfolio has, and
every person's password ``BENCH_PASSWORD``. PostgreSQL only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="where to write the scenario (JSON)")
    parser.add_argument("--pilots", type=int, default=2000)
    parser.add_argument("--kpis", type=int, default=10_000)
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portfolio.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from loadtest.scenario import write_scenario
    from portfolio.benchmarks.generate import BENCH_PASSWORD, generate_portfolio

    if connection.vendor != "postgresql":
        sys.stderr.write("The load test's data is generated with PostgreSQL's COPY: set DATABASE_URL=postgres://...\n")
        return 2
    generated = generate_portfolio(
        pilots=args.pilots, kpis=args.kpis, readings=args.readings, as_of=timezone.localdate(), seed=args.seed
    )
    counts = ", ".join(f"{count:,} {what}" for what, count in generated.counts.items())
    print(f"Generated in {generated.seconds:.1f} s: {counts}", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # What autovacuum would have done long before anyone used the portfolio.
        cursor.execute("VACUUM (ANALYZE)")
    print(f"Vacuumed and analysed in {time.perf_counter() - started:.1f} s", flush=True)
    scenario = write_scenario(args.out, password=BENCH_PASSWORD)
    print(
        f"Scenario: {len(scenario['executives'])} executives, {len(scenario['owners'])} owners, "
        f"{len(scenario['feeds'])} API feeds",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
