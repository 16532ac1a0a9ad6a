"""What each digest says, from plain data: flags in plain words, how long open, what to do, where to click."""

from __future__ import annotations

import datetime as dt
import zlib

import pytest

from portfolio.digests.content import Links, executive_digest, owner_digest
from portfolio.digests.facts import FlagChange, FlaggedPilot, OpenFlag, PortfolioFacts, RaisedFlag, WindowFacts
from portfolio.digests.recipients import Person
from portfolio.extensions import GateDecision
from portfolio.selectors import PhaseRow, PortfolioSummary, StatusCount
from tests.factories import TODAY

LINKS = Links("https://portfolio.example.com")
OLIVIA = Person(
    id=1, username="olivia", name="Olivia Owner", first_name="Olivia", email="o@example.com", is_active=True
)
SAM = Person(id=2, username="sam", name="Sam Sponsor", first_name="Sam", email="s@example.com", is_active=True)
ERIN = Person(id=3, username="erin", name="Erin Executive", email="e@example.com", is_active=True, is_executive=True)


def flag(kind: str, *, severity: str = "warning", days_open: int = 0, **extra: str) -> OpenFlag:
    return OpenFlag(
        kind=kind, severity=severity, detail=f"{kind} detail", raised_on=TODAY - dt.timedelta(days=days_open), **extra
    )


def pilot(key: str = "invoice-matching", *flags: OpenFlag, owner: int | None = 1, **extra: object) -> FlaggedPilot:
    values = {
        "id": zlib.crc32(key.encode()),
        "key": key,
        "name": key.replace("-", " ").capitalize(),
        "phase": "pilot",
        "status": "active",
        "phase_entered_on": TODAY - dt.timedelta(days=200),
        "started_on": TODAY - dt.timedelta(days=300),
        "owner_id": owner,
        "owner_name": "Olivia Owner" if owner else "",
        "owner_active": owner is not None,
        "sponsor_id": 2,
        "sponsor_name": "Sam Sponsor",
    }
    values.update(extra)
    return FlaggedPilot(**values, flags=flags)


# --- The owner digest -------------------------------------------------------------------


def test_each_flag_says_how_long_it_has_been_open_and_what_to_do():
    digest = owner_digest(OLIVIA, [pilot("invoice-matching", flag("stale", days_open=12))], as_of=TODAY, links=LINKS)

    item = digest.pilots[0].flags[0]
    assert item.label == "Stale"
    assert item.detail == "stale detail"
    assert item.open_for == "open for 12 days"
    assert item.action == "Record the latest KPI readings."
    assert item.link == "https://portfolio.example.com/pilots/invoice-matching/#kpis"


@pytest.mark.parametrize(
    ("kind", "link"),
    [
        ("sponsor_lapsed", "/pilots/p/#checkins"),
        ("no_kill_criteria", "/pilots/p/#kill-criteria"),
        ("no_baseline", "/pilots/p/#kpis"),
        ("drifting", "/pilots/p/#kpis"),
        ("stuck", "/pilots/p/gate/"),
        ("kill_criterion_met", "/pilots/p/gate/"),
        ("review_overdue", "/pilots/p/gate/"),
        ("no_owner", "/pilots/p/#summary"),
    ],
)
def test_each_kind_of_flag_links_to_the_form_that_fixes_it(kind, link):
    digest = owner_digest(SAM, [pilot("p", flag(kind))], as_of=TODAY, links=LINKS)

    assert digest.pilots[0].flags[0].link == "https://portfolio.example.com" + link


def test_the_sponsor_is_told_to_ask_the_owner_and_the_owner_to_act():
    drifting = pilot("p", flag("drifting", kpi_name="Auto-match rate"))

    as_owner = owner_digest(OLIVIA, [drifting], as_of=TODAY, links=LINKS).pilots[0]
    as_sponsor = owner_digest(SAM, [drifting], as_of=TODAY, links=LINKS).pilots[0]

    assert as_owner.role == "You own it"
    assert as_owner.flags[0].action.startswith("Find out why Auto-match rate is getting worse")
    assert as_sponsor.role == "You sponsor it"
    assert as_sponsor.flags[0].action.startswith("Discuss Auto-match rate with Olivia Owner")


