"""Export the whole portfolio as a pilot-portfolio/v1 JSON document (DESIGN section 7)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portfolio.exchange import export_document


def render(document: dict) -> str:
    """The document as the file holds it: indented, UTF-8 as written, keys in the documented order."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


class Command(BaseCommand):
    help = "Export the whole portfolio as a pilot-portfolio/v1 JSON document (to standard output unless -o)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")

    def handle(self, *args: Any, output: str | None, **options: Any) -> None:
        document = export_document()
        text = render(document)
        if not output or output == "-":
            self.stdout.write(text, ending="")
            return
        _write_atomically(Path(output), text)
        people, pilots = len(document["people"]), len(document["pilots"])
        self.stderr.write(f"Exported {pilots:,} pilots and {people:,} people to {output}.")


def _write_atomically(path: Path, text: str) -> None:
    # Through a temporary file and a rename, so that a failed export never
    # leaves half a document where the last good one was.
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise CommandError(f"{path}: cannot be written: {error.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise CommandError(f"{path}: cannot be written: {error.strerror}") from None
