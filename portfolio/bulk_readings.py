"""Readings written in bulk with plain SQL: one statement for a thousand rows, history rows included.

Why not ``bulk_create``: building a model instance per reading and per history row and
binding ten thousand parameters costs ~0.6 s for a batch of 1,000, three times the API's
budget. Here the rows travel as one JSON parameter (``portfolio.json_rows``) and the
database expands them; the history rows simple_history would write are written the same
way, from values already in hand, so nothing is read back. Only ``portfolio.services``
calls this, inside its transaction; a field added to KpiReading must be added here too
(the tests of the batch service fail until it is).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from portfolio.json_rows import rows_table
from portfolio.models import KpiReading

HistoryRecord = KpiReading.history.model


@dataclass(frozen=True)
class HistoryRow:
    """A reading's state to keep in its history: ``+`` created, ``~`` changed."""

    reading_id: int
    kpi_id: int
    measured_on: dt.date
    value: float
    note: str
    recorded_by_id: int | None
    source: str
    recorded_at: dt.datetime
    history_type: str
    history_date: dt.datetime
    history_user_id: int | None


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _when(value: dt.datetime) -> str:
    # SQLite keeps datetimes as text in Django's own format; PostgreSQL parses ISO 8601.
    adapted = connection.ops.adapt_datetimefield_value(value)
    return adapted if isinstance(adapted, str) else adapted.isoformat()


def readings_insert(
    rows: Sequence[tuple[int, dt.date, float, str]],
    *,
    recorded_by_id: int | None,
    source: str,
    recorded_at: dt.datetime,
) -> dict[tuple[int, dt.date], int]:
    """Insert (kpi id, date, value, note) rows; the new ids by (kpi id, date)."""
    if not rows:
        return {}
    data = [{"kpi_id": k, "measured_on": on.isoformat(), "value": v, "note": n} for k, on, v, n in rows]
    sql = (
        f"INSERT INTO {_table(KpiReading)} (kpi_id, measured_on, value, note, recorded_by_id, source, recorded_at) "  # noqa: S608
        "SELECT j.kpi_id, j.measured_on, j.value, j.note, %s, %s, %s FROM "
        + rows_table({"kpi_id": "bigint", "measured_on": "date", "value": "double precision", "note": "text"})
        # WHERE true: SQLite's parser needs it before RETURNING on INSERT ... SELECT.
        + " WHERE true RETURNING id, kpi_id, measured_on"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [recorded_by_id, source, _when(recorded_at), json.dumps(data)])
        found = cursor.fetchall()
    # RETURNING promises no order: match the ids to the rows by their key.
    return {(kpi_id, _date(measured_on)): pk for pk, kpi_id, measured_on in found}


def _date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def readings_update(
    rows: Sequence[tuple[int, float, str]], *, recorded_by_id: int | None, source: str, recorded_at: dt.datetime
) -> None:
    """Set (reading id, value, note) with who recorded them, how and when."""
    if not rows:
        return
    table = _table(KpiReading)
    data = [{"id": pk, "value": v, "note": n} for pk, v, n in rows]
    sql = (
        f"UPDATE {table} SET value = j.value, note = j.note, recorded_by_id = %s, source = %s, recorded_at = %s "  # noqa: S608
        "FROM "
        + rows_table({"id": "bigint", "value": "double precision", "note": "text"})
        + f" WHERE {table}.id = j.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [recorded_by_id, source, _when(recorded_at), json.dumps(data)])


def history_insert(rows: Sequence[HistoryRow]) -> None:
    """Write the history rows, in their order (simple_history's historical readings table)."""
    if not rows:
        return
    # A batch has one or two distinct times: format each once, not twice per row.
    formatted: dict[dt.datetime, str] = {}

    def when(value: dt.datetime) -> str:
        if value not in formatted:
            formatted[value] = _when(value)
        return formatted[value]

    data = [
        {
            "id": row.reading_id,
            "kpi_id": row.kpi_id,
            "measured_on": row.measured_on.isoformat(),
            "value": row.value,
            "note": row.note,
            "recorded_by_id": row.recorded_by_id,
            "source": row.source,
            "recorded_at": when(row.recorded_at),
            "history_type": row.history_type,
            "history_date": when(row.history_date),
            "history_user_id": row.history_user_id,
        }
        for row in rows
    ]
    columns = {
        "id": "bigint",
        "kpi_id": "bigint",
        "measured_on": "date",
        "value": "double precision",
        "note": "text",
        "recorded_by_id": "bigint",
        "source": "text",
        "recorded_at": "timestamptz",
        "history_type": "text",
        "history_date": "timestamptz",
        "history_user_id": "bigint",
    }
    names = ", ".join(columns)
    sql = (
        f"INSERT INTO {_table(HistoryRecord)} ({names}, history_change_reason) "  # noqa: S608
        f"SELECT {', '.join(f'j.{name}' for name in columns)}, NULL FROM " + rows_table(columns)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(data)])
