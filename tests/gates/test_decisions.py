"""What each gate decision needs, and the words that say what is missing (no database)."""

from __future__ import annotations

import datetime as dt

from gates.decisions import OVERRIDE_MIN_LENGTH, decision_problems

TODAY = dt.date(2026, 11, 16)
UNMET = ["Monitoring and alerting in place", "Governance and compliance reviewed"]


def problems(decision: str, unmet: list[str] | None = None, **fields: object) -> dict[str, str]:
    return decision_problems(decision=decision, unmet=unmet or [], today=TODAY, **fields)


# Advance


def test_an_advance_with_every_criterion_met_needs_nothing_more():
    assert problems("advance") == {}


def test_an_advance_with_unmet_criteria_asks_for_an_override_and_names_them():
    assert problems("advance", UNMET) == {
        "override_justification": "2 criteria are not met (“Monitoring and alerting in place” and "
        "“Governance and compliance reviewed”): to advance anyway, write an override justification "
        "of at least 30 characters."
    }


def test_an_override_of_29_characters_is_too_short_and_says_how_long_it_is():
    found = problems("advance", UNMET[:1], override_justification="x" * (OVERRIDE_MIN_LENGTH - 1))
    assert found == {
        "override_justification": "1 criterion is not met (“Monitoring and alerting in place”): the override "
        "justification needs at least 30 characters (it has 29)."
    }


def test_an_override_of_30_characters_is_enough():
    assert problems("advance", UNMET, override_justification="x" * OVERRIDE_MIN_LENGTH) == {}


def test_spaces_around_an_override_do_not_count():
    padded = "   " + "x" * (OVERRIDE_MIN_LENGTH - 1) + "   "
    assert "override_justification" in problems("advance", UNMET, override_justification=padded)


def test_an_advance_may_set_a_next_review_after_today_but_not_before():
    assert problems("advance", next_review_on=TODAY + dt.timedelta(days=1)) == {}
    assert problems("advance", next_review_on=TODAY) == {
        "next_review_on": "The next review must be after today (16 Nov 2026), or left empty."
    }


# Hold


def test_a_hold_needs_a_next_review_date():
    assert problems("hold") == {"next_review_on": "A hold needs the date of the next review."}


def test_a_hold_with_a_review_today_is_refused():
    assert problems("hold", next_review_on=TODAY) == {
        "next_review_on": "The next review must be after today (16 Nov 2026)."
    }


def test_a_hold_with_a_review_tomorrow_is_accepted_even_with_unmet_criteria():
    assert problems("hold", UNMET, next_review_on=TODAY + dt.timedelta(days=1)) == {}


# Kill


def test_a_kill_needs_a_rationale_and_what_was_learned():
    assert problems("kill", UNMET) == {
        "rationale": "A kill needs a rationale: why is the pilot stopped?",
        "lessons": "A kill needs what was learned, so the next pilot with this problem can use it.",
    }


def test_a_kill_with_blank_lessons_still_needs_them():
    assert set(problems("kill", rationale="Containment stalled.", lessons="  \n")) == {"lessons"}


def test_a_kill_with_rationale_and_lessons_is_accepted_whatever_the_criteria():
    assert problems("kill", UNMET, rationale="Containment stalled.", lessons="Customers wanted a form.") == {}


# No decision


def test_an_unknown_decision_asks_to_choose_one():
    assert problems("pause") == {"decision": "Choose a decision: advance, hold or kill."}
