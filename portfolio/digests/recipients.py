"""Who gets which weekly digest (DESIGN 6): pure rules over plain data, and the one selector that loads it.

Owner digest: every active user who owns or sponsors an active or on-hold pilot with an
open flag, unless they switched it off. Executive digest: every active member of
Executives, unless they switched it off. Nobody with nothing to act on gets an owner digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Exists, OuterRef, Q

from portfolio.models import DigestKind, Flag, Pilot, Status
from portfolio.roles import EXECUTIVES

# Killed pilots have no open flags; on-hold ones keep a few (no owner, review overdue)
# that someone still has to act on.
ACTIONABLE_STATUSES = frozenset({Status.ACTIVE.value, Status.ON_HOLD.value})


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    name: str
    email: str
    is_active: bool
    first_name: str = ""
    is_executive: bool = False
    # A user without a DigestPreference row gets every digest that applies.
    owner_digest: bool = True
    executive_digest: bool = True


@dataclass(frozen=True)
class PilotRoles:
    """Who answers for a pilot, and whether it has anything open to act on."""

    id: int
    status: str
    owner_id: int | None
    sponsor_id: int | None
    open_flags: int


@dataclass(frozen=True)
class Recipient:
    person: Person
    kind: str
    # The pilots an owner digest is about (owned or sponsored); empty for an executive digest.
    pilot_ids: tuple[int, ...] = ()


def is_actionable(pilot: PilotRoles) -> bool:
    return pilot.status in ACTIONABLE_STATUSES and pilot.open_flags > 0


def owner_recipients(people: Mapping[int, Person], pilots: Iterable[PilotRoles]) -> list[Recipient]:
    needing: dict[int, list[int]] = {}
    for pilot in pilots:
        if is_actionable(pilot):
            # A person who both owns and sponsors a pilot gets it once.
            for person_id in {pilot.owner_id, pilot.sponsor_id} - {None}:
                needing.setdefault(person_id, []).append(pilot.id)
    return [
        Recipient(person, DigestKind.OWNER, tuple(needing[person.id]))
        for person in people.values()
        if person.is_active and person.owner_digest and person.id in needing
    ]


def executive_recipients(people: Mapping[int, Person]) -> list[Recipient]:
    return [
        Recipient(person, DigestKind.EXECUTIVE)
        for person in people.values()
        if person.is_active and person.is_executive and person.executive_digest
    ]


def select_recipients(people: Mapping[int, Person], pilots: Iterable[PilotRoles]) -> list[Recipient]:
    """Every digest of the week: executives first, then owners, each by name."""
    by_name = sorted(people.values(), key=lambda person: (person.name.casefold(), person.username))
    ordered = {person.id: person for person in by_name}
    return executive_recipients(ordered) + owner_recipients(ordered, pilots)


def digest_recipients() -> list[Recipient]:
    """The recipients of this week's digests, from the database in two queries."""
    open_flags = Count("flags", filter=Q(flags__resolved_at__isnull=True))
    pilots = [
        PilotRoles(**row)
        for row in Pilot.objects.filter(status__in=ACTIONABLE_STATUSES)
        .filter(Exists(Flag.objects.filter(pilot=OuterRef("pk"), resolved_at__isnull=True)))
        .order_by("id")
        .values("id", "status", "owner_id", "sponsor_id")
        .annotate(open_flags=open_flags)
    ]
    answerable = {pilot.owner_id for pilot in pilots} | {pilot.sponsor_id for pilot in pilots}
    answerable.discard(None)
    membership = Group.objects.filter(name=EXECUTIVES, user=OuterRef("pk"))
    rows = (
        get_user_model()
        .objects.filter(Q(id__in=answerable) | Q(Exists(membership)))
        .annotate(is_executive=Exists(membership))
        .order_by("id")
        .values(
            "id",
            "username",
            "first_name",
            "last_name",
            "email",
            "is_active",
            "is_executive",
            "digest_preference__owner_digest",
            "digest_preference__executive_digest",
        )
    )
    people = {}
    for row in rows:
        name = f"{row['first_name']} {row['last_name']}".strip() or row["username"]
        owner_pref, executive_pref = row["digest_preference__owner_digest"], row["digest_preference__executive_digest"]
        people[row["id"]] = Person(
            id=row["id"],
            username=row["username"],
            name=name,
            first_name=row["first_name"],
            email=row["email"],
            is_active=row["is_active"],
            is_executive=row["is_executive"],
            owner_digest=owner_pref is not False,
            executive_digest=executive_pref is not False,
        )
    return select_recipients(people, pilots)
