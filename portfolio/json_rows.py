"""Rows sent to the database as one JSON parameter and read back as a table ``j``.

One parameter whatever the number of rows: a statement stays one query for ten rows or
ten thousand, where bulk_create and bulk_update batch by 999 parameters on SQLite (and
bulk_update's CASE grows quadratically on PostgreSQL). The health scan's flag writes and
the readings written in bulk use it.
"""

from __future__ import annotations

from django.db import connection


def rows_table(columns: dict[str, str]) -> str:
    """SQL for the JSON parameter (``%s``) as a table ``j`` with ``columns`` (name: PostgreSQL type).

    Column names must be the caller's constants, never input: they are put in the SQL as they are.
    """
    if connection.vendor == "postgresql":
        # The types keep the columns stable whatever the rows hold (or when there are none).
        typed = ", ".join(f"{name} {sql_type}" for name, sql_type in columns.items())
        return f"jsonb_to_recordset(%s::jsonb) AS j({typed})"
    if connection.vendor == "sqlite":
        picked = ", ".join(f"json_extract(value, '$.{name}') AS {name}" for name in columns)
        return f"(SELECT {picked} FROM json_each(%s)) AS j"  # noqa: S608
    raise NotImplementedError(f"Rows as JSON need SQLite or PostgreSQL, not {connection.vendor}.")
