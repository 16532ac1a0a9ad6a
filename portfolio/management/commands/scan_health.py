"""``manage.py scan_health [--as-of DATE]``: run the health scan now and print a summary."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from portfolio.flags import open_flag_counts_by_kind
from portfolio.management.arguments import as_of_date, counted
from portfolio.scan import scan_portfolio


class Command(BaseCommand):
    help = "Scan every pilot's health now (DESIGN section 5) and print what changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="Scan as of this date (default: today).")

    def handle(self, *args: object, as_of: str | None = None, **options: object) -> None:
        day = as_of_date(as_of) if as_of else None
        try:
            run = scan_portfolio(as_of=day)
        except DatabaseError as exc:
            raise CommandError(f"The scan failed: {exc}") from None
        self.stdout.write(
            f"Scanned {counted(run.pilots_scanned, 'pilot')} as of {run.as_of:%Y-%m-%d}: "
            f"{counted(run.flags_raised, 'flag')} raised, {run.flags_resolved} resolved."
        )
        counts = open_flag_counts_by_kind()
        if not counts:
            self.stdout.write("No open flags.")
            return
        rows = [*sorted(counts.items()), ("total", sum(counts.values()))]
        width = max(len(kind) for kind, _ in rows)
        self.stdout.write("Open flags by kind:")
        for kind, count in rows:
            self.stdout.write(f"  {kind:<{width}}  {count:>5}")
