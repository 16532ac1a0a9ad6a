"""Two people deciding the same gate at once on PostgreSQL: the second waits, is refused, nothing doubles."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from gates.models import GateReview, GateReviewItem
from gates.services import PilotMovedOn, gate_decide
from portfolio.models import Phase, Pilot

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
    # Real commits from two connections; the serialised rollback puts back the rows of
    # data migrations (groups, gate criteria) that the flush would drop.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_second_decision_waits_for_the_first_and_is_refused(ready_for_approval, sponsor, pmo):
    read_phase, read_version = ready_for_approval.phase, ready_for_approval.version
    outcome: dict[str, object] = {}
    started = threading.Event()

    def second_person() -> None:
        started.set()
        try:
            outcome["review"] = gate_decide(
                pilot=ready_for_approval,
                decision="hold",
                decided_by=pmo,
                read_phase=read_phase,
                read_version=read_version,
                next_review_on=None,
            )
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    with transaction.atomic():
        Pilot.objects.select_for_update().get(pk=ready_for_approval.pk)
        thread = threading.Thread(target=second_person)
        thread.start()
        started.wait()
        # The second decision is now blocked on the pilot's row lock held here.
        time.sleep(0.5)
        assert thread.is_alive()
        gate_decide(
            pilot=ready_for_approval,
            decision="advance",
            decided_by=sponsor,
            read_phase=read_phase,
            read_version=read_version,
        )
    thread.join(timeout=10)

    assert isinstance(outcome.get("error"), PilotMovedOn), outcome
    assert GateReview.objects.count() == 1
    review = GateReview.objects.get()
    assert (review.decision, review.decided_by_id) == ("advance", sponsor.pk)
    assert GateReviewItem.objects.filter(review=review).count() == 6
    pilot = Pilot.objects.get(pk=ready_for_approval.pk)
    assert (pilot.phase, pilot.version) == (Phase.PILOT, 2)
