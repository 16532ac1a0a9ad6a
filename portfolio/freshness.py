"""How fresh a cached dashboard must be to serve: serve it, serve it stale (and refresh it), or compute it.

Pure: it sees only the version and age of the latest board computed for a view and the
version of the data now, so each boundary is tested without a cache or a clock.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

# A board behind the data is refreshed once it is this share of the bound old, not at once:
# under a steady stream of writes each view is then recomputed about twice per bound, instead
# of again as soon as the last refresh ends (which kept a worker busy with nothing but boards).
REFRESH_AFTER_SHARE = 0.5


class Plan(enum.Enum):
    SERVE = "serve"  # the board was computed from the data as it is now
    SERVE_STALE = "serve stale"  # the data moved on since a board computed moments ago
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
    (the bound included); from ``REFRESH_AFTER_SHARE`` of the bound on, one refresh is
    asked for to bring it up to date. 0 always computes anew.
    """
    if latest is None:
        return Plan.COMPUTE
    if latest.version == version:
        return Plan.SERVE
    age = now - latest.computed_at
    if max_stale_seconds <= 0 or age > dt.timedelta(seconds=max_stale_seconds):
        return Plan.COMPUTE
    if age < dt.timedelta(seconds=max_stale_seconds * REFRESH_AFTER_SHARE):
        return Plan.SERVE_STALE
    return Plan.SERVE_STALE_AND_REFRESH
