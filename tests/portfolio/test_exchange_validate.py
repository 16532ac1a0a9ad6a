"""The exchange validator on plain dicts: every kind of error, each with its exact JSON path.

No test here touches the database (pytest-django would refuse it): the validator is
pure and learns what exists from the context it is given.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from portfolio.exchange import ImportRejected
from portfolio.exchange.validate import ValidationContext, document_errors, validate_document
from tests.portfolio.exchange_samples import (
    CRITERION_CODES,
    FORMAT,
    day,
    minimal_pilot,
    person,
    sample_document,
)

CONTEXT = ValidationContext(usernames=frozenset({"existing"}), criterion_codes=CRITERION_CODES)


def errors_of(document: Any, context: ValidationContext = CONTEXT) -> list[str]:
    return document_errors(document, context)


def document_with(*pilots: dict[str, Any], people: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"format": FORMAT, "people": people or [], "pilots": list(pilots)}


def kpi(key: str = "accuracy", **fields: Any) -> dict[str, Any]:
    item = {"key": key, "name": key.capitalize(), "direction": "increase", "baseline": 50.0, "target": 80.0}
    item.update(fields)
    return item


# -- a valid document -----------------------------------------------------------------------------


def test_the_sample_document_is_valid():
    assert errors_of(sample_document()) == []


def test_it_returns_a_typed_document():
    document = validate_document(sample_document(), CONTEXT)

    pilot = next(p for p in document.pilots if p.key == "invoice-matching")
    assert pilot.started_on == dt.date.fromisoformat(day(200))
    assert pilot.budget == Decimal("120000.00")
    assert pilot.spent == Decimal("45250.50")
    assert pilot.kpis[1].readings[0].value == 64.0
    assert isinstance(pilot.kpis[1].readings[0].value, float)
    assert pilot.gate_reviews[0].from_phase == "poc"
    assert [p.username for p in document.people] == ["dave", "erin", "olivia", "paula", "sam", "zoe"]


def test_a_pilot_needs_only_its_required_fields():
    document = validate_document(document_with(minimal_pilot()), CONTEXT)

    pilot = document.pilots[0]
    assert (pilot.owner, pilot.sponsor, pilot.next_review_on, pilot.budget) == (None, None, None, None)
    assert (pilot.problem, pilot.kpis, pilot.gate_reviews) == ("", [], [])


def test_it_allows_null_wherever_the_format_does():
    pilot = minimal_pilot(
        owner=None,
        sponsor=None,
        next_review_on=None,
        budget=None,
        spent=None,
        kpis=[kpi(baseline=None, baseline_on=None, target_on=None)],
        kill_criteria=[
            {
                "key": "k",
                "description": "Stop.",
                "kpi": None,
                "comparator": None,
                "threshold": None,
                "evaluate_on": None,
            }
        ],
        gate_reviews=[
            {
                "on": day(1),
                "from": "poc",
                "to": "pilot",
                "decision": "hold",
                "by": None,
                "rationale": "",
                "override": None,
            }
        ],
    )

    assert errors_of(document_with(pilot)) == []


def test_empty_strings_are_allowed_for_free_text():
    pilot = minimal_pilot(
        problem="",
        outcome="",
        kpis=[kpi(unit="", readings=[{"on": day(1), "value": 60, "note": ""}])],
        checkins=[{"on": day(1), "sponsor": "existing", "confidence": "low", "note": ""}],
        gate_reviews=[
            {
                "on": day(1),
                "from": "poc",
                "to": "pilot",
                "decision": "kill",
                "by": "existing",
                "rationale": "",
                "override": "",
            }
        ],
    )

    assert errors_of(document_with(pilot)) == []


def test_validate_document_raises_with_every_error():
    document = document_with(minimal_pilot(phase="beta", status="paused"))

    with pytest.raises(ImportRejected) as raised:
        validate_document(document, CONTEXT)

    assert raised.value.errors == [
        "pilots[0].phase: must be one of poc, pilot, production, scaled (got 'beta')",
        "pilots[0].status: must be one of active, on_hold, killed (got 'paused')",
    ]
    assert str(raised.value) == "Import rejected: 2 errors; nothing was written."


def test_it_collects_errors_across_the_whole_document():
    document = sample_document()
    document["pilots"][0]["owner"] = "bob"
    document["pilots"][1]["kpis"][0]["target"] = "fast"
    document["pilots"][2]["colour"] = "blue"
    document["people"][0]["roles"] = ["admin"]

    assert errors_of(document) == [
        "people[0].roles[0]: must be one of executive, portfolio_office (got 'admin')",
        "pilots[0].owner: unknown user 'bob'",
        "pilots[1].kpis[0].target: must be a number",
        "pilots[2].colour: unknown field",
    ]


# -- format and shape -----------------------------------------------------------------------------


def test_the_document_must_be_an_object():
    assert errors_of([]) == ["$: must be a JSON object"]


def test_the_format_is_required():
    document = document_with()
    del document["format"]

    assert errors_of(document) == ["format: is required"]


def test_the_format_must_be_v1():
    document = document_with()
    document["format"] = "pilot-portfolio/v2"

    assert errors_of(document) == ["format: must be \"pilot-portfolio/v1\" (got 'pilot-portfolio/v2')"]


def test_pilots_are_required_and_people_are_not():
    assert errors_of({"format": FORMAT}) == ["pilots: is required"]
    assert errors_of({"format": FORMAT, "pilots": []}) == []


def test_lists_must_be_lists():
    document = {"format": FORMAT, "people": {}, "pilots": [minimal_pilot(kpis="none")]}

    assert errors_of(document) == ["people: must be a list", "pilots[0].kpis: must be a list"]


def test_list_items_must_be_objects():
    document = document_with(minimal_pilot(kpis=[kpi(readings=[42])]), people=["bob"])
    document["pilots"].append("another")

    assert errors_of(document) == [
        "people[0]: must be an object",
        "pilots[0].kpis[0].readings[0]: must be an object",
        "pilots[1]: must be an object",
    ]


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ("root", "colour"),
        ("person", "people[0].colour"),
        ("pilot", "pilots[0].colour"),
        ("kpi", "pilots[0].kpis[0].colour"),
        ("reading", "pilots[0].kpis[0].readings[0].colour"),
        ("kill criterion", "pilots[0].kill_criteria[0].colour"),
        ("check-in", "pilots[0].checkins[0].colour"),
        ("attestation", "pilots[0].attestations[0].colour"),
        ("gate review", "pilots[0].gate_reviews[0].colour"),
    ],
)
def test_unknown_fields_are_errors_at_every_level(where: str, path: str):
    document = sample_document()
    pilot = document["pilots"][1]
    target = {
        "root": document,
        "person": document["people"][0],
        "pilot": pilot,
        "kpi": pilot["kpis"][0],
        "reading": pilot["kpis"][0]["readings"][0],
        "kill criterion": pilot["kill_criteria"][0],
        "check-in": pilot["checkins"][0],
        "attestation": pilot["attestations"][0],
        "gate review": pilot["gate_reviews"][0],
    }[where]
    target["colour"] = "blue"
    document["pilots"] = [pilot]

    assert errors_of(document) == [f"{path}: unknown field"]


# -- required fields and types --------------------------------------------------------------------


def test_a_person_needs_a_username():
    member = person("bob", "Bob Builder")
    del member["username"]

    assert errors_of(document_with(people=[member])) == ["people[0].username: is required"]


@pytest.mark.parametrize("field", ["key", "name", "business_unit", "phase", "status", "started_on", "phase_entered_on"])
def test_a_pilot_needs_its_required_fields(field: str):
    pilot = minimal_pilot()
    del pilot[field]

    assert errors_of(document_with(pilot)) == [f"pilots[0].{field}: is required"]


@pytest.mark.parametrize(
    ("collection", "item", "field"),
    [
        ("kpis", kpi(), "key"),
        ("kpis", kpi(), "name"),
        ("kpis", kpi(), "direction"),
        ("kpis", kpi(), "target"),
        ("kill_criteria", {"key": "k", "description": "Stop."}, "key"),
        ("kill_criteria", {"key": "k", "description": "Stop."}, "description"),
        ("checkins", {"on": day(1), "sponsor": "existing", "confidence": "high"}, "on"),
        ("checkins", {"on": day(1), "sponsor": "existing", "confidence": "high"}, "sponsor"),
        ("checkins", {"on": day(1), "sponsor": "existing", "confidence": "high"}, "confidence"),
        ("attestations", {"criterion": "monitoring", "by": "existing", "on": day(1), "evidence": "x"}, "criterion"),
        ("attestations", {"criterion": "monitoring", "by": "existing", "on": day(1), "evidence": "x"}, "by"),
        ("attestations", {"criterion": "monitoring", "by": "existing", "on": day(1), "evidence": "x"}, "evidence"),
        ("gate_reviews", {"on": day(1), "from": "poc", "to": "pilot", "decision": "hold"}, "on"),
        ("gate_reviews", {"on": day(1), "from": "poc", "to": "pilot", "decision": "hold"}, "from"),
        ("gate_reviews", {"on": day(1), "from": "poc", "to": "pilot", "decision": "hold"}, "decision"),
    ],
)
def test_nested_objects_need_their_required_fields(collection: str, item: dict, field: str):
    item = dict(item)
    del item[field]

    assert errors_of(document_with(minimal_pilot(**{collection: [item]}))) == [
        f"pilots[0].{collection}[0].{field}: is required"
    ]


def test_a_reading_needs_a_date_and_a_value():
    pilot = minimal_pilot(kpis=[kpi(readings=[{"note": "forgot"}])])

    assert errors_of(document_with(pilot)) == [
        "pilots[0].kpis[0].readings[0].on: is required",
        "pilots[0].kpis[0].readings[0].value: is required",
    ]


@pytest.mark.parametrize("value", ["80", True, False, [80], {"value": 80}])
def test_a_target_must_be_a_number(value: Any):
    pilot = minimal_pilot(kpis=[kpi(target=value)])

    assert errors_of(document_with(pilot)) == ["pilots[0].kpis[0].target: must be a number"]


def test_a_target_may_not_be_null():
    pilot = minimal_pilot(kpis=[kpi(target=None)])

    assert errors_of(document_with(pilot)) == ["pilots[0].kpis[0].target: must be a number"]


def test_a_boolean_is_not_a_number_anywhere():
    pilot = minimal_pilot(
        budget=True,
        kpis=[kpi(baseline=False, readings=[{"on": day(1), "value": True}])],
        kill_criteria=[
            {"key": "k", "description": "Stop.", "kpi": "accuracy", "comparator": "below", "threshold": True}
        ],
    )

    assert errors_of(document_with(pilot)) == [
        "pilots[0].budget: must be a number or null",
        "pilots[0].kpis[0].baseline: must be a number or null",
        "pilots[0].kpis[0].readings[0].value: must be a number",
        "pilots[0].kill_criteria[0].threshold: must be a number or null",
    ]


def test_a_number_must_be_finite():
    pilot = minimal_pilot(kpis=[kpi(readings=[{"on": day(1), "value": float("nan")}])])

    assert errors_of(document_with(pilot)) == ["pilots[0].kpis[0].readings[0].value: must be a finite number"]


def test_integers_are_numbers():
    document = validate_document(document_with(minimal_pilot(kpis=[kpi(baseline=50, target=80)])), CONTEXT)

    assert document.pilots[0].kpis[0].target == 80.0


def test_strings_must_be_strings():
    pilot = minimal_pilot(name=42, problem=None, kpis=[kpi(unit=["%"])])

    assert errors_of(document_with(pilot)) == [
        "pilots[0].name: must be a string",
        "pilots[0].problem: must be a string",
        "pilots[0].kpis[0].unit: must be a string",
    ]


def test_names_and_descriptions_may_not_be_blank():
    pilot = minimal_pilot(name="  ", kill_criteria=[{"key": "k", "description": ""}])

    assert errors_of(document_with(pilot)) == [
        "pilots[0].name: must not be empty",
        "pilots[0].kill_criteria[0].description: must not be empty",
    ]


def test_keys_must_be_slugs_that_fit():
    pilot = minimal_pilot(key="invoice matching", kpis=[kpi(key="x" * 65)])

    assert errors_of(document_with(pilot)) == [
        "pilots[0].key: must be a slug: letters, digits, hyphens and underscores",
        "pilots[0].kpis[0].key: must be at most 64 characters (got 65)",
    ]


def test_override_is_a_string_or_null():
    review = {"on": day(1), "from": "poc", "to": "pilot", "decision": "advance", "override": True}

    assert errors_of(document_with(minimal_pilot(gate_reviews=[review]))) == [
        "pilots[0].gate_reviews[0].override: must be a string or null"
    ]


def test_a_person_is_checked_field_by_field():
    member = {"username": "bob smith", "email": "not-an-email", "name": 7, "active": "yes", "roles": "executive"}

    assert errors_of(document_with(people=[member])) == [
        "people[0].username: may contain only letters, digits and @ . + - _",
        "people[0].email: 'not-an-email' is not an email address",
        "people[0].name: must be a string",
        "people[0].active: must be true or false",
        "people[0].roles: must be a list",
    ]


def test_a_person_needs_only_a_username():
    document = validate_document(document_with(people=[{"username": "bob"}]), CONTEXT)

    assert document.people[0].email is None
    assert document.people[0].roles is None


# -- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["2026-13-01", "2026-02-30", "16/11/2026", "2026-1-5", "20261116", "2026-11-16\n", "", 20261116]
)
def test_dates_must_be_yyyy_mm_dd(value: Any):
    pilot = minimal_pilot(started_on=value)

    assert errors_of(document_with(pilot)) == ["pilots[0].started_on: must be a date YYYY-MM-DD"]


def test_dates_are_checked_at_every_level():
    pilot = minimal_pilot(
        next_review_on="soon",
        kpis=[kpi(baseline_on="last year", target_on="2026-02-30", readings=[{"on": "Monday", "value": 1}])],
        kill_criteria=[{"key": "k", "description": "Stop.", "evaluate_on": "later"}],
        checkins=[{"on": "today", "sponsor": "existing", "confidence": "high"}],
        attestations=[{"criterion": "monitoring", "by": "existing", "on": "today", "evidence": "x"}],
        gate_reviews=[{"on": "today", "from": "poc", "to": "pilot", "decision": "hold"}],
    )

    assert errors_of(document_with(pilot)) == [
        "pilots[0].next_review_on: must be a date YYYY-MM-DD or null",
        "pilots[0].kpis[0].baseline_on: must be a date YYYY-MM-DD or null",
        "pilots[0].kpis[0].target_on: must be a date YYYY-MM-DD or null",
        "pilots[0].kpis[0].readings[0].on: must be a date YYYY-MM-DD",
        "pilots[0].kill_criteria[0].evaluate_on: must be a date YYYY-MM-DD or null",
        "pilots[0].checkins[0].on: must be a date YYYY-MM-DD",
        "pilots[0].attestations[0].on: must be a date YYYY-MM-DD",
        "pilots[0].gate_reviews[0].on: must be a date YYYY-MM-DD",
    ]


def test_a_phase_is_not_entered_before_the_pilot_started():
    pilot = minimal_pilot(started_on="2026-03-01", phase_entered_on="2026-02-28")

    assert errors_of(document_with(pilot)) == ["pilots[0].phase_entered_on: must not be before started_on (2026-03-01)"]


def test_a_phase_may_be_entered_on_the_day_the_pilot_started():
    assert errors_of(document_with(minimal_pilot(started_on="2026-03-01", phase_entered_on="2026-03-01"))) == []


# -- choices --------------------------------------------------------------------------------------


def test_every_choice_is_checked():
    pilot = minimal_pilot(
        phase="beta",
        status="paused",
        kpis=[kpi(direction="up")],
        kill_criteria=[{"key": "k", "description": "Stop.", "kpi": "accuracy", "comparator": "under", "threshold": 1}],
        checkins=[{"on": day(1), "sponsor": "existing", "confidence": "sure"}],
        gate_reviews=[{"on": day(1), "from": "poc", "to": "pilot", "decision": "pause"}],
    )
    member = person("bob", "Bob Builder", roles=["executive", "admin"])

    assert errors_of(document_with(pilot, people=[member])) == [
        "people[0].roles[1]: must be one of executive, portfolio_office (got 'admin')",
        "pilots[0].phase: must be one of poc, pilot, production, scaled (got 'beta')",
        "pilots[0].status: must be one of active, on_hold, killed (got 'paused')",
        "pilots[0].kpis[0].direction: must be one of increase, decrease (got 'up')",
        "pilots[0].kill_criteria[0].comparator: must be one of below, above or null (got 'under')",
        "pilots[0].checkins[0].confidence: must be one of high, medium, low (got 'sure')",
        "pilots[0].gate_reviews[0].decision: must be one of advance, hold, kill (got 'pause')",
    ]


def test_gate_review_phases_are_phases():
    review = {"on": day(1), "from": "idea", "to": 3, "decision": "hold"}

    assert errors_of(document_with(minimal_pilot(gate_reviews=[review]))) == [
        "pilots[0].gate_reviews[0].from: must be one of poc, pilot, production, scaled (got 'idea')",
        "pilots[0].gate_reviews[0].to: must be one of poc, pilot, production, scaled (got 3)",
    ]


# -- users ----------------------------------------------------------------------------------------


def test_every_username_reference_must_be_known():
    pilot = minimal_pilot(
        owner="bob",
        sponsor="carol",
        checkins=[{"on": day(1), "sponsor": "dan", "confidence": "high"}],
        attestations=[{"criterion": "monitoring", "by": "eve", "on": day(1), "evidence": "x"}],
        gate_reviews=[{"on": day(1), "from": "poc", "to": "pilot", "decision": "hold", "by": "fay"}],
    )

    assert errors_of(document_with(pilot)) == [
        "pilots[0].owner: unknown user 'bob'",
        "pilots[0].sponsor: unknown user 'carol'",
        "pilots[0].checkins[0].sponsor: unknown user 'dan'",
        "pilots[0].attestations[0].by: unknown user 'eve'",
        "pilots[0].gate_reviews[0].by: unknown user 'fay'",
    ]


def test_a_user_is_known_from_the_documents_people_wherever_they_are_listed():
    document = {"pilots": [minimal_pilot(owner="bob")], "people": [person("bob", "Bob")], "format": FORMAT}

    assert errors_of(document) == []


def test_a_user_is_known_from_the_database():
    assert errors_of(document_with(minimal_pilot(owner="existing"))) == []
    assert errors_of(document_with(minimal_pilot(owner="existing")), ValidationContext()) == [
        "pilots[0].owner: unknown user 'existing'"
    ]


def test_a_person_with_another_mistake_is_still_a_known_user():
    member = dict(person("bob", "Bob"), email="bob at example")

    assert errors_of(document_with(minimal_pilot(owner="bob"), people=[member])) == [
        "people[0].email: 'bob at example' is not an email address"
    ]


def test_a_username_reference_must_be_a_string():
    assert errors_of(document_with(minimal_pilot(owner=7))) == ["pilots[0].owner: must be a username or null"]


# -- duplicates -----------------------------------------------------------------------------------


def test_pilot_keys_are_unique():
    document = document_with(minimal_pilot("invoice-matching"), minimal_pilot("invoice-matching"))

    assert errors_of(document) == ["pilots[1].key: duplicate key 'invoice-matching' (also at pilots[0])"]


def test_kpi_keys_are_unique_within_a_pilot():
    document = document_with(
        minimal_pilot("a", kpis=[kpi("nps"), kpi("accuracy"), kpi("nps")]),
        minimal_pilot("b", kpis=[kpi("nps")]),
    )

    assert errors_of(document) == ["pilots[0].kpis[2].key: duplicate key 'nps' (also at pilots[0].kpis[0])"]


def test_kill_criterion_keys_are_unique_within_a_pilot():
    criteria = [{"key": "stop", "description": "One."}, {"key": "stop", "description": "Two."}]

    assert errors_of(document_with(minimal_pilot(kill_criteria=criteria))) == [
        "pilots[0].kill_criteria[1].key: duplicate key 'stop' (also at pilots[0].kill_criteria[0])"
    ]


def test_usernames_are_unique_in_people():
    members = [person("bob", "Bob"), person("carol", "Carol"), person("bob", "Robert")]

    assert errors_of(document_with(people=members)) == [
        "people[2].username: duplicate username 'bob' (also at people[0])"
    ]


def test_a_kpi_has_one_reading_per_date():
    readings = [{"on": "2026-01-05", "value": 1}, {"on": "2026-01-12", "value": 2}, {"on": "2026-01-05", "value": 3}]

    assert errors_of(document_with(minimal_pilot(kpis=[kpi(readings=readings)]))) == [
        "pilots[0].kpis[0].readings[2].on: duplicate reading for 2026-01-05 (also at pilots[0].kpis[0].readings[0])"
    ]


# -- business rules -------------------------------------------------------------------------------


@pytest.mark.parametrize("target", [50, 40])
def test_a_target_lies_above_the_baseline_when_higher_is_better(target: float):
    pilot = minimal_pilot(kpis=[kpi("first"), kpi("second", baseline=50, target=target)])

    assert errors_of(document_with(pilot)) == [
        "pilots[0].kpis[1].target: must be above the baseline (50) for a KPI where higher is better"
    ]


@pytest.mark.parametrize("target", [2.5, 3])
def test_a_target_lies_below_the_baseline_when_lower_is_better(target: float):
    pilot = minimal_pilot(kpis=[kpi(direction="decrease", baseline=2.5, target=target)])

    assert errors_of(document_with(pilot)) == [
        "pilots[0].kpis[0].target: must be below the baseline (2.5) for a KPI where lower is better"
    ]


def test_a_target_without_a_baseline_can_be_anything():
    assert errors_of(document_with(minimal_pilot(kpis=[kpi(direction="decrease", baseline=None, target=99)]))) == []


def test_a_kill_criterion_names_a_kpi_of_its_own_pilot():
    criteria = [
        {"key": "first", "description": "Stop."},
        {"key": "nps-floor", "description": "Stop.", "kpi": "nps", "comparator": "below", "threshold": 10},
    ]
    document = document_with(
        minimal_pilot("has-nps", kpis=[kpi("nps")]),
        minimal_pilot("plain"),
        minimal_pilot("no-nps", kpis=[kpi("accuracy")], kill_criteria=criteria),
    )

    assert errors_of(document) == ["pilots[2].kill_criteria[1].kpi: no KPI 'nps' in this pilot"]


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"kpi": "accuracy"}, ["comparator", "threshold"]),
        ({"comparator": "below"}, ["kpi", "threshold"]),
        ({"threshold": 10}, ["kpi", "comparator"]),
        ({"kpi": "accuracy", "comparator": "below"}, ["threshold"]),
        ({"kpi": "accuracy", "comparator": "below", "threshold": None}, ["threshold"]),
    ],
)
def test_a_measurable_condition_is_all_of_kpi_comparator_and_threshold(given: dict, missing: list[str]):
    criterion = {"key": "k", "description": "Stop.", **given}
    named = " and ".join(name for name in ("kpi", "comparator", "threshold") if given.get(name) is not None)

    assert errors_of(document_with(minimal_pilot(kpis=[kpi()], kill_criteria=[criterion]))) == [
        f"pilots[0].kill_criteria[0].{name}: is required with {named}: "
        "a measurable condition has kpi, comparator and threshold, or none of them"
        for name in missing
    ]


def test_attestations_name_known_gate_criteria():
    attestation = {"criterion": "vibes_checked", "by": "existing", "on": day(1), "evidence": "Trust me."}

    assert errors_of(document_with(minimal_pilot(attestations=[attestation]))) == [
        "pilots[0].attestations[0].criterion: unknown gate criterion 'vibes_checked'"
    ]


def test_gate_criteria_come_from_the_context():
    attestation = {"criterion": "monitoring", "by": "existing", "on": day(1), "evidence": "Dashboards."}
    context = ValidationContext(usernames=frozenset({"existing"}), criterion_codes=frozenset())

    assert errors_of(document_with(minimal_pilot(attestations=[attestation])), context) == [
        "pilots[0].attestations[0].criterion: unknown gate criterion 'monitoring'"
    ]


@pytest.mark.parametrize(
    ("from_phase", "to_phase"), [("poc", "pilot"), ("pilot", "production"), ("production", "scaled")]
)
def test_a_gate_review_is_of_one_gate(from_phase: str, to_phase: str):
    review = {"on": day(1), "from": from_phase, "to": to_phase, "decision": "advance"}

    assert errors_of(document_with(minimal_pilot(gate_reviews=[review]))) == []


def test_a_gate_review_cannot_skip_a_gate():
    review = {"on": day(1), "from": "poc", "to": "production", "decision": "advance"}

    assert errors_of(document_with(minimal_pilot(gate_reviews=[review]))) == [
        "pilots[0].gate_reviews[0].to: must be 'pilot' after 'poc': a review is of one gate "
        "(poc→pilot, pilot→production or production→scaled)"
    ]


def test_a_gate_review_cannot_go_backwards():
    review = {"on": day(1), "from": "pilot", "to": "poc", "decision": "advance"}

    assert errors_of(document_with(minimal_pilot(gate_reviews=[review]))) == [
        "pilots[0].gate_reviews[0].to: must be 'production' after 'pilot': a review is of one gate "
        "(poc→pilot, pilot→production or production→scaled)"
    ]


def test_no_gate_leaves_scaled_adoption():
    review = {"on": day(1), "from": "scaled", "to": "scaled", "decision": "hold"}

    assert errors_of(document_with(minimal_pilot(gate_reviews=[review]))) == [
        "pilots[0].gate_reviews[0].from: no gate leaves 'scaled' (the gates are poc→pilot, pilot→production or "
        "production→scaled)"
    ]


@pytest.mark.parametrize("field", ["budget", "spent"])
def test_money_is_not_negative(field: str):
    assert errors_of(document_with(minimal_pilot(**{field: -0.01}))) == [f"pilots[0].{field}: must not be negative"]


def test_money_has_at_most_cents():
    assert errors_of(document_with(minimal_pilot(budget=10.125))) == [
        "pilots[0].budget: must have at most 2 decimal places"
    ]


def test_money_fits_its_column():
    assert errors_of(document_with(minimal_pilot(spent=10**12))) == [
        "pilots[0].spent: must be less than 1,000,000,000,000"
    ]


def test_zero_money_is_fine():
    document = validate_document(document_with(minimal_pilot(budget=0, spent=0.1)), CONTEXT)

    assert (document.pilots[0].budget, document.pilots[0].spent) == (Decimal("0.00"), Decimal("0.10"))
