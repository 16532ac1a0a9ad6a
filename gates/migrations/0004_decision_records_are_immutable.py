"""The database refuses to rewrite a recorded decision: its snapshot items, and its decision fields.

Triggers rather than model code alone, so the rule holds for every writer (a bulk
update, raw SQL, a future API). They fire only when a listed column's value changes:
Django's save() writes every column, the admin saves a review whose rationale was
corrected, and the foreign keys Django nulls on delete (criterion_id when a criterion
is deleted, decided_by_id when a user is) are not listed. Deleting a review or its
pilot still takes the snapshot along. Rationale, lessons and the next review date
stay editable: the portfolio office may correct the wording in the admin.

On SQLite, a later migration that rebuilds one of these tables drops its trigger:
such a migration must create it again (``create_triggers`` below).
"""

from __future__ import annotations

from django.db import migrations

ITEM_COLUMNS = ("review_id", "code", "label", "kind", "met", "reason", '"order"')
REVIEW_COLUMNS = ("pilot_id", "from_phase", "to_phase", "decision", "decided_on", "override_justification")
MESSAGE = "a recorded gate decision cannot be rewritten"

TRIGGERS = [
    ("gates_gatereviewitem", "gates_snapshot_item_immutable", ITEM_COLUMNS),
    ("gates_gatereview", "gates_decision_immutable", REVIEW_COLUMNS),
]


def changed(columns: tuple[str, ...], different: str) -> str:
    """SQL that is true when any column's value changes, NULLs included."""
    return " OR ".join(f"OLD.{column} {different} NEW.{column}" for column in columns)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION gates_refuse_rewrite() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; END; "
            "$$ LANGUAGE plpgsql"
        )
        for table, name, columns in TRIGGERS:
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({changed(columns, 'IS DISTINCT FROM')}) EXECUTE FUNCTION gates_refuse_rewrite()"
            )
    elif vendor == "sqlite":
        for table, name, columns in TRIGGERS:
            schema_editor.execute(
                f"CREATE TRIGGER {name} BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN {changed(columns, 'IS NOT')} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table, name, _ in TRIGGERS:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS gates_refuse_rewrite()")


class Migration(migrations.Migration):
    dependencies = [("gates", "0003_portfolio_office_permissions")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
