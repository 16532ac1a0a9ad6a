"""Which rows of an uploaded CSV of readings (``kpi,date,value,note``) can be recorded, and why not.

Pure: the file's bytes, the pilot's KPIs and the readings already recorded go in; a
plan comes out that lists every row with its line number and every problem in plain
words. The preview shows the plan, and only a plan without problems is committed,
all at once (``portfolio.services.readings_import_csv``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from portfolio.readings import ReadingProblem, check_reading_date, parse_number

MAX_UPLOAD_BYTES = 1_000_000
MAX_ROWS = 5_000
REQUIRED_COLUMNS = ("kpi", "date", "value")
COLUMNS = (*REQUIRED_COLUMNS, "note")
MAX_NOTE_CHARS = 2_000
# ISO dates only: "03/04/2026" means a different day on each side of the Atlantic.
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class KpiRef:
    """A KPI of the pilot the file is uploaded to."""

    id: int
    key: str
    name: str
    unit: str = ""


@dataclass(frozen=True)
class UploadRow:
    """One data row of the file, with what recording it would do or why it cannot be recorded."""

    line: int
    kpi_key: str
    date_text: str
    value_text: str
    note: str
    kpi: KpiRef | None = None
    measured_on: dt.date | None = None
    value: float | None = None
    problems: tuple[str, ...] = ()
    # What is recorded for that KPI and date now, if anything: (value, note).
    existing: tuple[float, str] | None = None

    @property
    def action(self) -> str:
        """new, replace or unchanged; "" for a row with problems."""
        if self.problems:
            return ""
        if self.existing is None:
            return "new"
        return "unchanged" if self.existing == (self.value, self.note) else "replace"


@dataclass(frozen=True)
class UploadPlan:
    """The rows of a file and the problems of the file as a whole."""

    rows: tuple[UploadRow, ...] = ()
    file_problems: tuple[str, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        """Every problem, the file's first, then each row's with its line number."""
        return [*self.file_problems, *(f"Line {row.line}: {p}" for row in self.rows for p in row.problems)]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    def fingerprint(self) -> str:
        """Digest of what committing would do: a commit refuses a plan that changed since its preview."""
        text = repr([(row.line, row.kpi_key, row.measured_on, row.value, row.note, row.existing) for row in self.rows])
        return hashlib.sha256(text.encode()).hexdigest()


def decode(data: bytes) -> str:
    """The file as text; UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8")."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReadingProblem('The file is not UTF-8 text. Save it as "CSV UTF-8" and upload it again.') from None


def size_problem(size: int) -> str | None:
    """Why a file of ``size`` bytes is refused before it is read, if it is."""
    if size > MAX_UPLOAD_BYTES:
        return (
            f"The file is {size / 1_000_000:.1f} MB; an upload may be at most {MAX_UPLOAD_BYTES // 1_000_000} MB. "
            "Split it into smaller files."
        )
    return None


def parse_upload(text: str, *, kpis: Iterable[KpiRef], started_on: dt.date, today: dt.date) -> UploadPlan:
    """Read the CSV ``text`` for a pilot with ``kpis`` started on ``started_on``."""
    by_key = {kpi.key: kpi for kpi in kpis}
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    rows: list[UploadRow] = []
    seen: dict[tuple[str, dt.date], int] = {}
    next_line = 1
    try:
        for cells in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_line = [cell.strip().lower() for cell in cells], line
                problem = _header_problem(header)
                if problem:
                    return UploadPlan(file_problems=(problem,))
                continue
            if len(rows) >= MAX_ROWS:
                rows.append(UploadRow(line=line, kpi_key="", date_text="", value_text="", note=""))
                continue
            rows.append(_parse_row(line, header, cells, by_key, started_on, today, seen))
    except csv.Error as error:
        return UploadPlan(file_problems=(f"Line {next_line}: the file is not valid CSV ({error}).",))
    if header is None:
        return UploadPlan(file_problems=("The file is empty. The first line names the columns: kpi,date,value,note.",))
    if len(rows) > MAX_ROWS:
        return UploadPlan(
            file_problems=(
                f"The file has more than {MAX_ROWS:,} readings; one upload takes at most {MAX_ROWS:,}. "
                "Split it into smaller files.",
            )
        )
    if not rows:
        return UploadPlan(file_problems=(f"The file has a header on line {header_line} but no readings.",))
    return UploadPlan(rows=tuple(rows))


