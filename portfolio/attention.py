"""What needs a person first on "My pilots", and the one action that fixes each thing.

Pure: the facts of the pilots a person owns or sponsors go in (as plain data), an
ordered list of needs comes out: open flags, most severe first; KPIs whose reading is
due; gate evidence about to expire; check-ins due. Each need names the form that
fixes it, or who else must act when the person cannot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.urls import reverse

from portfolio.models import FlagKind, Severity, Status

READING_DUE_AFTER_DAYS = 7
CHECKIN_DUE_AFTER_DAYS = 30
EVIDENCE_WARNING_DAYS = 30


@dataclass(frozen=True)
class FlagFact:
    kind: str
    severity: str
    detail: str
    kpi_key: str | None = None


@dataclass(frozen=True)
class KpiFact:
    id: int
    key: str
    name: str
    latest_on: dt.date | None = None


@dataclass(frozen=True)
class EvidenceFact:
    """The latest attestation of one criterion of the pilot's next gate."""

    criterion: str
    attested_on: dt.date


@dataclass(frozen=True)
class PilotFact:
    key: str
    name: str
    status: str
    owned: bool = False
    sponsored: bool = False
    # May the person edit its KPIs and kill criteria (the owner, the portfolio office)?
    can_edit: bool = False
    # Is the person in the portfolio office (names owners and sponsors)?
    in_office: bool = False
    sponsor_name: str = ""
    latest_checkin_on: dt.date | None = None
    flags: tuple[FlagFact, ...] = ()
    kpis: tuple[KpiFact, ...] = ()
    evidence: tuple[EvidenceFact, ...] = ()


@dataclass(frozen=True)
class Need:
    """One thing to do: what, about which pilot, and the action that fixes it."""

    pilot_key: str
    pilot_name: str
    tone: str  # critical | warning | due
    title: str
    detail: str
    action: str = ""
    url: str = ""
    # Who fixes it, when the person cannot.
    hint: str = ""


def reading_due(latest_on: dt.date | None, today: dt.date) -> bool:
    """A KPI's reading is due when it has none from the last seven days (a weekly rhythm)."""
    return latest_on is None or (today - latest_on).days >= READING_DUE_AFTER_DAYS


def checkin_due(latest_on: dt.date | None, today: dt.date) -> bool:
    """A sponsor's check-in is due when there is none from the last thirty days."""
    return latest_on is None or (today - latest_on).days >= CHECKIN_DUE_AFTER_DAYS


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count:,} days"


