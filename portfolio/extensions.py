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

from django.db.models import Q


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


@dataclass(frozen=True)
class KilledPilotLesson:
    """A killed pilot and what its kill review recorded."""

    pilot_key: str
    pilot_name: str
    problem: str
    killed_on: dt.date | None
    decided_by: str  # a person's display name, or ""
    rationale: str
    lessons: str


# For the given pilots, the labels of the unmet criteria of each one's next gate, as of a date.
# Must run in a fixed number of queries whatever the number of pilots.
GateBlockers = Callable[[Iterable[int], dt.date], dict[int, list[str]]]
# Gate decisions recorded with decided_on in [since, until].
GateDecisions = Callable[[dt.date, dt.date], list[GateDecision]]
# Ids of the pilots whose last advance was an override.
GateOverrides = Callable[[], set[int]]
# A condition on Pilot: a kill review of the pilot mentions the word (rationale or lessons).
KillLessonsMatch = Callable[[str], Q]
# Killed pilots whose problem resembles the text, best match first, at most ``limit``.
SimilarKilledPilots = Callable[[str, int], list[KilledPilotLesson]]


class _Registry:
    def __init__(self) -> None:
        self.gate_blockers: GateBlockers | None = None
        self.gate_decisions: GateDecisions | None = None
        self.gate_overrides: GateOverrides | None = None
        self.kill_lessons_match: KillLessonsMatch | None = None
        self.similar_killed_pilots: SimilarKilledPilots | None = None


registry = _Registry()


def gate_blockers(pilot_ids: Iterable[int], as_of: dt.date) -> dict[int, list[str]]:
    return registry.gate_blockers(pilot_ids, as_of) if registry.gate_blockers else {}


def gate_decisions(since: dt.date, until: dt.date) -> list[GateDecision]:
    return registry.gate_decisions(since, until) if registry.gate_decisions else []


def gate_overrides() -> set[int]:
    return registry.gate_overrides() if registry.gate_overrides else set()


def kill_lessons_match(word: str) -> Q:
    """For the pilot list's search; matches nothing extra until a provider is registered."""
    return registry.kill_lessons_match(word) if registry.kill_lessons_match else Q(pk__in=[])


def similar_killed_pilots(problem: str, limit: int = 5) -> list[KilledPilotLesson]:
    return registry.similar_killed_pilots(problem, limit) if registry.similar_killed_pilots else []