def test_a_sponsor_check_in_is_the_sponsors_to_record():
    lapsed = pilot("p", flag("sponsor_lapsed"))

    assert (
        owner_digest(SAM, [lapsed], as_of=TODAY, links=LINKS).pilots[0].flags[0].action.startswith("Record a check-in")
    )
    assert owner_digest(OLIVIA, [lapsed], as_of=TODAY, links=LINKS).pilots[0].flags[0].action == (
        "Ask Sam Sponsor for a check-in."
    )


def test_nothing_to_act_on_gives_no_digest():
    assert owner_digest(OLIVIA, [pilot("p")], as_of=TODAY, links=LINKS) is None
    assert owner_digest(OLIVIA, [pilot("q", flag("stale"), owner=5)], as_of=TODAY, links=LINKS) is None


def test_the_pilot_with_critical_flags_comes_first_and_the_subject_counts_them():
    calm = pilot("a-calm-one", flag("stale"))
    burning = pilot("z-burning", flag("kill_criterion_met", severity="critical"), flag("stale"))

    digest = owner_digest(OLIVIA, [calm, burning], as_of=TODAY, links=LINKS)

    assert [item.key for item in digest.pilots] == ["z-burning", "a-calm-one"]
    assert digest.subject == "Week 47: 2 of your pilots need you, 1 critical flag"
    assert digest.headline == "2 of your pilots need you this week: 3 open flags, 1 of them critical."
    assert digest.name == "Olivia"


def test_a_single_pilot_is_named_in_the_subject_on_one_line():
    digest = owner_digest(OLIVIA, [pilot("p", flag("stale"), name="Invoice\nmatching")], as_of=TODAY, links=LINKS)

    assert digest.subject == "Week 47: Invoice matching needs you"


# --- The executive digest --------------------------------------------------------------


def summary(poc: tuple[int, int, int] = (3, 1, 1), pilot_phase: tuple[int, int, int] = (2, 0, 0)) -> PortfolioSummary:
    def row(phase: str, label: str, counts: tuple[int, int, int]) -> PhaseRow:
        cells = [
            StatusCount("active", "Active", counts[0]),
            StatusCount("on_hold", "On hold", counts[1]),
            StatusCount("killed", "Killed", counts[2]),
        ]
        return PhaseRow(phase, label, cells, sum(counts))

    rows = [
        row("poc", "Proof of concept", poc),
        row("pilot", "Pilot", pilot_phase),
        row("production", "Production", (0, 0, 0)),
        row("scaled", "Scaled adoption", (0, 0, 0)),
    ]
    totals = tuple(sum(values) for values in zip(poc, pilot_phase, strict=True))
    return PortfolioSummary(rows=rows, totals=row("", "All phases", totals))


def window(**overrides: object) -> WindowFacts:
    values = {
        "since": dt.datetime(2026, 11, 9, 7, tzinfo=dt.UTC),
        "until": dt.datetime(2026, 11, 16, 7, tzinfo=dt.UTC),
        "changes": (),
        "critical_raised": (),
        "decisions": (),
    }
    return WindowFacts(**{**values, **overrides})


def test_ownerless_pilots_come_first_wherever_they_are_listed():
    owned = pilot("owned", flag("stale"))
    ownerless = pilot("ownerless", flag("no_owner", severity="critical", days_open=3), flag("stale"), owner=None)
    facts = PortfolioFacts(summary(), (owned, ownerless), {owned.id: TODAY - dt.timedelta(days=40), ownerless.id: None})

    digest = executive_digest(ERIN, facts, window(), as_of=TODAY, first=False, links=LINKS)

    assert [line.key for line in digest.ownerless.lines] == ["ownerless"]
    assert digest.ownerless.lines[0].figure == "3 days"
    assert [line.key for line in digest.stale.lines] == ["ownerless", "owned"]
    assert digest.stale.lines[0].owner == "No owner"
    assert digest.stale.lines[0].figure == "300 days"
    assert digest.stale.lines[1].figure == "40 days"
    assert digest.stale.lines[1].detail == "Last reading on Wed 7 Oct 2026"