def _date(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _gate_url(pilot: PilotFact) -> str:
    return reverse("pilot_detail", args=[pilot.key]) + "gate/"


def _me_anchor(anchor: str) -> str:
    return f"{reverse('my_pilots')}#{anchor}"


def flag_action(pilot: PilotFact, flag: FlagFact) -> tuple[str, str, str]:
    """(action, url, hint) for an open flag of ``pilot`` as seen by the person."""
    kind = flag.kind
    if kind in (FlagKind.NO_OWNER, FlagKind.OWNER_INACTIVE, FlagKind.NO_SPONSOR, FlagKind.OWNER_IS_SPONSOR):
        who = "an owner" if kind in (FlagKind.NO_OWNER, FlagKind.OWNER_INACTIVE) else "a sponsor"
        if pilot.in_office:
            return f"Name {who}", reverse("pilot_edit", args=[pilot.key]), ""
        return "", "", f"The portfolio office names {who}."
    if kind == FlagKind.SPONSOR_LAPSED:
        if pilot.sponsored:
            return "Record a check-in", _me_anchor(f"checkin-{pilot.key}"), ""
        return "", "", f"{pilot.sponsor_name or 'The sponsor'} records check-ins."
    editable = {
        FlagKind.NO_KPI: ("Add a KPI", lambda: reverse("kpi_create", args=[pilot.key])),
        FlagKind.STALE: ("Record a reading", lambda: _me_anchor(f"kpis-{pilot.key}")),
        FlagKind.NO_BASELINE: (
            "Set the baseline",
            lambda: (
                reverse("kpi_edit", args=[pilot.key, flag.kpi_key])
                if flag.kpi_key
                else reverse("pilot_detail", args=[pilot.key]) + "#kpis"
            ),
        ),
        FlagKind.NO_KILL_CRITERIA: ("Add a kill criterion", lambda: reverse("kill_criterion_create", args=[pilot.key])),
    }
    if kind in editable:
        label, url = editable[kind]
        if pilot.can_edit:
            return label, url(), ""
        return "", "", "The owner fixes this."
    decisions = {
        FlagKind.DRIFTING: "Review at the gate",
        FlagKind.STUCK: "Hold a gate review",
        FlagKind.KILL_CRITERION_MET: "Decide at the gate",
        FlagKind.REVIEW_OVERDUE: "Hold the review",
    }
    if kind in decisions:
        return decisions[kind], _gate_url(pilot), ""
    return "Open the pilot", reverse("pilot_detail", args=[pilot.key]), ""


def needs(pilots: list[PilotFact], today: dt.date, *, evidence_valid_days: int) -> list[Need]:
    """Everything that needs the person, in the order to do it."""
    labels = dict(FlagKind.choices)
    critical: list[Need] = []
    warnings: list[Need] = []
    readings: list[tuple[dt.date, Need]] = []
    evidence: list[tuple[dt.date, Need]] = []
    checkins: list[Need] = []
    for pilot in sorted(pilots, key=lambda p: (p.name.lower(), p.key)):
        for flag in pilot.flags:
            action, url, hint = flag_action(pilot, flag)
            need = Need(
                pilot_key=pilot.key,
                pilot_name=pilot.name,
                tone=flag.severity,
                title=labels.get(flag.kind, flag.kind),
                detail=flag.detail,
                action=action,
                url=url,
                hint=hint,
            )
            (critical if flag.severity == Severity.CRITICAL else warnings).append(need)
        if pilot.status != Status.ACTIVE:
            continue
        if pilot.can_edit:
            for kpi in pilot.kpis:
                if not reading_due(kpi.latest_on, today):
                    continue
                since = (
                    "No reading yet"
                    if kpi.latest_on is None
                    else f"No reading since {_date(kpi.latest_on)} ({_days((today - kpi.latest_on).days)})"
                )
                need = Need(
                    pilot_key=pilot.key,
                    pilot_name=pilot.name,
                    tone="due",
                    title=f"Reading due: {kpi.name}",
                    detail=since,
                    action="Record a reading",
                    url=_me_anchor(f"kpi-{kpi.id}"),
                )
                readings.append((kpi.latest_on or dt.date.min, need))
        if pilot.owned:
            for item in pilot.evidence:
                expires_on = item.attested_on + dt.timedelta(days=evidence_valid_days)
                left = (expires_on - today).days
                if left > EVIDENCE_WARNING_DAYS:
                    continue
                when = f"in {_days(left)}" if left >= 0 else f"{_days(-left)} ago"
                verb = "expires" if left >= 0 else "expired"
                need = Need(
                    pilot_key=pilot.key,
                    pilot_name=pilot.name,
                    tone="due",
                    title=f"Evidence {verb}: {item.criterion}",
                    detail=f"Attested on {_date(item.attested_on)}; it {verb} on {_date(expires_on)} ({when}).",
                    action="Renew the evidence",
                    url=_gate_url(pilot),
                )
                evidence.append((expires_on, need))
        if pilot.sponsored:
            latest = pilot.latest_checkin_on
            if not checkin_due(latest, today):
                continue
            since = (
                "No check-in yet"
                if latest is None
                else f"No check-in since {_date(latest)} ({_days((today - latest).days)})"
            )
            checkins.append(
                Need(
                    pilot_key=pilot.key,
                    pilot_name=pilot.name,
                    tone="due",
                    title="Check-in due",
                    detail=since,
                    action="Record a check-in",
                    url=_me_anchor(f"checkin-{pilot.key}"),
                )
            )
    return [
        *critical,
        *warnings,
        *(need for _, need in sorted(readings, key=lambda item: item[0])),
        *(need for _, need in sorted(evidence, key=lambda item: item[0])),
        *checkins,
    ]
