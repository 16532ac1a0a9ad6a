"""Selectors for health flags: the open ones, and how many of each kind."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from portfolio.models import Flag


def open_flags() -> QuerySet[Flag]:
    """Every open flag with its pilot and subject, ordered by pilot key and kind."""
    return (
        Flag.objects.filter(resolved_at__isnull=True)
        .select_related("pilot", "kpi", "kill_criterion")
        .order_by("pilot__key", "kind", "id")
    )


def open_flag_counts_by_kind() -> dict[str, int]:
    """How many flags of each kind are open, for kinds with at least one."""
    rows = Flag.objects.filter(resolved_at__isnull=True).order_by().values("kind").annotate(open=Count("id"))
    return {row["kind"]: row["open"] for row in rows}
