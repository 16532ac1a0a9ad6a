"""A week's digests, ready to send: who gets which digest, with its subject, HTML and text.

Loads the facts once for every recipient (a fixed number of queries), builds each
digest's content with the pure rules of ``content`` and renders it. The dry run, the
command, the Celery task and the benchmark all plan through here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from portfolio.models import DigestKind

from . import content, facts
from .chart import phase_chart_png
from .period import iso_week
from .recipients import Person, digest_recipients
from .render import RenderedDigest, render_executive, render_owner

# An executive's first digest (or one after they switched it back on) covers this much.
DEFAULT_WINDOW = dt.timedelta(days=7)

Key = tuple[int, str]  # (recipient id, kind)


@dataclass(frozen=True)
class PlannedDigest:
    recipient: Person
    kind: str
    # None when the caller said it need not be rendered (already sent this week).
    rendered: RenderedDigest | None

    @property
    def key(self) -> Key:
        return (self.recipient.id, self.kind)


@dataclass(frozen=True)
class WeekPlan:
    as_of: dt.date
    period: str
    digests: tuple[PlannedDigest, ...]


def window_end(as_of: dt.date, now: dt.datetime) -> dt.datetime:
    """The end of the window an executive digest reports on: now, or the end of D when D is in the past."""
    end_of_day = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min))
    return min(now, end_of_day)


def plan_week(*, as_of: dt.date | None = None, now: dt.datetime | None = None, skip: Collection[Key] = ()) -> WeekPlan:
    """Every digest of the ISO week of ``as_of`` (default: today in TIME_ZONE); ``skip`` keys are listed unrendered."""
    now = now or timezone.now()
    as_of = as_of or timezone.localdate(now)
    period = iso_week(as_of)
    links = content.Links(settings.SITE_URL)
    recipients = digest_recipients()
    wanted = [recipient for recipient in recipients if (recipient.person.id, recipient.kind) not in skip]
    executives = [r.person for r in wanted if r.kind == DigestKind.EXECUTIVE]

    if executives:
        portfolio = facts.portfolio_facts(as_of)
        flagged = portfolio.flagged
    else:
        portfolio = None
        flagged = tuple(facts.flagged_pilots()) if wanted else ()

    rendered: dict[Key, RenderedDigest] = {}
    if executives and portfolio is not None:
        rendered.update(_executive_digests(executives, portfolio, as_of=as_of, now=now, period=period, links=links))
    by_id = {pilot.id: pilot for pilot in flagged}
    for recipient in wanted:
        if recipient.kind != DigestKind.OWNER:
            continue
        pilots = [by_id[pilot_id] for pilot_id in recipient.pilot_ids if pilot_id in by_id]
        digest = content.owner_digest(recipient.person, pilots, as_of=as_of, links=links)
        if digest is not None:
            rendered[(recipient.person.id, recipient.kind)] = render_owner(digest)

    digests = []
    for recipient in recipients:
        key = (recipient.person.id, recipient.kind)
        if key in skip or key in rendered:
            digests.append(PlannedDigest(recipient.person, recipient.kind, rendered.get(key)))
    return WeekPlan(as_of=as_of, period=period, digests=tuple(digests))


def _executive_digests(
    people: list[Person],
    portfolio: facts.PortfolioFacts,
    *,
    as_of: dt.date,
    now: dt.datetime,
    period: str,
    links: content.Links,
) -> dict[Key, RenderedDigest]:
    until = window_end(as_of, now)
    previous = facts.previous_executive_digests([person.id for person in people], period)
    chart = phase_chart_png(content.phase_bars(portfolio.summary))
    # Most executives share the same previous digest time, so each window is loaded once.
    windows: dict[dt.datetime, facts.WindowFacts] = {}
    rendered = {}
    for person in people:
        last = previous.get(person.id)
        first = last is None or last >= until
        since = until - DEFAULT_WINDOW if first else last
        if since not in windows:
            windows[since] = facts.window_facts(since=since, until=until, as_of=as_of)
        digest = content.executive_digest(person, portfolio, windows[since], as_of=as_of, first=first, links=links)
        rendered[(person.id, DigestKind.EXECUTIVE)] = render_executive(digest, chart)
    return rendered
