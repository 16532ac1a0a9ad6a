"""A recorded decision cannot be rewritten: the model refuses, and the database refuses behind it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from gates.models import GateCriterion, GateReview, GateReviewItem, SnapshotIsImmutable
from tests.factories import GateReviewFactory, GateReviewItemFactory, PilotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def item() -> GateReviewItem:
    return GateReviewItemFactory(review=GateReviewFactory(pilot=PilotFactory()))


def raw_update(sql: str, params: list[object]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


# The model layer


def test_a_saved_snapshot_item_cannot_be_saved_again(item):
    item.met = False
    with pytest.raises(SnapshotIsImmutable):
        item.save()
    assert GateReviewItem.objects.get(pk=item.pk).met is True


def test_snapshot_items_cannot_be_updated_or_deleted_in_bulk(item):
    with pytest.raises(SnapshotIsImmutable):
        GateReviewItem.objects.filter(pk=item.pk).update(label="Reworded")
    with pytest.raises(SnapshotIsImmutable):
        GateReviewItem.objects.filter(pk=item.pk).delete()
    with pytest.raises(SnapshotIsImmutable):
        GateReviewItem.objects.bulk_update([item], ["label"])


def test_a_snapshot_item_cannot_be_deleted_on_its_own(item):
    with pytest.raises(SnapshotIsImmutable):
        item.delete()
    assert GateReviewItem.objects.filter(pk=item.pk).exists()


def test_deleting_the_review_takes_its_snapshot_along(item):
    item.review.delete()
    assert not GateReviewItem.objects.exists()


def test_deleting_the_pilot_takes_its_reviews_and_snapshots_along(item):
    item.review.pilot.delete()
    assert not GateReview.objects.exists()
    assert not GateReviewItem.objects.exists()


# The database, for writers that bypass the models


@pytest.mark.parametrize(
    ("column", "value"), [("label", "Reworded"), ("met", False), ("reason", "Changed"), ("code", "other")]
)
def test_the_database_refuses_to_change_a_snapshot_item(item, column, value):
    with pytest.raises(IntegrityError, match="cannot be rewritten"):
        raw_update(f"UPDATE gates_gatereviewitem SET {column} = %s WHERE id = %s", [value, item.pk])


def test_the_database_lets_a_deleted_criterion_drop_out_of_the_snapshot(item):
    criterion = GateCriterion.objects.create(gate="poc", code="gone", label="Gone", kind="attested")
    raw_update("UPDATE gates_gatereviewitem SET criterion_id = %s WHERE id = %s", [criterion.pk, item.pk])
    criterion.delete()
    item.refresh_from_db()
    assert (item.criterion, item.label) == (None, "Business owner assigned")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("decision", "kill"),
        ("decided_on", "2020-01-01"),
        ("override_justification", "Because."),
        ("to_phase", "production"),
    ],
)
def test_the_database_refuses_to_change_what_was_decided(item, column, value):
    with pytest.raises(IntegrityError, match="cannot be rewritten"):
        raw_update(f"UPDATE gates_gatereview SET {column} = %s WHERE id = %s", [value, item.review.pk])


def test_the_wording_of_a_review_may_be_corrected(item):
    review = item.review
    review.rationale, review.lessons = "Corrected rationale.", "Corrected lessons."
    review.save()
    review.refresh_from_db()
    assert (review.rationale, review.lessons, review.decision) == (
        "Corrected rationale.",
        "Corrected lessons.",
        "advance",
    )


def test_a_user_who_decided_may_still_be_deleted(item):
    decided_by = item.review.decided_by
    item.review.pilot.sponsor = None
    item.review.pilot.save()
    decided_by.delete()
    item.review.refresh_from_db()
    assert item.review.decided_by is None
