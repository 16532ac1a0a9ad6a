"""How fresh a cached dashboard must be to serve: serve it, serve it and refresh it, or compute it.

Pure: it sees only the version and age of the latest board computed for a view and the
version of the data now, so each boundary is tested without a cache or a clock.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Plan(enum.Enum):
    SERVE = "serve"  # the board was computed from the data as it is now
    SERVE_STALE_AND_REFRESH = "serve stale and refresh"  # the data moved on, but recently enough
    COMPUTE = "compute"  # no board, or one older than the bound


@dataclass(frozen=True)
class Computed:
    """What is known of the latest board of a view: the data version it was computed from, and when."""

    version: str
    computed_at: dt.datetime


def dashboard_plan(latest: Computed | None, *, version: str, now: dt.datetime, max_stale_seconds: int) -> Plan:
    """What to do for a view whose latest board is ``latest``, when the data's version is ``version``.

    A board of another version is served for ``max_stale_seconds`` after it was computed
    (the bound included), while one refresh brings it up to date; 0 always computes anew.
    """
    if latest is None:
        return Plan.COMPUTE
    if latest.version == version:
        return Plan.SERVE
    if max_stale_seconds > 0 and now - latest.computed_at <= dt.timedelta(seconds=max_stale_seconds):
        return Plan.SERVE_STALE_AND_REFRESH
    return Plan.COMPUTE
