"""Load the deterministic demo portfolio through the importer and print the demo logins."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from portfolio.demo import DEMO_PASSWORD, demo_document, demo_logins, demo_logins_enable
from portfolio.exchange import ImportRejected, import_document


class Command(BaseCommand):
    help = (
        "Load a realistic demo portfolio (healthy, drifting, ownerless, stuck and killed pilots) dated "
        "relative to --as-of, and give every demo user the demo password. Running it again updates by key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", metavar="DATE", help="the demo's today, YYYY-MM-DD (default: today)")

    def handle(self, *args: Any, as_of: str | None, **options: Any) -> None:
        today = _parse_date(as_of) if as_of else timezone.localdate()
        document = demo_document(today)
        logins = demo_logins(document)
        try:
            # One transaction: a demo without its logins would be a demo nobody can open.
            with transaction.atomic():
                summary = import_document(document)
                demo_logins_enable(usernames=[login.username for login in logins])
        except ImportRejected as rejected:
            for line in rejected.errors:
                self.stderr.write(line)
            raise CommandError(f"The demo portfolio was rejected by the importer: {rejected}") from None

        self.stdout.write(f"Demo portfolio as of {today.isoformat()}: {summary}")
        self.stdout.write("")
        rows = [("username", "role", "password", "who")]
        for login in logins:
            password = DEMO_PASSWORD if login.active else "(inactive)"
            rows.append((login.username, login.role, password, f"{login.name}, {login.title}"))
        widths = [max(len(row[column]) for row in rows) for column in range(3)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[3]]))


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of must be a date like 2026-11-16, not {text!r}") from None
