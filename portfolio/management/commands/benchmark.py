"""``manage.py benchmark``: the performance budgets of DESIGN section 9, each beside its floor.

On PostgreSQL only, in a dedicated ``<database>_bench`` database on the same server (created,
migrated, filled with a generated portfolio and dropped afterwards unless ``--keep``), so
the real data is never touched.
"""

from __future__ import annotations

import argparse
import time
import warnings
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connection
from django.utils import timezone

from portfolio.benchmarks import BenchContext
from portfolio.benchmarks.generate import generate_portfolio
from portfolio.benchmarks.runner import (
    DEFAULT_SECTIONS,
    check_section_names,
    database_url,
    dedicated_database,
    render_table,
    run_section,
    sealed_off,
)


def _count(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, not {number}")
    return number


class Command(BaseCommand):
    help = (
        "Generate a large portfolio in a dedicated PostgreSQL database and measure the scan, pages, "
        "digests and API against their budgets (DESIGN section 9)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pilots", type=_count, default=2000)
        parser.add_argument("--kpis", type=_count, default=10_000)
        parser.add_argument("--readings", type=_count, default=1_000_000)
        parser.add_argument(
            "--sections", default=",".join(DEFAULT_SECTIONS), help="comma-separated, from portfolio/benchmarks/"
        )
        parser.add_argument("--repeat", type=_count, default=20, help="timed runs per figure (median)")
        parser.add_argument("--seed", type=int, default=1, help="the generated portfolio's random seed")
        parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(
                f"The benchmark runs on PostgreSQL only (this is {connection.vendor}): "
                "set DATABASE_URL=postgres://user@host:5432/name"
            )
        try:
            sections = check_section_names([name.strip() for name in options["sections"].split(",") if name.strip()])
        except ValueError as error:
            raise CommandError(str(error)) from None
        if options["pilots"] < 1:
            raise CommandError("--pilots must be at least 1")

        started = time.perf_counter()
        try:
            # Django warns when it falls back from the maintenance database; the error says it all.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                with connection._nodb_cursor() as cursor:
                    cursor.execute("SELECT 1")
        except DatabaseError as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CommandError(f"Cannot reach the PostgreSQL server: {first_line}") from None
        with sealed_off(), dedicated_database(keep=options["keep"]) as name:
            self.stdout.write(f"Database {name}: created and migrated in {time.perf_counter() - started:.1f} s")
            as_of = timezone.localdate()
            try:
                portfolio = generate_portfolio(
                    pilots=options["pilots"],
                    kpis=options["kpis"],
                    readings=options["readings"],
                    as_of=as_of,
                    seed=options["seed"],
                )
            except ValueError as error:
                raise CommandError(f"Cannot generate that portfolio: {error}") from None
            counts = ", ".join(f"{count} {what}" for what, count in portfolio.counts.items())
            self.stdout.write(f"Generated as of {as_of:%Y-%m-%d} in {portfolio.seconds:.1f} s: {counts}")
            vacuumed = time.perf_counter()
            with connection.cursor() as cursor:
                # As autovacuum would have done long before anyone measured: planner
                # statistics and the visibility map for index-only scans.
                cursor.execute("VACUUM (ANALYZE)")
            self.stdout.write(f"Vacuumed and analysed in {time.perf_counter() - vacuumed:.1f} s")

            context = BenchContext(
                as_of=as_of,
                pilot_count=options["pilots"],
                sample_pilot_keys=portfolio.sample_pilot_keys,
                executive_username=portfolio.executive_username,
                repeat=max(1, options["repeat"]),
                database_url=database_url(connection.settings_dict),
            )
            results = []
            for section in sections:
                measured = time.perf_counter()
                self.stdout.write(f"Measuring {section}...")
                results.append(run_section(section, context))
                self.stdout.write(f"  {section}: {time.perf_counter() - measured:.1f} s")
        if not options["keep"]:
            self.stdout.write(f"Dropped {name}.")
        self.stdout.write("")
        for line in render_table(results):
            self.stdout.write(line)
        failed = [result.section for result in results if result.error]
        if failed:
            raise CommandError(f"Some sections failed: {', '.join(failed)}")
