"""Who gets which weekly digest: the pure rules, and the selector that loads them from the database."""

from __future__ import annotations

import pytest

from portfolio.digests.recipients import (
    Person,
    PilotRoles,
    digest_recipients,
    executive_recipients,
    owner_recipients,
)
from portfolio.models import DigestPreference, Status
from tests.factories import FlagFactory, PilotFactory, UserFactory


def person(id: int, **overrides: object) -> Person:
    values = {"username": f"user{id}", "name": f"User {id}", "email": f"user{id}@example.com", "is_active": True}
    return Person(id=id, **{**values, **overrides})


def flagged(id: int, *, owner: int | None = 1, sponsor: int | None = 2, status: str = "active", flags: int = 1):
    return PilotRoles(id=id, status=status, owner_id=owner, sponsor_id=sponsor, open_flags=flags)


# --- The rules, on plain data ---------------------------------------------------------


def test_an_owner_and_a_sponsor_of_a_flagged_pilot_both_get_an_owner_digest():
    people = {1: person(1), 2: person(2)}

    recipients = owner_recipients(people, [flagged(10)])

    assert [(r.person.id, r.pilot_ids) for r in recipients] == [(1, (10,)), (2, (10,))]


def test_nobody_with_nothing_to_act_on_gets_an_owner_digest():
    people = {1: person(1), 2: person(2), 3: person(3)}

    recipients = owner_recipients(people, [flagged(10, flags=0), flagged(11, owner=3, sponsor=None, flags=0)])

    assert recipients == []


def test_an_on_hold_pilot_with_a_flag_counts_and_a_killed_one_does_not():
    pilots = [flagged(10, status=Status.ON_HOLD), flagged(11, status=Status.KILLED)]

    assert [r.pilot_ids for r in owner_recipients({1: person(1)}, pilots)] == [(10,)]


def test_an_inactive_user_gets_no_digest():
    people = {1: person(1, is_active=False), 2: person(2, is_active=False, is_executive=True)}

    assert owner_recipients(people, [flagged(10)]) == []
    assert executive_recipients(people) == []


def test_a_user_who_switched_the_owner_digest_off_gets_none():
    people = {1: person(1, owner_digest=False), 2: person(2)}

    assert [r.person.id for r in owner_recipients(people, [flagged(10)])] == [2]


def test_every_active_executive_gets_the_executive_digest_unless_switched_off():
    people = {1: person(1, is_executive=True), 2: person(2, is_executive=True, executive_digest=False), 3: person(3)}

    assert [r.person.id for r in executive_recipients(people)] == [1]


def test_an_owner_digest_lists_every_flagged_pilot_the_person_owns_or_sponsors():
    pilots = [flagged(10, owner=1, sponsor=2), flagged(11, owner=3, sponsor=1), flagged(12, owner=3, sponsor=2)]

    assert [r.pilot_ids for r in owner_recipients({1: person(1)}, pilots)] == [(10, 11)]


def test_a_person_who_owns_and_sponsors_a_pilot_gets_it_once():
    assert [r.pilot_ids for r in owner_recipients({1: person(1)}, [flagged(10, owner=1, sponsor=1)])] == [(10,)]


# --- The selector -----------------------------------------------------------------------


@pytest.fixture
def flagged_pilot(pilot):
    FlagFactory(pilot=pilot, kind="stale")
    return pilot


def kinds_by_user(recipients) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for recipient in recipients:
        found.setdefault(recipient.person.username, set()).add(str(recipient.kind))
    return found


def test_it_selects_the_owner_the_sponsor_and_the_executives(flagged_pilot, owner, sponsor, executive, outsider):
    assert kinds_by_user(digest_recipients()) == {"olivia": {"owner"}, "sam": {"owner"}, "erin": {"executive"}}


def test_it_leaves_out_an_inactive_owner_but_keeps_the_sponsor(flagged_pilot, owner):
    owner.is_active = False
    owner.save()

    assert kinds_by_user(digest_recipients()) == {"sam": {"owner"}}


def test_it_leaves_out_the_people_of_a_killed_pilot(owner, sponsor):
    killed = PilotFactory(owner=owner, sponsor=sponsor, status=Status.KILLED)
    # A killed pilot has no open flags after a scan; one left behind must not send mail either.
    FlagFactory(pilot=killed, kind="stale")

    assert digest_recipients() == []


def test_it_keeps_an_on_hold_pilot_with_an_open_flag(owner, sponsor):
    on_hold = PilotFactory(owner=owner, sponsor=sponsor, status=Status.ON_HOLD)
    FlagFactory(pilot=on_hold, kind="review_overdue")

    assert kinds_by_user(digest_recipients()) == {"olivia": {"owner"}, "sam": {"owner"}}


def test_it_ignores_resolved_flags(pilot, frozen_today):
    from django.utils import timezone

    FlagFactory(pilot=pilot, kind="stale", resolved_at=timezone.now())

    assert digest_recipients() == []


def test_it_reads_the_preferences_and_defaults_to_on(flagged_pilot, owner, sponsor, executive):
    DigestPreference.objects.create(user=owner, owner_digest=False)
    DigestPreference.objects.create(user=executive, executive_digest=False)
    DigestPreference.objects.create(user=sponsor, executive_digest=False)

    assert kinds_by_user(digest_recipients()) == {"sam": {"owner"}}


def test_an_executive_who_sponsors_a_flagged_pilot_gets_both_digests(owner, executive):
    pilot = PilotFactory(owner=owner, sponsor=executive)
    FlagFactory(pilot=pilot, kind="sponsor_lapsed")

    assert kinds_by_user(digest_recipients())["erin"] == {"owner", "executive"}


def test_it_runs_in_two_queries_however_many_pilots(django_assert_num_queries, owner, sponsor):
    for _ in range(5):
        FlagFactory(pilot=PilotFactory(owner=UserFactory(), sponsor=sponsor))
    UserFactory(roles=["executive"])

    with django_assert_num_queries(2):
        recipients = digest_recipients()

    assert len(recipients) == 7
