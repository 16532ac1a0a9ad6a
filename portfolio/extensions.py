"""What the portfolio asks of apps built on it, without importing them.

``gates`` depends on ``portfolio``, never the reverse (DESIGN 2). Yet the dashboard and
the executive digest show gate facts: the unmet criteria blocking each pilot, the gate
decisions of a week, the overrides. ``gates`` registers its providers here in its
``AppConfig.ready()``; until one is registered the portfolio shows nothing for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class GateDecision:
    pilot_id: int
    pilot_key: str
    pilot_name: str
    from_phase: str
    to_phase: str
    decision: str  # advance | hold | kill
    decided_by: str  # a person's display name, or ""
    decided_on: dt.date
    override_justification: str


# For the given pilots, the labels of the unmet criteria of each one's next gate, as of a date.
# Must run in a fixed number of queries whatever the number of pilots.
GateBlockers = Callable[[Iterable[int], dt.date], dict[int, list[str]]]
# Gate decisions recorded with decided_on in [since, until].
GateDecisions = Callable[[dt.date, dt.date], list[GateDecision]]
# Ids of the pilots whose last advance was an override.
GateOverrides = Callable[[], set[int]]


class _Registry:
    def __init__(self) -> None:
        self.gate_blockers: GateBlockers | None = None
        self.gate_decisions: GateDecisions | None = None
        self.gate_overrides: GateOverrides | None = None


registry = _Registry()


def gate_blockers(pilot_ids: Iterable[int], as_of: dt.date) -> dict[int, list[str]]:
    return registry.gate_blockers(pilot_ids, as_of) if registry.gate_blockers else {}


def gate_decisions(since: dt.date, until: dt.date) -> list[GateDecision]:
    return registry.gate_decisions(since, until) if registry.gate_decisions else []


def gate_overrides() -> set[int]:
    return registry.gate_overrides() if registry.gate_overrides else set()
