"""Every row of the database, to prove a refused request wrote nothing (and an allowed one only its own rows)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import connection

# Rows a request may touch without writing anything of the portfolio's: sessions, and
# the contenttypes and permissions that only migrations change (left out for speed).
SKIPPED_APPS = {"sessions", "contenttypes"}
SKIPPED_MODELS = {"auth.permission"}
# Bookkeeping written by merely being there: signing in, and a token's "last used" stamp.
IGNORED_FIELDS = {"last_login", "last_used_at"}

Row = tuple[str, Any]
Snapshot = dict[Row, dict[str, Any]]


def _models() -> list[type]:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label not in SKIPPED_APPS and model._meta.label_lower not in SKIPPED_MODELS
    ]


def database_snapshot() -> Snapshot:
    """Each row as (model, primary key) → its values (plain SQL: the walk takes hundreds of these)."""
    rows: Snapshot = {}
    with connection.cursor() as cursor:
        for model in _models():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")
            columns = [column[0] for column in cursor.description]
            for values in cursor.fetchall():
                row = {
                    column: value for column, value in zip(columns, values, strict=True) if column not in IGNORED_FIELDS
                }
                rows[(model._meta.label_lower, row[model._meta.pk.column])] = row
    return rows


def changed_rows(before: Snapshot, after: Snapshot) -> dict[Row, dict[str, Any]]:
    """Rows added, removed or changed, each with its values after (or before, for a removed row)."""
    return {
        row: after.get(row, before.get(row, {}))
        for row in before.keys() | after.keys()
        if before.get(row) != after.get(row)
    }


def belongs_to(row: Row, values: dict[str, Any], user_id: int) -> bool:
    """A row of the person's own account: the user itself, or a row whose user is them."""
    label, pk = row
    if label == "auth.user":
        return pk == user_id
    return values.get("user_id") == user_id
