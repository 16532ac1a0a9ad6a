"""``manage.py send_digests [--as-of DATE] [--dry-run]``: send this week's digests now (DESIGN 6 and 8).

Sends each owner and executive digest of the ISO week of the date that has not gone
out yet, so running it again, or beside the scheduled run, sends nothing twice. The dry
run lists who would get which digest and writes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from portfolio.digests import delivery
from portfolio.management.arguments import as_of_date, counted
from portfolio.tasks import schedule_digest_retries


class Command(BaseCommand):
    help = "Send this week's owner and executive digests that have not been sent (DESIGN section 6)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", metavar="YYYY-MM-DD", help="Send the digests of this date's week (default: today)."
        )
        parser.add_argument("--dry-run", action="store_true", help="List recipients and subjects; send nothing.")

    def handle(self, *args: object, as_of: str | None = None, dry_run: bool = False, **options: object) -> None:
        day = as_of_date(as_of) if as_of else None
        try:
            report = delivery.send_week(as_of=day, dry_run=dry_run)
        except DatabaseError as exc:
            raise CommandError(f"The digests could not be prepared: {exc}") from None
        if not dry_run:
            schedule_digest_retries(report.retries)

        heading = "Would send" if dry_run else "Digests"
        self.stdout.write(f"{heading} for {report.period} (as of {report.as_of:%Y-%m-%d}):")
        if not report.outcomes:
            self.stdout.write("  Nobody to send a digest to.")
        to_width = max((len(outcome.email or outcome.username) for outcome in report.outcomes), default=0)
        status_width = max((len(outcome.status) for outcome in report.outcomes), default=0)
        for outcome in report.outcomes:
            to = outcome.email or outcome.username
            line = f"  {outcome.kind:<9}  {to:<{to_width}}  {outcome.status:<{status_width}}  {outcome.subject}"
            self.stdout.write(line.rstrip())
            if outcome.error:
                self.stdout.write(f"             {outcome.error}")

        if dry_run:
            self.stdout.write(f"Dry run: nothing sent, {counted(report.count(delivery.WOULD_SEND), 'digest')} to send.")
            return
        failed = report.count(delivery.FAILED)
        summary = (
            f"Sent {counted(report.count(delivery.SENT), 'digest')}; "
            f"{report.count(delivery.ALREADY_SENT)} already sent, "
            f"{report.count(delivery.BUSY)} being sent by another run, {failed} failed."
        )
        if failed:
            raise CommandError(f"{summary} The failed ones are recorded and will be retried.")
        self.stdout.write(summary)
