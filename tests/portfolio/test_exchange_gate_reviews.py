"""Gate reviews in the exchange format: their optional lessons and next review date round-trip."""

from __future__ import annotations

from typing import Any

import pytest

from gates.models import GateReview
from portfolio.exchange import export_document, import_document
from portfolio.exchange.validate import ValidationContext, document_errors
from tests.factories import GateReviewItemFactory
from tests.portfolio.exchange_samples import CRITERION_CODES, day, sample_document

pytestmark = pytest.mark.django_db

LESSONS = "Customers wanted a label, not a conversation."


def triage_reviews(document: dict[str, Any]) -> list[dict[str, Any]]:
    return next(p for p in document["pilots"] if p["key"] == "ticket-triage")["gate_reviews"]


def with_lessons_and_review_date() -> dict[str, Any]:
    document = sample_document()
    hold = triage_reviews(document)[2]
    hold["next_review_on"] = day(-10)
    hold["lessons"] = LESSONS
    return document


def context() -> ValidationContext:
    people = {person["username"] for person in sample_document()["people"]}
    return ValidationContext(usernames=frozenset(people), criterion_codes=CRITERION_CODES)


def test_lessons_and_the_next_review_date_are_optional_fields_of_a_gate_review():
    assert document_errors(sample_document(), context()) == []
    assert document_errors(with_lessons_and_review_date(), context()) == []


def test_they_are_checked_with_their_json_path():
    document = sample_document()
    triage_reviews(document)[2].update(lessons=42, next_review_on="next week")
    errors = document_errors(document, context())
    assert errors == [
        "pilots[2].gate_reviews[2].lessons: must be a string",
        "pilots[2].gate_reviews[2].next_review_on: must be a date YYYY-MM-DD or null",
    ]


def test_lessons_and_the_next_review_date_survive_an_import_and_export():
    document = with_lessons_and_review_date()
    import_document(document)

    hold = GateReview.objects.get(pilot__key="ticket-triage", decision="hold")
    assert (hold.lessons, hold.next_review_on.isoformat()) == (LESSONS, day(-10))
    assert export_document() == document


def test_an_export_writes_them_after_the_documented_fields_and_only_when_they_carry_something():
    import_document(with_lessons_and_review_date())
    reviews = triage_reviews(export_document())
    assert tuple(reviews[2]) == (
        "on",
        "from",
        "to",
        "decision",
        "by",
        "rationale",
        "override",
        "lessons",
        "next_review_on",
    )
    assert tuple(reviews[0]) == ("on", "from", "to", "decision", "by", "rationale", "override")


def test_a_file_without_them_leaves_a_reviews_lessons_and_snapshot_alone():
    import_document(with_lessons_and_review_date())
    hold = GateReview.objects.get(pilot__key="ticket-triage", decision="hold")
    GateReviewItemFactory(review=hold)

    import_document(sample_document())

    kept = GateReview.objects.get(pilot__key="ticket-triage", decision="hold")
    assert (kept.pk, kept.lessons, kept.items.count()) == (hold.pk, LESSONS, 1)


def test_a_file_with_new_lessons_updates_them_in_place_keeping_the_snapshot():
    import_document(sample_document())
    hold = GateReview.objects.get(pilot__key="ticket-triage", decision="hold")
    GateReviewItemFactory(review=hold)

    import_document(with_lessons_and_review_date())

    updated = GateReview.objects.get(pilot__key="ticket-triage", decision="hold")
    assert (updated.pk, updated.lessons, updated.next_review_on.isoformat(), updated.items.count()) == (
        hold.pk,
        LESSONS,
        day(-10),
        1,
    )
