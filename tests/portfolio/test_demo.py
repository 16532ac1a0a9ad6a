"""The demo portfolio document: deterministic, valid, and telling every story the health scan should see."""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import json
import random
from collections import Counter
from typing import Any

import pytest
import time_machine
from django.conf import settings

from portfolio import health
from portfolio.demo import DEMO_EMAIL_DOMAIN, demo_document
from portfolio.exchange.validate import (
    ATTESTATION_FIELDS,
    CHECKIN_FIELDS,
    GATE_REVIEW_FIELDS,
    KILL_CRITERION_FIELDS,
    KPI_FIELDS,
    PERSON_FIELDS,
    PILOT_FIELDS,
    READING_FIELDS,
    ROOT_FIELDS,
    ValidationContext,
    document_errors,
)
from tests.factories import TODAY

CRITERION_CODES = frozenset(
    row[1] for row in importlib.import_module("gates.migrations.0002_default_criteria").DEFAULT_CRITERIA
)

# The flags each active or on-hold pilot should raise (DESIGN section 5); the others are healthy.
EXPECTED_FLAGS = {
    "call-summarisation": {"drifting"},
    "inventory-rebalancing": {"drifting"},
    "safety-incident-nlp": {"no_owner"},
    "field-service-routing": {"owner_inactive"},
    "supplier-risk": {"no_sponsor"},
    "knowledge-search": {"owner_is_sponsor"},
    "energy-optimisation": {"stale"},
    "churn-early-warning": {"stuck"},
    "visual-quality-inspection": {"stuck"},
    "collections-prioritisation": {"sponsor_lapsed"},
    "cash-forecasting": {"kill_criterion_met"},
    "voice-of-customer": {"review_overdue"},
    "contract-clause-extraction": {"no_kill_criteria"},
    "vendor-onboarding": {"no_baseline"},
    "work-order-intake": {"no_kpi"},
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return demo_document(TODAY)


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _shift_dates(value: Any, days: int) -> Any:
    """The same document with every YYYY-MM-DD string moved by ``days``."""
    if isinstance(value, dict):
        return {key: _shift_dates(item, days) for key, item in value.items()}
    if isinstance(value, list):
        return [_shift_dates(item, days) for item in value]
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return (dt.date.fromisoformat(value) + dt.timedelta(days=days)).isoformat()
    return value


def _facts(pilot: dict[str, Any], people: dict[str, dict[str, Any]]) -> health.PilotFacts:
    """The health engine's view of one pilot of the document."""
    user_ids = {username: index for index, username in enumerate(people, start=1)}
    kpis = []
    for index, kpi in enumerate(pilot["kpis"], start=1):
        newest = sorted(kpi["readings"], key=lambda reading: reading["on"], reverse=True)[:3]
        kpis.append(
            health.KpiFacts(
                id=index,
                key=kpi["key"],
                name=kpi["name"],
                unit=kpi["unit"],
                direction=kpi["direction"],
                baseline=kpi["baseline"],
                target=kpi["target"],
                last_readings=tuple(health.Reading(_date(r["on"]), r["value"]) for r in newest),
            )
        )
    kpi_ids = {kpi.key: kpi.id for kpi in kpis}
    criteria = tuple(
        health.KillCriterionFacts(
            id=index,
            key=criterion["key"],
            description=criterion["description"],
            kpi_id=kpi_ids.get(criterion["kpi"]),
            comparator=criterion["comparator"],
            threshold=criterion["threshold"],
            evaluate_on=_date(criterion["evaluate_on"]),
        )
        for index, criterion in enumerate(pilot["kill_criteria"], start=1)
    )
    owner, sponsor = pilot["owner"], pilot["sponsor"]
    return health.PilotFacts(
        id=1,
        key=pilot["key"],
        status=pilot["status"],
        phase=pilot["phase"],
        started_on=_date(pilot["started_on"]),
        phase_entered_on=_date(pilot["phase_entered_on"]),
        next_review_on=_date(pilot["next_review_on"]),
        owner_id=user_ids.get(owner),
        owner_active=bool(owner and people[owner]["active"]),
        sponsor_id=user_ids.get(sponsor),
        sponsor_active=bool(sponsor and people[sponsor]["active"]),
        latest_checkin_on=max((_date(checkin["on"]) for checkin in pilot["checkins"]), default=None),
        kpis=tuple(kpis),
        kill_criteria=criteria,
    )


def test_the_same_date_gives_the_same_document():
    random.seed(1)
    with time_machine.travel(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC), tick=False):
        first = demo_document(TODAY)
    random.seed(2)
    with time_machine.travel(dt.datetime(2027, 6, 30, 18, 0, tzinfo=dt.UTC), tick=False):
        second = demo_document(TODAY)

    assert first == second
    assert json.loads(json.dumps(first)) == first


