"""Reads the API needs beyond ``portfolio.selectors``: the latest readings of several KPIs at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from portfolio.models import KpiReading


def latest_readings(kpi_ids: Sequence[int], *, per_kpi: int) -> dict[int, list[dict[str, Any]]]:
    """The latest ``per_kpi`` readings of each KPI, newest first, in one query."""
    if not kpi_ids or per_kpi <= 0:
        return {}
    rows = (
        KpiReading.objects.filter(kpi_id__in=kpi_ids)
        .annotate(position=Window(RowNumber(), partition_by=[F("kpi_id")], order_by=[F("measured_on").desc()]))
        .filter(position__lte=per_kpi)
        .order_by("kpi_id", "-measured_on")
        .values("kpi_id", "measured_on", "value", "note", "source", "recorded_at")
    )
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        found[row["kpi_id"]].append(
            {
                "on": row["measured_on"],
                "value": row["value"],
                "note": row["note"],
                "source": row["source"],
                "recorded_at": row["recorded_at"],
            }
        )
    return found
