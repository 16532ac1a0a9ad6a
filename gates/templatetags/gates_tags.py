"""Gate facts for portfolio templates: the pilot's timeline and the lessons of similar killed pilots.

Portfolio's Python never imports gates (DESIGN 2); its templates may load these tags,
which is how the pilot page shows what the gates recorded.
"""

from __future__ import annotations

from django import template

from gates import lessons, selectors
from portfolio.extensions import KilledPilotLesson
from portfolio.models import Pilot

register = template.Library()


@register.simple_tag
def gate_timeline(pilot: Pilot) -> list[selectors.TimelinePhase]:
    """Each phase of the pilot with its dates and the gate reviews decided in it (one query)."""
    return selectors.pilot_timeline(pilot)


@register.simple_tag
def similar_lessons(problem: str | None, limit: int = 5) -> list[KilledPilotLesson]:
    """Killed pilots whose problem resembles ``problem``, with what their kill review recorded."""
    return lessons.similar_killed_pilots(problem or "", limit)