def test_stuck_pilots_show_their_days_in_phase_and_kill_criteria_their_words():
    stuck = pilot("stuck", flag("stuck"))
    doomed = pilot(
        "doomed",
        flag("kill_criterion_met", severity="critical", criterion="Stop if accuracy stays under 70%"),
    )
    facts = PortfolioFacts(summary(), (stuck, doomed), {})

    digest = executive_digest(ERIN, facts, window(), as_of=TODAY, first=False, links=LINKS)

    assert digest.stuck.lines[0].figure == "200 days"
    assert digest.stuck.lines[0].link == "https://portfolio.example.com/pilots/stuck/gate/"
    assert digest.kill_criteria_met.lines[0].detail == "Stop if accuracy stays under 70%"
    assert digest.attention == 2


def test_it_counts_flags_raised_and_resolved_since_the_last_digest():
    changes = (FlagChange("stale", raised=3, resolved=1), FlagChange("no_owner", raised=1, resolved=0))
    raised = (RaisedFlag("p", "P", "no_owner", "No owner named", resolved=False),)

    digest = executive_digest(
        ERIN,
        PortfolioFacts(summary(), (), {}),
        window(changes=changes, critical_raised=raised),
        as_of=TODAY,
        first=False,
        links=LINKS,
    )

    assert (digest.raised, digest.resolved) == (4, 1)
    assert digest.since_label == "since your last digest on Mon 9 Nov"
    assert [(c.label, c.severity) for c in digest.changes] == [("Stale", "warning"), ("No owner", "critical")]
    assert digest.new_critical.lines[0].url == "https://portfolio.example.com/pilots/p/"


def test_a_first_digest_covers_the_last_seven_days():
    digest = executive_digest(ERIN, PortfolioFacts(summary(), (), {}), window(), as_of=TODAY, first=True, links=LINKS)

    assert digest.since_label == "in the last 7 days"


def test_gate_decisions_read_as_sentences():
    decisions = (
        GateDecision(1, "a", "A", "poc", "pilot", "advance", "Paula Office", TODAY, "Sponsor insisted"),
        GateDecision(2, "b", "B", "pilot", "production", "kill", "", TODAY, ""),
    )

    digest = executive_digest(
        ERIN, PortfolioFacts(summary(), (), {}), window(decisions=decisions), as_of=TODAY, first=False, links=LINKS
    )

    assert [d.words for d in digest.decisions.lines] == ["Advanced from proof of concept to pilot", "Killed in pilot"]
    assert digest.decisions.lines[0].override == "Sponsor insisted"


def test_the_chart_bars_follow_the_phases():
    digest = executive_digest(ERIN, PortfolioFacts(summary(), (), {}), window(), as_of=TODAY, first=False, links=LINKS)

    assert [(bar.label, bar.active, bar.on_hold, bar.killed) for bar in digest.bars][:2] == [
        ("Proof of concept", 3, 1, 1),
        ("Pilot", 2, 0, 0),
    ]
    assert digest.figures[0].value == 5
    assert digest.subject == "Portfolio week 47: 0 pilots need attention"


def test_a_long_list_shows_its_first_ten_and_links_to_the_rest():
    stale = [pilot(f"stale-{number:02d}", flag("stale")) for number in range(25)]
    facts = PortfolioFacts(summary(), tuple(stale), {})

    digest = executive_digest(ERIN, facts, window(), as_of=TODAY, first=False, links=LINKS)

    assert len(digest.stale.lines) == 10
    assert (digest.stale.total, digest.stale.more) == (25, 15)
    assert digest.stale.more_link == "https://portfolio.example.com/pilots/?flag=stale"
    assert digest.attention == 25


def test_a_very_long_name_is_shortened_in_the_subject():
    digest = owner_digest(OLIVIA, [pilot("p", flag("stale"), name="Invoice " * 30)], as_of=TODAY, links=LINKS)

    assert len(digest.subject) < 120
    assert digest.subject.endswith("… needs you")
