"""Rows sent as one JSON parameter read back as a table, on the database the tests run on."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from portfolio.json_rows import rows_table

pytestmark = pytest.mark.django_db

COLUMNS = {"id": "bigint", "note": "text", "value": "double precision"}


def read_back(rows: list[dict]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT j.id, j.note, j.value FROM {rows_table(COLUMNS)} ORDER BY j.id", [json.dumps(rows)])
        return cursor.fetchall()


def test_the_rows_come_back_as_a_table_with_the_columns_named():
    rows = [{"id": 2, "note": "second", "value": 1.5}, {"id": 1, "note": "it's “quoted”", "value": -3.0}]

    assert read_back(rows) == [(1, "it's “quoted”", -3.0), (2, "second", 1.5)]


def test_a_missing_value_reads_as_null_and_no_rows_as_an_empty_table():
    assert read_back([{"id": 1, "value": 2.0}]) == [(1, None, 2.0)]
    assert read_back([]) == []


def test_another_database_is_refused(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "mysql")

    with pytest.raises(NotImplementedError, match="not mysql"):
        rows_table(COLUMNS)
