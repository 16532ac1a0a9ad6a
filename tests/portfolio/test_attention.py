"""What needs a person first on "My pilots": flags by severity, due readings, expiring evidence, due check-ins."""

from __future__ import annotations

import datetime as dt

import pytest

from portfolio.attention import EvidenceFact, FlagFact, KpiFact, PilotFact, needs

TODAY = dt.date(2026, 11, 16)


def pilot(**facts) -> PilotFact:
    defaults = {
        "key": "invoice-matching",
        "name": "Invoice matching",
        "status": "active",
        "owned": True,
        "can_edit": True,
    }
    return PilotFact(**{**defaults, **facts})


def titles(found) -> list[str]:
    return [need.title for need in found]


def test_open_flags_come_first_most_severe_first_then_what_is_due():
    mine = pilot(
        sponsored=True,
        flags=(FlagFact("stale", "warning", "No reading for 30 days"), FlagFact("no_owner", "critical", "No owner")),
        kpis=(KpiFact(1, "match-rate", "Match rate", TODAY - dt.timedelta(days=8)),),
        evidence=(EvidenceFact("Monitoring in place", TODAY - dt.timedelta(days=170)),),
    )

    found = needs([mine], TODAY, evidence_valid_days=180)

    assert titles(found) == [
        "No owner",
        "Stale",
        "Reading due: Match rate",
        "Evidence expires: Monitoring in place",
        "Check-in due",
    ]
    assert [need.tone for need in found] == ["critical", "warning", "due", "due", "due"]


def test_a_reading_is_due_after_seven_days():
    kpis = (
        KpiFact(1, "six", "Six days", TODAY - dt.timedelta(days=6)),
        KpiFact(2, "seven", "Seven days", TODAY - dt.timedelta(days=7)),
        KpiFact(3, "never", "Never", None),
    )

    found = needs([pilot(kpis=kpis)], TODAY, evidence_valid_days=180)

    assert titles(found) == ["Reading due: Never", "Reading due: Seven days"]
    assert found[1].detail == "No reading since 9 Nov 2026 (7 days)"
    assert found[1].url == "/me/#kpi-2"
    assert found[0].detail == "No reading yet"


def test_only_those_who_may_record_see_readings_due():
    sponsored = pilot(kpis=(KpiFact(1, "k", "K", None),), owned=False, sponsored=True, can_edit=False)

    assert titles(needs([sponsored], TODAY, evidence_valid_days=180)) == ["Check-in due"]


def test_evidence_within_thirty_days_of_expiry_or_expired_is_due():
    evidence = (
        EvidenceFact("Fresh", TODAY - dt.timedelta(days=149)),
        EvidenceFact("Expiring", TODAY - dt.timedelta(days=150)),
        EvidenceFact("Expired", TODAY - dt.timedelta(days=185)),
    )

    found = needs([pilot(evidence=evidence)], TODAY, evidence_valid_days=180)

    assert titles(found) == ["Evidence expired: Expired", "Evidence expires: Expiring"]
    assert found[0].detail == "Attested on 15 May 2026; it expired on 11 Nov 2026 (5 days ago)."
    assert found[1].detail == "Attested on 19 Jun 2026; it expires on 16 Dec 2026 (in 30 days)."
    assert found[1].url == "/pilots/invoice-matching/gate/"


def test_a_check_in_is_due_after_thirty_days_for_the_sponsor_only():
    recent = pilot(key="a", name="A", owned=False, sponsored=True, latest_checkin_on=TODAY - dt.timedelta(days=29))
    lapsed = pilot(key="b", name="B", owned=False, sponsored=True, latest_checkin_on=TODAY - dt.timedelta(days=30))
    owned = pilot(key="c", name="C", latest_checkin_on=None)

    found = needs([recent, lapsed, owned], TODAY, evidence_valid_days=180)

    assert [(need.pilot_key, need.title) for need in found] == [("b", "Check-in due")]
    assert found[0].url == "/me/#checkin-b"


def test_killed_and_held_pilots_have_nothing_due():
    kpis = (KpiFact(1, "k", "K", None),)

    for status in ("killed", "on_hold"):
        assert needs([pilot(status=status, kpis=kpis, sponsored=True)], TODAY, evidence_valid_days=180) == []


@pytest.mark.parametrize(
    ("kind", "facts", "action", "url", "hint"),
    [
        ("no_kpi", {}, "Add a KPI", "/pilots/invoice-matching/kpis/new/", ""),
        ("no_kpi", {"can_edit": False, "owned": False}, "", "", "The owner fixes this."),
        ("no_kill_criteria", {}, "Add a kill criterion", "/pilots/invoice-matching/kill-criteria/new/", ""),
        ("stale", {}, "Record a reading", "/me/#kpis-invoice-matching", ""),
        ("sponsor_lapsed", {"sponsored": True}, "Record a check-in", "/me/#checkin-invoice-matching", ""),
        ("sponsor_lapsed", {"sponsor_name": "Sam Sponsor"}, "", "", "Sam Sponsor records check-ins."),
        ("no_sponsor", {}, "", "", "The portfolio office names a sponsor."),
        ("no_owner", {"in_office": True}, "Name an owner", "/pilots/invoice-matching/edit/", ""),
        ("kill_criterion_met", {}, "Decide at the gate", "/pilots/invoice-matching/gate/", ""),
        ("stuck", {}, "Hold a gate review", "/pilots/invoice-matching/gate/", ""),
    ],
)
def test_each_flag_names_the_one_action_that_fixes_it_or_who_must(kind, facts, action, url, hint):
    found = needs([pilot(flags=(FlagFact(kind, "warning", "detail"),), **facts)], TODAY, evidence_valid_days=180)

    assert (found[0].action, found[0].url, found[0].hint) == (action, url, hint)


def test_a_missing_baseline_links_to_its_kpis_form():
    flag = FlagFact("no_baseline", "warning", "KPI Match rate has no baseline", kpi_key="match-rate")

    found = needs([pilot(flags=(flag,))], TODAY, evidence_valid_days=180)

    assert (found[0].action, found[0].url) == ("Set the baseline", "/pilots/invoice-matching/kpis/match-rate/edit/")
