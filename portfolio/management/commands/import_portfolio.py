"""Import a portfolio exchange document (DESIGN section 7): all of it, or on any error nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portfolio.exchange import ImportRejected, import_document


class Command(BaseCommand):
    help = (
        "Import a portfolio from a pilot-portfolio/v1 JSON file (- for standard input). "
        "The whole file is checked first; on any error nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="the JSON document, or - to read standard input")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        name = "standard input" if file == "-" else file
        text = _read(file, name)
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{name}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
            ) from None
        try:
            summary = import_document(document)
        except ImportRejected as rejected:
            for line in rejected.errors:
                self.stderr.write(line)
            raise CommandError(str(rejected)) from None
        self.stdout.write(str(summary))


def _read(file: str, name: str) -> str:
    try:
        if file == "-":
            return sys.stdin.read()
        # utf-8-sig: a byte order mark left by a Windows editor is not an error.
        return Path(file).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{name}: is a directory, not a file") from None
    except UnicodeDecodeError as error:
        raise CommandError(f"{name}: not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise CommandError(f"{name}: cannot be read: {error.strerror}") from None
