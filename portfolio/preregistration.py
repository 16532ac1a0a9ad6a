"""Pre-registration: once a pilot has passed its first gate, its goalposts are frozen.

Baselines, targets and kill criteria may still change after approval, but only with a
recorded reason, and every such change is listed on the pilot page ("Changed after
approval"). A KPI or kill criterion added or deleted after approval moves the goalposts
as much as an edited one. The reason is stored as the history record's change reason.
"""

from __future__ import annotations

from portfolio.models import Phase

# The fields of a KPI that are goalposts; its name or unit may change freely.
FROZEN_KPI_FIELDS = ("direction", "baseline", "baseline_on", "target", "target_on")
# Every field of a kill criterion is a goalpost.
FROZEN_KILL_CRITERION_FIELDS = ("description", "kpi", "comparator", "threshold", "evaluate_on")
# The history records that move a goalpost after approval (simple-history's types), in
# the words "Changed after approval" uses for them.
GOALPOST_ACTIONS = {"+": "added", "~": "changed", "-": "deleted"}


def goalposts_frozen(phase: str) -> bool:
    """A pilot beyond proof of concept has passed the first gate (a killed one keeps its phase)."""
    return phase != Phase.POC


class ReasonRequired(ValueError):
    """A frozen goalpost was changed without saying why."""