def with_existing(plan: UploadPlan, existing: Mapping[tuple[int, dt.date], tuple[float, str]]) -> UploadPlan:
    """The plan with each row's current reading, keyed by (KPI id, date)."""
    rows = tuple(
        replace(row, existing=existing.get((row.kpi.id, row.measured_on))) if row.kpi and row.measured_on else row
        for row in plan.rows
    )
    return replace(plan, rows=rows)


def _header_problem(header: list[str]) -> str | None:
    expected = ", ".join(COLUMNS)
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        return f'The first line names the columns; "{unknown[0]}" is not one of them. Use: {expected}.'
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        return f'The first line names the columns; "{missing[0]}" is missing. Use: {expected} (note may be left out).'
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        return f'The column "{repeated[0]}" is named twice on the first line.'
    return None


def _parse_row(
    line: int,
    header: list[str],
    cells: list[str],
    kpis: Mapping[str, KpiRef],
    started_on: dt.date,
    today: dt.date,
    seen: dict[tuple[str, dt.date], int],
) -> UploadRow:
    if len(cells) > len(header):
        return UploadRow(
            line=line,
            kpi_key="",
            date_text="",
            value_text="",
            note="",
            problems=(f"It has {len(cells)} cells but the header names {len(header)} columns.",),
        )
    values = dict(zip(header, [cell.strip() for cell in cells], strict=False))
    row = UploadRow(
        line=line,
        kpi_key=values.get("kpi", ""),
        date_text=values.get("date", ""),
        value_text=values.get("value", ""),
        note=values.get("note", ""),
    )
    problems: list[str] = []
    kpi = kpis.get(row.kpi_key)
    if not row.kpi_key:
        problems.append("The kpi cell is empty; it holds the KPI's key, such as " + _keys_example(kpis) + ".")
    elif kpi is None:
        problems.append(f'"{row.kpi_key}" is not a KPI of this pilot; its KPIs are {_keys_example(kpis)}.')
    measured_on = _parse_date(row.date_text, problems)
    if measured_on is not None:
        try:
            check_reading_date(measured_on, started_on=started_on, today=today)
        except ReadingProblem as problem:
            problems.append(str(problem))
            measured_on = None
    value = None
    try:
        value = parse_number(row.value_text)
    except ReadingProblem as problem:
        problems.append(str(problem))
    if len(row.note) > MAX_NOTE_CHARS:
        problems.append(f"The note is {len(row.note):,} characters long; at most {MAX_NOTE_CHARS:,} fit.")
    if kpi is not None and measured_on is not None:
        first = seen.setdefault((kpi.key, measured_on), line)
        if first != line:
            problems.append(f"Line {first} already has a reading of {kpi.key} for {measured_on.isoformat()}.")
    return replace(row, kpi=kpi, measured_on=measured_on, value=value, problems=tuple(problems))


def _parse_date(text: str, problems: list[str]) -> dt.date | None:
    if not text:
        problems.append("The date is missing; write it as YYYY-MM-DD, such as 2026-11-16.")
        return None
    try:
        if _ISO_DATE.match(text):
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    problems.append(f'"{text}" is not a date; write it as YYYY-MM-DD, such as 2026-11-16.')
    return None


def _keys_example(kpis: Mapping[str, KpiRef]) -> str:
    if not kpis:
        return "(none yet: add a KPI first)"
    return ", ".join(sorted(kpis))
