"""What each digest says, built from plain data: which pilots, which flags, what to do, where to click.

Pure functions over the dataclasses of ``facts`` and ``recipients``, so a digest's content
is tested without a database or a template. Every text a user typed (pilot names, KPI
names, details) stays plain text here; the templates escape it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from portfolio.extensions import GateDecision
from portfolio.models import FlagKind, Phase, Severity, Status
from portfolio.selectors import PortfolioSummary

from .facts import FlaggedPilot, OpenFlag, PortfolioFacts, WindowFacts
from .period import iso_week
from .recipients import Person

KIND_LABELS = dict(FlagKind.choices)
PHASE_LABELS = dict(Phase.choices)
STATUS_LABELS = dict(Status.choices)
CRITICAL_KINDS = frozenset({FlagKind.NO_OWNER, FlagKind.OWNER_INACTIVE, FlagKind.KILL_CRITERION_MET})
OWNERLESS_KINDS = frozenset({FlagKind.NO_OWNER, FlagKind.OWNER_INACTIVE})
# An executive reads the top of each list; the rest is one click away in the application.
MOST_LINES = 10
MOST_DECISIONS = 20
DECISION_WORDS = {"advance": "Advanced", "hold": "Held", "kill": "Killed"}


def days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"


def short_date(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def one_line(text: str, most: int = 80) -> str:
    """A pilot name fit for a subject line: one line (a line break would break the header), and not too long."""
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


@functools.lru_cache(maxsize=8192)
def _pilot_path(key: str) -> str:
    # A digest run links every pilot several times over; resolving the URL once per key is enough.
    return reverse("pilot_detail", args=[key])


@dataclass(frozen=True)
class Links:
    """Absolute links into the application (DESIGN 8's stable paths), from SITE_URL."""

    site_url: str

    def _absolute(self, path: str) -> str:
        return f"{self.site_url.rstrip('/')}{path}"

    def pilot(self, key: str, section: str = "") -> str:
        path = _pilot_path(key)
        return self._absolute(f"{path}#{section}" if section else path)

    def gate(self, key: str) -> str:
        return self._absolute(f"/pilots/{key}/gate/")

    @property
    def dashboard(self) -> str:
        return self._absolute(reverse("dashboard"))

    @property
    def my_pilots(self) -> str:
        return self._absolute("/me/")

    @property
    def archive(self) -> str:
        return self._absolute(reverse("digest_list"))

    @property
    def preferences(self) -> str:
        return self._absolute(reverse("digest_preferences"))

    def pilot_list(self, **filters: str) -> str:
        query = urlencode(filters)
        return self._absolute(reverse("pilot_list") + (f"?{query}" if query else ""))


# What to do about each kind of flag: (the owner's action, the sponsor's action, where it is done).
# ``{kpi}``, ``{owner}`` and ``{sponsor}`` are filled in; the templates escape the result.
ADVICE: dict[str, tuple[str, str, str]] = {
    FlagKind.NO_OWNER: (
        "Ask the portfolio office to name an owner.",
        "Name an owner with the portfolio office, or stop the pilot at a gate review.",
        "summary",
    ),
    FlagKind.OWNER_INACTIVE: (
        "Your account is inactive: ask the portfolio office to hand the pilot over.",
        "The owner has left: name a new owner with the portfolio office.",
        "summary",
    ),
    FlagKind.NO_SPONSOR: (
        "Find an executive to sponsor the pilot and ask the portfolio office to record them.",
        "Confirm your sponsorship with the portfolio office.",
        "summary",
    ),
    FlagKind.OWNER_IS_SPONSOR: (
        "Ask the portfolio office to name a different sponsor, so someone answers for the owner.",
        "Hand the sponsorship to another executive through the portfolio office.",
        "summary",
    ),
    FlagKind.SPONSOR_LAPSED: (
        "Ask {sponsor} for a check-in.",
        "Record a check-in: how confident are you in this pilot?",
        "checkins",
    ),
    FlagKind.NO_KPI: (
        "Define at least one KPI with a baseline and a target.",
        "Ask {owner} to define the KPIs the pilot will be judged by.",
        "kpis",
    ),
    FlagKind.STALE: (
        "Record the latest KPI readings.",
        "Ask {owner} for up-to-date KPI readings.",
        "kpis",
    ),
    FlagKind.NO_BASELINE: (
        "Record the baseline of {kpi}: without it nobody can tell whether the pilot helps.",
        "Ask {owner} to record the baseline of {kpi}.",
        "kpis",
    ),
    FlagKind.NO_KILL_CRITERIA: (
        "Set kill criteria: when would you stop this pilot?",
        "Agree kill criteria with {owner}.",
        "kill-criteria",
    ),
    FlagKind.DRIFTING: (
        "Find out why {kpi} is getting worse; fix it or raise it with {sponsor}.",
        "Discuss {kpi} with {owner}: change course, or stop the pilot at a gate review.",
        "kpis",
    ),
    FlagKind.STUCK: (
        "Bring the pilot to its gate review: advance, hold or kill.",
        "Take the pilot to its gate review: advance, hold or kill.",
        "gate",
    ),
    FlagKind.KILL_CRITERION_MET: (
        "A kill criterion is met: bring the pilot to a gate review with {sponsor}.",
        "A kill criterion is met: decide at a gate review whether to kill the pilot.",
        "gate",
    ),
    FlagKind.REVIEW_OVERDUE: (
        "The gate review is overdue: agree a date with {sponsor}.",
        "Hold the overdue gate review.",
        "gate",
    ),
}
LINK_LABELS = {
    "summary": "Open the pilot",
    "checkins": "Record a check-in",
    "kpis": "Open the KPIs",
    "kill-criteria": "Open the kill criteria",
    "gate": "Open the gate review",
}


@dataclass(frozen=True)
class Advice:
    action: str
    link: str
    link_label: str


def advice(flag: OpenFlag, pilot: FlaggedPilot, *, as_owner: bool, links: Links) -> Advice:
    """What the owner (or the sponsor) should do about a flag, and the link to the form that does it."""
    owner_action, sponsor_action, target = ADVICE.get(
        flag.kind, ("Look at the pilot.", "Look at the pilot.", "summary")
    )
    action = (owner_action if as_owner else sponsor_action).format(
        kpi=flag.kpi_name or "the KPI",
        owner=pilot.owner_name if pilot.owner_id and pilot.owner_active else "the portfolio office",
        sponsor=(pilot.sponsor_name or "your sponsor") if pilot.sponsor_id else "the portfolio office",
    )
    link = links.gate(pilot.key) if target == "gate" else links.pilot(pilot.key, target)
    return Advice(action=action, link=link, link_label=LINK_LABELS[target])


def age(raised_on: dt.date, as_of: dt.date) -> str:
    """How long a flag has been open, for a column headed "Open for"."""
    count = max((as_of - raised_on).days, 0)
    return "new" if count == 0 else days(count)


def open_for(raised_on: dt.date, as_of: dt.date) -> str:
    age = max((as_of - raised_on).days, 0)
    return "raised today" if age == 0 else f"open for {days(age)}"


# --- The owner digest ---------------------------------------------------------------


@dataclass(frozen=True)
class FlagItem:
    kind: str
    label: str
    severity: str
    detail: str
    days_open: int
    open_for: str
    action: str
    link: str
    link_label: str


@dataclass(frozen=True)
class PilotItem:
    key: str
    name: str
    url: str
    role: str
    phase: str
    status: str
    flags: tuple[FlagItem, ...]

    @property
    def critical(self) -> int:
        return sum(flag.severity == Severity.CRITICAL for flag in self.flags)


@dataclass(frozen=True)
class OwnerDigest:
    name: str
    period: str
    as_of: dt.date
    pilots: tuple[PilotItem, ...]
    links: Links

    @property
    def flag_count(self) -> int:
        return sum(len(pilot.flags) for pilot in self.pilots)

    @property
    def critical_count(self) -> int:
        return sum(pilot.critical for pilot in self.pilots)

    @property
    def week(self) -> int:
        return self.as_of.isocalendar()[1]

    @property
    def subject(self) -> str:
        critical = f", {plural(self.critical_count, 'critical flag')}" if self.critical_count else ""
        if len(self.pilots) == 1:
            return f"Week {self.week}: {one_line(self.pilots[0].name)} needs you{critical}"
        return f"Week {self.week}: {len(self.pilots)} of your pilots need you{critical}"

    @property
    def headline(self) -> str:
        pilots = "one of your pilots needs" if len(self.pilots) == 1 else f"{len(self.pilots)} of your pilots need"
        flags = plural(self.flag_count, "open flag")
        critical = f", {self.critical_count} of them critical" if self.critical_count else ""
        return f"{pilots[0].upper()}{pilots[1:]} you this week: {flags}{critical}."


def _role(person_id: int, pilot: FlaggedPilot) -> str:
    owns, sponsors = pilot.owner_id == person_id, pilot.sponsor_id == person_id
    if owns and sponsors:
        return "You own and sponsor it"
    return "You own it" if owns else "You sponsor it"


def owner_digest(person: Person, pilots: Iterable[FlaggedPilot], *, as_of: dt.date, links: Links) -> OwnerDigest | None:
    """The owner digest of ``person``: every pilot they own or sponsor with its flags; None when nothing is open."""
    items = []
    for pilot in pilots:
        if person.id not in (pilot.owner_id, pilot.sponsor_id) or not pilot.flags:
            continue
        as_owner = pilot.owner_id == person.id
        flags = []
        for flag in pilot.flags:
            tip = advice(flag, pilot, as_owner=as_owner, links=links)
            flags.append(
                FlagItem(
                    kind=flag.kind,
                    label=KIND_LABELS.get(flag.kind, flag.kind),
                    severity=flag.severity,
                    detail=flag.detail,
                    days_open=max((as_of - flag.raised_on).days, 0),
                    open_for=open_for(flag.raised_on, as_of),
                    action=tip.action,
                    link=tip.link,
                    link_label=tip.link_label,
                )
            )
        items.append(
            PilotItem(
                key=pilot.key,
                name=pilot.name,
                url=links.pilot(pilot.key),
                role=_role(person.id, pilot),
                phase=PHASE_LABELS.get(pilot.phase, pilot.phase),
                status=STATUS_LABELS.get(pilot.status, pilot.status),
                flags=tuple(flags),
            )
        )
    if not items:
        return None
    # The pilot with the most critical flags first, then the one with the most flags.
    items.sort(key=lambda item: (-item.critical, -len(item.flags), item.name.casefold()))
    return OwnerDigest(
        name=person.first_name or person.name, period=iso_week(as_of), as_of=as_of, pilots=tuple(items), links=links
    )


# --- The executive digest -----------------------------------------------------------


@dataclass(frozen=True)
class PilotLine:
    """One pilot in a section of the executive digest."""

    key: str
    name: str
    url: str
    owner: str
    sponsor: str
    phase: str
    detail: str
    figure: str = ""
    note: str = ""
    ownerless: bool = False
    link: str = ""
    link_label: str = ""


@dataclass(frozen=True)
class DecisionLine:
    name: str
    url: str
    decision: str
    words: str
    decided_by: str
    decided_on: dt.date
    override: str


@dataclass(frozen=True)
class ChangeLine:
    label: str
    severity: str
    raised: int
    resolved: int


@dataclass(frozen=True)
class NewCritical:
    name: str
    url: str
    label: str
    detail: str
    resolved: bool


@dataclass(frozen=True)
class Figure:
    label: str
    value: int
    note: str = ""
    tone: str = ""  # "critical", "warning", "ok" or ""


@dataclass(frozen=True)
class PhaseBar:
    """One bar of the chart: a phase and its pilots per status."""

    label: str
    active: int
    on_hold: int
    killed: int


@dataclass(frozen=True)
class Section:
    """The first lines of a list and how many there are in all, with where to see the rest."""

    lines: tuple[Any, ...]
    total: int
    more_link: str = ""

    @property
    def more(self) -> int:
        return self.total - len(self.lines)

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total


def section(lines: Sequence[Any], *, most: int = MOST_LINES, more_link: str = "") -> Section:
    return Section(lines=tuple(lines[:most]), total=len(lines), more_link=more_link)


@dataclass(frozen=True)
class ExecutiveDigest:
    name: str
    period: str
    as_of: dt.date
    since: dt.date
    since_label: str
    figures: tuple[Figure, ...]
    ownerless: Section
    kill_criteria_met: Section
    stale: Section
    stuck: Section
    decisions: Section
    changes: tuple[ChangeLine, ...]
    new_critical: Section
    summary: PortfolioSummary
    links: Links
    attention: int = 0
    raised: int = 0
    resolved: int = 0
    bars: tuple[PhaseBar, ...] = field(default=())

    @property
    def week(self) -> int:
        return self.as_of.isocalendar()[1]

    @property
    def subject(self) -> str:
        parts = [f"{plural(self.attention, 'pilot')} need{'s' if self.attention == 1 else ''} attention"]
        if self.kill_criteria_met:
            parts.append(plural(self.kill_criteria_met.total, "kill criterion", "kill criteria") + " met")
        if self.ownerless:
            parts.append(f"{self.ownerless.total} without an owner")
        return f"Portfolio week {self.week}: " + ", ".join(parts)


def _owner_label(pilot: FlaggedPilot) -> str:
    if pilot.owner_id is None:
        return "No owner"
    return pilot.owner_name if pilot.owner_active else f"{pilot.owner_name} (left)"


def _is_ownerless(pilot: FlaggedPilot) -> bool:
    return pilot.owner_id is None or not pilot.owner_active


def _line(
    pilot: FlaggedPilot, links: Links, *, detail: str, figure: str = "", note: str = "", gate: bool = False
) -> PilotLine:
    return PilotLine(
        key=pilot.key,
        name=pilot.name,
        url=links.pilot(pilot.key),
        owner=_owner_label(pilot),
        sponsor=pilot.sponsor_name or "No sponsor",
        phase=PHASE_LABELS.get(pilot.phase, pilot.phase),
        detail=detail,
        figure=figure,
        note=note,
        ownerless=_is_ownerless(pilot),
        link=links.gate(pilot.key) if gate else "",
        link_label="Gate review" if gate else "",
    )


def _flags_of(pilot: FlaggedPilot, kinds: Iterable[str]) -> list[OpenFlag]:
    kinds = set(kinds)
    return [flag for flag in pilot.flags if flag.kind in kinds]


def ownerless_lines(pilots: Sequence[FlaggedPilot], *, as_of: dt.date, links: Links) -> list[PilotLine]:
    lines = []
    for pilot in pilots:
        flags = _flags_of(pilot, OWNERLESS_KINDS)
        if not flags:
            continue
        flag = min(flags, key=lambda f: f.raised_on)
        detail = "No owner named" if pilot.owner_id is None else f"{pilot.owner_name} has left (account inactive)"
        lines.append(_line(pilot, links, detail=detail, figure=age(flag.raised_on, as_of)))
    return lines


def kill_criterion_lines(pilots: Sequence[FlaggedPilot], *, as_of: dt.date, links: Links) -> list[PilotLine]:
    lines = []
    for pilot in pilots:
        for flag in _flags_of(pilot, {FlagKind.KILL_CRITERION_MET}):
            # The flag's detail repeats its kind; the criterion's own words say what was agreed.
            measured = flag.detail.removeprefix("Kill criterion met: ")
            detail, note = (flag.criterion, measured) if flag.criterion else (measured, "")
            figure = age(flag.raised_on, as_of)
            lines.append(_line(pilot, links, detail=detail, note=note, figure=figure, gate=True))
    return lines


def stale_lines(
    pilots: Sequence[FlaggedPilot], latest_reading_on: dict[int, dt.date | None], *, as_of: dt.date, links: Links
) -> list[PilotLine]:
    """Stale pilots with their owner and days since the last reading; ownerless ones first, then the stalest."""
    lines = []
    for pilot in pilots:
        if not _flags_of(pilot, {FlagKind.STALE}):
            continue
        latest = latest_reading_on.get(pilot.id)
        if latest is None:
            quiet = max((as_of - pilot.started_on).days, 0)
            figure, detail = f"{days(quiet)}", "No reading since the start"
        else:
            quiet = (as_of - latest).days
            figure, detail = f"{days(quiet)}", f"Last reading on {short_date(latest)} {latest.year}"
        lines.append((quiet, _line(pilot, links, detail=detail, figure=figure)))
    lines.sort(key=lambda pair: (not pair[1].ownerless, -pair[0], pair[1].name.casefold()))
    return [line for _, line in lines]


def stuck_lines(pilots: Sequence[FlaggedPilot], *, as_of: dt.date, links: Links) -> list[PilotLine]:
    lines = []
    for pilot in pilots:
        if not _flags_of(pilot, {FlagKind.STUCK}):
            continue
        in_phase = (as_of - pilot.phase_entered_on).days
        phase = PHASE_LABELS.get(pilot.phase, pilot.phase)
        lines.append((in_phase, _line(pilot, links, detail=f"In {phase.lower()}", figure=days(in_phase), gate=True)))
    lines.sort(key=lambda pair: (not pair[1].ownerless, -pair[0], pair[1].name.casefold()))
    return [line for _, line in lines]


def decision_lines(decisions: Iterable[GateDecision], *, links: Links) -> list[DecisionLine]:
    lines = []
    for decision in decisions:
        from_phase = PHASE_LABELS.get(decision.from_phase, decision.from_phase)
        to_phase = PHASE_LABELS.get(decision.to_phase, decision.to_phase)
        if decision.decision == "advance":
            words = f"Advanced from {from_phase.lower()} to {to_phase.lower()}"
        elif decision.decision == "kill":
            words = f"Killed in {from_phase.lower()}"
        else:
            words = f"Held in {from_phase.lower()}"
        lines.append(
            DecisionLine(
                name=decision.pilot_name,
                url=links.pilot(decision.pilot_key),
                decision=decision.decision,
                words=words,
                decided_by=decision.decided_by,
                decided_on=decision.decided_on,
                override=decision.override_justification,
            )
        )
    return lines


def phase_bars(summary: PortfolioSummary) -> tuple[PhaseBar, ...]:
    bars = []
    for row in summary.rows:
        counts = {cell.status: cell.count for cell in row.cells}
        bars.append(
            PhaseBar(
                label=row.label,
                active=counts.get(Status.ACTIVE, 0),
                on_hold=counts.get(Status.ON_HOLD, 0),
                killed=counts.get(Status.KILLED, 0),
            )
        )
    return tuple(bars)


def executive_digest(
    person: Person,
    portfolio: PortfolioFacts,
    window: WindowFacts,
    *,
    as_of: dt.date,
    first: bool,
    links: Links,
) -> ExecutiveDigest:
    """The executive digest of ``person``; ``first`` when they never had one (the window is then the last 7 days)."""
    pilots = portfolio.flagged
    ownerless = ownerless_lines(pilots, as_of=as_of, links=links)
    kill = kill_criterion_lines(pilots, as_of=as_of, links=links)
    stale = stale_lines(pilots, portfolio.latest_reading_on, as_of=as_of, links=links)
    stuck = stuck_lines(pilots, as_of=as_of, links=links)
    attention = len({line.key for line in (*ownerless, *kill, *stale, *stuck)})
    changes = [
        ChangeLine(
            label=KIND_LABELS.get(change.kind, change.kind),
            severity=Severity.CRITICAL if change.kind in CRITICAL_KINDS else Severity.WARNING,
            raised=change.raised,
            resolved=change.resolved,
        )
        for change in window.changes
    ]
    raised, resolved = sum(c.raised for c in changes), sum(c.resolved for c in changes)
    since = timezone.localdate(window.since)
    since_label = "in the last 7 days" if first else f"since your last digest on {short_date(since)}"
    decisions = decision_lines(window.decisions, links=links)
    summary = portfolio.summary
    active = next((cell.count for cell in summary.totals.cells if cell.status == Status.ACTIVE), 0)
    figures = (
        Figure("Active pilots", active, f"of {summary.totals.total} in the portfolio"),
        Figure("Need attention", attention, "pilots listed below", "warning" if attention else "ok"),
        Figure("Flags raised", raised, since_label, "warning" if raised else ""),
        Figure("Flags resolved", resolved, since_label, "ok" if resolved else ""),
    )
    return ExecutiveDigest(
        name=person.first_name or person.name,
        period=iso_week(as_of),
        as_of=as_of,
        since=since,
        since_label=since_label,
        figures=figures,
        ownerless=section(ownerless, more_link=links.pilot_list(flag=FlagKind.NO_OWNER)),
        kill_criteria_met=section(kill, more_link=links.pilot_list(flag=FlagKind.KILL_CRITERION_MET)),
        stale=section(stale, more_link=links.pilot_list(flag=FlagKind.STALE)),
        stuck=section(stuck, more_link=links.pilot_list(flag=FlagKind.STUCK)),
        decisions=section(decisions, most=MOST_DECISIONS, more_link=links.dashboard),
        changes=tuple(changes),
        new_critical=section(
            [
                NewCritical(
                    name=flag.pilot_name,
                    url=links.pilot(flag.pilot_key),
                    label=KIND_LABELS.get(flag.kind, flag.kind),
                    detail=flag.detail,
                    resolved=flag.resolved,
                )
                for flag in window.critical_raised
            ]
        ),
        summary=summary,
        links=links,
        attention=attention,
        raised=raised,
        resolved=resolved,
        bars=phase_bars(summary),
    )
