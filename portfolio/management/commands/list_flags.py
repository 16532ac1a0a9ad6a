"""``manage.py list_flags [--json]``: the open health flags, sorted by pilot, kind and subject."""

from __future__ import annotations

import json as _json

from django.core.management.base import BaseCommand, CommandParser

from portfolio.flags import open_flags


class Command(BaseCommand):
    help = "List the open health flags, as a table or (--json) as a JSON list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print a JSON list (the stable format).")

    def handle(self, *args: object, json: bool = False, **options: object) -> None:
        flags = [
            {
                "pilot": flag.pilot.key,
                "kind": flag.kind,
                "subject": flag.subject_key,
                "severity": flag.severity,
                "detail": flag.detail,
            }
            for flag in open_flags()
        ]
        # Sorted here rather than in SQL: a database collation may order keys
        # differently from plain string order, and the output must be the same on both.
        flags.sort(key=lambda f: (f["pilot"], f["kind"], f["subject"] or ""))
        if json:
            self.stdout.write(_json.dumps(flags, indent=2, ensure_ascii=False))
        elif not flags:
            self.stdout.write("No open flags.")
        else:
            self._write_table(flags)

    def _write_table(self, flags: list[dict[str, str | None]]) -> None:
        columns = ["pilot", "kind", "subject", "severity", "detail"]
        cells = [[str(flag[column] or "") for column in columns] for flag in flags]
        widths = [max(len(column), *(len(row[i]) for row in cells)) for i, column in enumerate(columns)]
        for row in [columns, *cells]:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
