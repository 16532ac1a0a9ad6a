"""Which way a KPI moved with its latest reading, and whether that is better or worse for it.

The pilot page and "My pilots" mark each KPI's latest value with this, so an owner
sees at a glance whether the number they just typed went the right way.
"""

from __future__ import annotations

from dataclasses import dataclass

from portfolio.models import Direction


@dataclass(frozen=True)
class Trend:
    """The move from the previous reading to the latest one."""

    movement: str  # up | down | flat
    verdict: str  # better | worse | same
    previous: float

    @property
    def symbol(self) -> str:
        return {"up": "▲", "down": "▼"}.get(self.movement, "▬")

    @property
    def words(self) -> str:
        """What a screen reader says beside the mark."""
        if self.verdict == "same":
            return "unchanged since the previous reading"
        return f"{self.movement} from the previous reading, {self.verdict}"


def trend(direction: str, latest: float | None, previous: float | None) -> Trend | None:
    """The trend of ``latest`` against ``previous`` for a KPI of ``direction``; None without two readings."""
    if latest is None or previous is None:
        return None
    if latest == previous:
        return Trend(movement="flat", verdict="same", previous=previous)
    movement = "up" if latest > previous else "down"
    better = (movement == "up") == (direction != Direction.DECREASE)
    return Trend(movement=movement, verdict="better" if better else "worse", previous=previous)
