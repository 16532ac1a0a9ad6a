"""Whether a KPI's baseline and target, and a kill criterion's condition, make sense, in plain words.

The database holds the same rules as constraints; these say what is wrong in words a
person reads, before the constraint would refuse the row with its name.
"""

from __future__ import annotations

from portfolio.models import Direction


def target_problem(direction: str, baseline: float | None, target: float | None) -> str | None:
    """Why ``target`` cannot be the target of a KPI with ``baseline``; None when it can."""
    if target is None or baseline is None:
        return None
    if direction == Direction.DECREASE and not target < baseline:
        return "Lower is better for this KPI, so the target must be below the baseline."
    if direction != Direction.DECREASE and not target > baseline:
        return "Higher is better for this KPI, so the target must be above the baseline."
    return None


def condition_problem(has_kpi: bool, comparator: str | None, threshold: float | None) -> dict[str, str]:
    """Field → problem for a measurable condition that is half filled in (it is all of KPI, comparison, threshold)."""
    parts = {"kpi": has_kpi, "comparator": bool(comparator), "threshold": threshold is not None}
    if all(parts.values()) or not any(parts.values()):
        return {}
    message = "A measurable condition needs a KPI, below or above, and a threshold; leave all three empty otherwise."
    return {name: message for name, given in parts.items() if not given}