def test_a_later_date_gives_the_same_portfolio_moved_forward():
    later = TODAY + dt.timedelta(days=45)

    assert demo_document(later) == _shift_dates(demo_document(TODAY), 45)


def test_it_is_a_valid_exchange_document(document):
    assert document_errors(document, ValidationContext(criterion_codes=CRITERION_CODES)) == []


def test_it_has_exactly_the_fields_of_the_exchange_format(document):
    assert tuple(document) == ROOT_FIELDS
    assert document["format"] == "pilot-portfolio/v1"
    for person in document["people"]:
        assert tuple(person) == PERSON_FIELDS
    for pilot in document["pilots"]:
        assert tuple(pilot) == PILOT_FIELDS
        for kpi in pilot["kpis"]:
            assert tuple(kpi) == KPI_FIELDS
            assert all(tuple(reading) == READING_FIELDS for reading in kpi["readings"])
        assert all(tuple(criterion) == KILL_CRITERION_FIELDS for criterion in pilot["kill_criteria"])
        assert all(tuple(checkin) == CHECKIN_FIELDS for checkin in pilot["checkins"])
        assert all(tuple(attestation) == ATTESTATION_FIELDS for attestation in pilot["attestations"])
        assert all(tuple(review) == GATE_REVIEW_FIELDS for review in pilot["gate_reviews"])


def test_it_covers_every_phase_status_and_four_business_units(document):
    pilots = document["pilots"]

    assert len(pilots) >= 25
    assert len({pilot["key"] for pilot in pilots}) == len(pilots)
    assert {pilot["phase"] for pilot in pilots} == {"poc", "pilot", "production", "scaled"}
    assert {pilot["status"] for pilot in pilots} == {"active", "on_hold", "killed"}
    assert {pilot["business_unit"] for pilot in pilots} == {"Customer Service", "Finance", "Operations", "Supply Chain"}


def test_every_target_lies_on_the_better_side_of_its_baseline(document):
    kpis = [kpi for pilot in document["pilots"] for kpi in pilot["kpis"]]

    assert {kpi["direction"] for kpi in kpis} == {"increase", "decrease"}
    for kpi in kpis:
        if kpi["baseline"] is None:
            continue
        if kpi["direction"] == "increase":
            assert kpi["target"] > kpi["baseline"], kpi["key"]
        else:
            assert kpi["target"] < kpi["baseline"], kpi["key"]


def test_every_username_it_names_is_one_of_its_people(document):
    usernames = {person["username"] for person in document["people"]}
    named = Counter()
    for pilot in document["pilots"]:
        named.update(name for name in (pilot["owner"], pilot["sponsor"]) if name)
        named.update(checkin["sponsor"] for checkin in pilot["checkins"])
        named.update(attestation["by"] for attestation in pilot["attestations"])
        named.update(review["by"] for review in pilot["gate_reviews"])

    assert set(named) <= usernames


def test_its_people_include_executives_the_portfolio_office_and_an_inactive_owner(document):
    people = document["people"]
    roles = Counter(role for person in people for role in person["roles"])
    owners = Counter(pilot["owner"] for pilot in document["pilots"])
    inactive = [person["username"] for person in people if not person["active"]]

    assert roles["executive"] >= 2
    assert roles["portfolio_office"] == 1
    assert len(people) >= 12
    assert all(person["email"] == f"{person['username']}@{DEMO_EMAIL_DOMAIN}" for person in people)
    assert len(inactive) == 1
    assert owners[inactive[0]] == 1


def test_readings_are_weekly_up_to_today_for_at_most_a_year(document):
    for pilot in document["pilots"]:
        for kpi in pilot["kpis"]:
            dates = [_date(reading["on"]) for reading in kpi["readings"]]
            assert dates, f"{pilot['key']}/{kpi['key']} has no readings"
            assert dates[-1] <= TODAY
            assert dates[0] > _date(pilot["started_on"])
            assert (dates[-1] - dates[0]).days <= 365
            assert {(later - earlier).days for earlier, later in itertools.pairwise(dates)} == {7}


