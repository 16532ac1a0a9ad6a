"""Lessons of killed pilots: searched from the pilot list, and offered for a similar new problem."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from gates.lessons import significant_words, similar_killed_pilots
from portfolio import extensions, selectors
from portfolio.models import Pilot, Status
from tests.factories import GateReviewFactory, PilotFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]


def killed(name: str, problem: str, lessons: str = "", rationale: str = "") -> Pilot:
    pilot = PilotFactory(name=name, problem=problem, status=Status.KILLED)
    GateReviewFactory(pilot=pilot, decision="kill", rationale=rationale, lessons=lessons)
    return pilot


@pytest.fixture
def returns_bot() -> Pilot:
    return killed(
        "Returns chatbot",
        "Customers wait nine minutes on hold to arrange a return of their parcel.",
        lessons="Customers wanted a printable label, not a conversation.",
        rationale="Containment stalled at 11% against a 25% floor.",
    )


# Similar problems


def test_a_killed_pilot_with_a_similar_problem_is_offered_with_its_lessons(returns_bot):
    found = similar_killed_pilots("Customers are kept on hold when they want to return a parcel")
    assert [lesson.pilot_key for lesson in found] == [returns_bot.key]
    lesson = found[0]
    assert (lesson.lessons, lesson.rationale, lesson.decided_by) == (
        "Customers wanted a printable label, not a conversation.",
        "Containment stalled at 11% against a 25% floor.",
        returns_bot.sponsor.get_full_name(),
    )
    assert lesson.killed_on is not None


def test_the_closest_problem_comes_first_and_the_limit_holds(returns_bot):
    loosely = killed("Parcel tracking bot", "Customers ask where their parcel is.")
    killed("Invoice matching", "Invoices wait days for matching.")
    found = similar_killed_pilots("Customers wait on hold to arrange the return of a parcel", limit=2)
    assert [lesson.pilot_key for lesson in found] == [returns_bot.key, loosely.key]
    assert len(similar_killed_pilots("customers parcel", limit=1)) == 1


def test_pilots_that_were_not_killed_are_not_offered():
    PilotFactory(problem="Customers wait on hold to arrange a return.", status=Status.ACTIVE)
    assert similar_killed_pilots("Customers wait on hold to arrange a return.") == []


def test_a_problem_of_only_small_words_finds_nothing(returns_bot):
    assert similar_killed_pilots("it is on the") == []
    assert similar_killed_pilots("") == []


def test_significant_words_drop_stop_words_short_words_and_repeats():
    assert significant_words("The customers WAIT, wait on hold (2 hours) for a return!") == [
        "customers",
        "wait",
        "hold",
        "hours",
        "return",
    ]


def test_the_portfolio_reaches_the_lessons_through_its_extension_registry(returns_bot):
    assert extensions.similar_killed_pilots("on hold for a return", 5) == similar_killed_pilots("on hold for a return")


# The pilot list's search


def test_the_pilot_list_searches_the_lessons_of_kill_reviews(returns_bot):
    PilotFactory(name="Label printing", status=Status.ACTIVE)
    found = selectors.pilot_list(status=Status.KILLED, q="printable label")
    assert list(found) == [returns_bot]


def test_the_pilot_list_searches_the_rationale_of_kill_reviews_too(returns_bot):
    assert list(selectors.pilot_list(q="containment")) == [returns_bot]


def test_words_in_a_hold_review_are_not_lessons_of_a_killed_pilot():
    held = PilotFactory(status=Status.ON_HOLD)
    GateReviewFactory(pilot=held, decision="hold", rationale="Waiting for the printable label vendor.")
    assert list(selectors.pilot_list(q="printable")) == []


def test_a_pilot_with_two_kill_reviews_is_listed_once(returns_bot):
    GateReviewFactory(pilot=returns_bot, decision="kill", lessons="Another printable label lesson.")
    assert list(selectors.pilot_list(q="label")) == [returns_bot]


def test_killed_pilots_are_searchable_from_the_pilot_list_page(returns_bot, outsider):
    client = Client()
    client.force_login(outsider)
    response = client.get(reverse("pilot_list"), {"status": "killed", "q": "conversation"})
    assert response.status_code == 200
    assert "Returns chatbot" in response.content.decode()


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="full-text search needs PostgreSQL (DATABASE_URL)")
def test_on_postgresql_the_search_stems_words(returns_bot):
    assert list(selectors.pilot_list(q="labels")) == [returns_bot]
    assert [lesson.pilot_key for lesson in similar_killed_pilots("returning parcels")] == [returns_bot.key]