def test_active_pilots_have_a_recent_reading_unless_their_story_is_staleness(document):
    recent = TODAY - dt.timedelta(days=7)
    for pilot in document["pilots"]:
        if pilot["status"] != "active" or not pilot["kpis"] or pilot["key"] == "energy-optimisation":
            continue
        latest = max(_date(reading["on"]) for kpi in pilot["kpis"] for reading in kpi["readings"])
        assert latest >= recent, pilot["key"]


@pytest.mark.parametrize("as_of", [TODAY, dt.date(2027, 3, 6)])
def test_each_pilot_raises_the_flags_of_its_story_and_the_healthy_ones_none(as_of):
    document = demo_document(as_of)
    people = {person["username"]: person for person in document["people"]}

    raised = {
        pilot["key"]: {
            str(finding.kind) for finding in health.evaluate(_facts(pilot, people), as_of, settings.HEALTH_THRESHOLDS)
        }
        for pilot in document["pilots"]
    }

    assert raised == {pilot["key"]: EXPECTED_FLAGS.get(pilot["key"], set()) for pilot in document["pilots"]}
    healthy = [key for key, kinds in raised.items() if not kinds]
    assert len(healthy) >= 8


def test_a_drifting_pilot_has_fallen_below_its_baseline(document):
    pilot = next(pilot for pilot in document["pilots"] if pilot["key"] == "call-summarisation")
    kpi = pilot["kpis"][0]
    values = [reading["value"] for reading in kpi["readings"]]

    # Lower is better: it improved first, then its last readings went above the baseline.
    assert min(values) < kpi["baseline"]
    assert values[-1] > kpi["baseline"] and values[-2] > kpi["baseline"]


def test_a_healthy_pilot_rises_toward_its_target(document):
    pilot = next(pilot for pilot in document["pilots"] if pilot["key"] == "invoice-matching")
    kpi = next(kpi for kpi in pilot["kpis"] if kpi["key"] == "auto-match-rate")
    values = [reading["value"] for reading in kpi["readings"]]

    assert values[0] < values[len(values) // 2] < values[-1]
    assert values[-1] >= kpi["target"]


def test_gate_reviews_lead_to_the_pilots_phase(document):
    phases = ["poc", "pilot", "production", "scaled"]
    for pilot in document["pilots"]:
        advances = [review for review in pilot["gate_reviews"] if review["decision"] == "advance"]
        passed = phases.index(pilot["phase"])

        assert [(review["from"], review["to"]) for review in advances] == list(
            itertools.pairwise(phases[: passed + 1])
        ), pilot["key"]
        if advances:
            assert advances[-1]["on"] == pilot["phase_entered_on"]
        assert [review["on"] for review in pilot["gate_reviews"]] == sorted(
            review["on"] for review in pilot["gate_reviews"]
        )


def test_killed_pilots_end_with_a_kill_review_that_records_the_lesson(document):
    killed = [pilot for pilot in document["pilots"] if pilot["status"] == "killed"]

    assert {pilot["phase"] for pilot in killed} >= {"poc", "pilot", "production"}
    for pilot in killed:
        last = pilot["gate_reviews"][-1]
        assert (last["decision"], last["from"]) == ("kill", pilot["phase"])
        assert "Lesson" in last["rationale"]
        assert pilot["next_review_on"] is None
        assert "Killed" in pilot["problem"]


def test_it_has_an_override_a_hold_and_attested_evidence_for_each_gate_passed(document):
    reviews = [review for pilot in document["pilots"] for review in pilot["gate_reviews"]]

    assert any(review["decision"] == "advance" and review["override"] for review in reviews)
    assert any(review["decision"] == "hold" for review in reviews)
    for pilot in document["pilots"]:
        attested = {attestation["criterion"] for attestation in pilot["attestations"]}
        assert attested <= CRITERION_CODES
        if pilot["phase"] in ("production", "scaled"):
            assert {"data_pipeline", "integration_plan", "monitoring", "change_management", "governance"} <= attested
        if pilot["phase"] == "scaled":
            assert {"runbook", "drift_monitoring"} <= attested
