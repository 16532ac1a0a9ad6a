"""Import of an exchange document: validate all of it, then write all of it in one transaction.

A pilot whose key exists is updated so that it matches the document: its KPIs and
kill criteria are matched by key and the ones the document leaves out are removed;
readings are upserted by (KPI, date); check-ins, attestations and gate reviews
become the document's. People are created or updated by username and people the
document does not mention are left alone; pilots likewise.

Rows are written in bulk (with their history rows) so that a year of weekly
readings for every KPI of a large portfolio imports in seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from portfolio.exchange.validate import (
    Document,
    ImportRejected,
    PersonData,
    PilotData,
    ValidationContext,
    validate_document,
)
from portfolio.models import BusinessUnit, CheckIn, KillCriterion, Kpi, KpiReading, Pilot, Source
from portfolio.roles import ROLE_GROUPS

__all__ = ["ImportRejected", "ImportSummary", "database_context", "import_document"]

CHANGE_REASON = "Imported from a portfolio file"
PILOT_FIELDS = (
    "name",
    "business_unit_id",
    "problem",
    "outcome",
    "owner_id",
    "sponsor_id",
    "phase",
    "status",
    "started_on",
    "phase_entered_on",
    "next_review_on",
    "budget",
    "spent",
)
KPI_FIELDS = ("name", "unit", "direction", "baseline", "baseline_on", "target", "target_on")
KILL_CRITERION_FIELDS = ("description", "kpi_id", "comparator", "threshold", "evaluate_on")
# Rows without a key of their own are the same row when these fields are equal.
CHECKIN_IDENTITY = ("pilot_id", "on", "sponsor_id", "confidence", "note")
ATTESTATION_IDENTITY = ("pilot_id", "criterion_id", "attested_by_id", "attested_on", "evidence")
GATE_REVIEW_IDENTITY = (
    "pilot_id",
    "decided_on",
    "from_phase",
    "to_phase",
    "decision",
    "decided_by_id",
    "rationale",
    "override_justification",
)


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote, counted from the document."""

    pilots_created: int = 0
    pilots_updated: int = 0
    kpis: int = 0
    readings: int = 0
    people: int = 0
    people_created: int = 0

    @property
    def pilots(self) -> int:
        return self.pilots_created + self.pilots_updated

    def __str__(self) -> str:
        return (
            f"Imported {_plural(self.pilots, 'pilot')} ({self.pilots_created:,} new, {self.pilots_updated:,} updated), "
            f"{_plural(self.kpis, 'KPI')}, {_plural(self.readings, 'reading')}, "
            f"{_plural(self.people, 'person', 'people')}."
        )


def database_context() -> ValidationContext:
    """The usernames and gate criterion codes that already exist."""
    # Looked up by name: `gates` builds on `portfolio`, so portfolio never imports it.
    criterion_model = apps.get_model("gates", "GateCriterion")
    return ValidationContext(
        usernames=frozenset(get_user_model().objects.values_list("username", flat=True)),
        criterion_codes=frozenset(criterion_model.objects.values_list("code", flat=True)),
    )


def import_document(document: dict, *, source: str = "import") -> ImportSummary:
    """Validate the whole document, then write all of it in one transaction, or nothing.

    Raises ImportRejected (with every error and its JSON path) before any write.
    ``source`` is recorded on the readings it creates or changes.
    """
    if source not in Source.values:
        raise ValueError(f"source must be one of {', '.join(Source.values)}, not {source!r}")
    with transaction.atomic():
        # The context is read inside the transaction so that the users and
        # criteria the document was checked against are the ones it is written against.
        data = validate_document(document, database_context())
        return _Writer(source).write(data)


class _Writer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.now = timezone.now()
        self.users: dict[str, Any] = {}

    def write(self, data: Document) -> ImportSummary:
        people_created = self.people(data.people)
        self.users = self.referenced_users(data)
        units = self.business_units(pilot.business_unit for pilot in data.pilots)
        pilots, created = self.pilots(data.pilots, units)
        existing_ids = [pilots[pilot.key].pk for pilot in data.pilots if pilot.key not in created]
        kpis, kpis_left_out = self.kpis(data.pilots, pilots, existing_ids)
        self.kill_criteria(data.pilots, pilots, kpis, existing_ids)
        # Only now: deleting a KPI cascades to the kill criteria that pointed at it,
        # and those that stay have just been moved off it. Deleted one by one
        # through the ORM so that history rows and flags go with them.
        Kpi.objects.filter(pk__in=kpis_left_out).delete()
        self.readings(data.pilots, pilots, kpis, existing_ids)
        self.checkins(data.pilots, pilots, existing_ids)
        self.attestations(data.pilots, pilots, existing_ids)
        self.gate_reviews(data.pilots, pilots, existing_ids)
        return ImportSummary(
            pilots_created=len(created),
            pilots_updated=len(data.pilots) - len(created),
            kpis=sum(len(pilot.kpis) for pilot in data.pilots),
            readings=sum(len(kpi.readings) for pilot in data.pilots for kpi in pilot.kpis),
            people=len(data.people),
            people_created=people_created,
        )

    # -- people --------------------------------------------------------------------------------------

    def people(self, people: list[PersonData]) -> int:
        user_model = get_user_model()
        existing = {
            user.username: user for user in user_model.objects.filter(username__in=[p.username for p in people])
        }
        created = 0
        for person in people:
            user = existing.get(person.username)
            if user is None:
                user = user_model(
                    username=person.username, email=person.email or "", is_active=person.active is not False
                )
                user.first_name, user.last_name = _split_name(person.name or "")
                # Imported people sign in only once someone sets them a password.
                user.set_unusable_password()
                user.save()
                existing[person.username] = user
                created += 1
                continue
            changes: dict[str, Any] = {}
            if person.email is not None:
                changes["email"] = person.email
            if person.name is not None:
                changes["first_name"], changes["last_name"] = _split_name(person.name)
            if person.active is not None:
                changes["is_active"] = person.active
            changed = [name for name, value in changes.items() if getattr(user, name) != value]
            if changed:
                for name in changed:
                    setattr(user, name, changes[name])
                user.save(update_fields=changed)
        self.roles(people, existing)
        return created

    def roles(self, people: list[PersonData], users: dict[str, Any]) -> None:
        """Make each listed person's role groups exactly their roles; other groups are not touched."""
        with_roles = [person for person in people if person.roles is not None]
        if not with_roles:
            return
        groups = {role: Group.objects.get_or_create(name=name)[0] for role, name in ROLE_GROUPS.items()}
        membership = get_user_model().groups.through
        user_ids = [users[person.username].pk for person in with_roles]
        current = set(
            membership.objects.filter(
                user_id__in=user_ids, group_id__in=[group.pk for group in groups.values()]
            ).values_list("user_id", "group_id")
        )
        wanted = {(users[person.username].pk, groups[role].pk) for person in with_roles for role in person.roles}
        membership.objects.bulk_create([membership(user_id=user, group_id=group) for user, group in wanted - current])
        for user, group in current - wanted:
            membership.objects.filter(user_id=user, group_id=group).delete()

    def referenced_users(self, data: Document) -> dict[str, Any]:
        usernames: set[str | None] = set()
        for pilot in data.pilots:
            usernames.update((pilot.owner, pilot.sponsor))
            usernames.update(checkin.sponsor for checkin in pilot.checkins)
            usernames.update(attestation.by for attestation in pilot.attestations)
            usernames.update(review.by for review in pilot.gate_reviews)
        usernames.discard(None)
        return {user.username: user for user in get_user_model().objects.filter(username__in=usernames)}

    def user_id(self, username: str | None) -> int | None:
        return self.users[username].pk if username is not None else None

    # -- pilots --------------------------------------------------------------------------------------

    def business_units(self, names: Iterable[str]) -> dict[str, BusinessUnit]:
        names = set(names)
        units = {unit.name: unit for unit in BusinessUnit.objects.filter(name__in=names)}
        missing = [BusinessUnit(name=name) for name in sorted(names - units.keys())]
        BusinessUnit.objects.bulk_create(missing)
        units.update({unit.name: unit for unit in BusinessUnit.objects.filter(name__in=[u.name for u in missing])})
        return units

    def pilots(self, data: list[PilotData], units: dict[str, BusinessUnit]) -> tuple[dict[str, Pilot], set[str]]:
        # Locked so that an edit form saving meanwhile waits for the import (and then
        # sees a new version) instead of being overwritten or overwriting it.
        existing = {
            pilot.key: pilot for pilot in Pilot.objects.select_for_update().filter(key__in=[p.key for p in data])
        }
        new: list[Pilot] = []
        changed: list[Pilot] = []
        for pilot_data in data:
            values = {
                "name": pilot_data.name,
                "business_unit_id": units[pilot_data.business_unit].pk,
                "problem": pilot_data.problem,
                "outcome": pilot_data.outcome,
                "owner_id": self.user_id(pilot_data.owner),
                "sponsor_id": self.user_id(pilot_data.sponsor),
                "phase": pilot_data.phase,
                "status": pilot_data.status,
                "started_on": pilot_data.started_on,
                "phase_entered_on": pilot_data.phase_entered_on,
                "next_review_on": pilot_data.next_review_on,
                "budget": pilot_data.budget,
                "spent": pilot_data.spent,
            }
            pilot = existing.get(pilot_data.key)
            if pilot is None:
                new.append(Pilot(key=pilot_data.key, **values))
            elif _assign(pilot, values):
                pilot.version += 1
                pilot.updated_at = self.now
                changed.append(pilot)
        created = {pilot.key for pilot in new}
        self.bulk_create(Pilot, new)
        self.bulk_update(Pilot, changed, [*PILOT_FIELDS, "version", "updated_at"])
        pilots = {**existing, **{pilot.key: pilot for pilot in Pilot.objects.filter(key__in=created)}}
        return pilots, created

    def kpis(
        self, data: list[PilotData], pilots: dict[str, Pilot], existing_ids: list[int]
    ) -> tuple[dict[tuple[int, str], Kpi], list[int]]:
        """Create and update the KPIs; the KPIs by (pilot id, key), and the ids of those left out."""
        existing = {(kpi.pilot_id, kpi.key): kpi for kpi in Kpi.objects.filter(pilot_id__in=existing_ids)}
        new: list[Kpi] = []
        changed: list[Kpi] = []
        wanted: set[tuple[int, str]] = set()
        for pilot_data in data:
            pilot_id = pilots[pilot_data.key].pk
            for kpi_data in pilot_data.kpis:
                wanted.add((pilot_id, kpi_data.key))
                values = {name: getattr(kpi_data, name) for name in KPI_FIELDS}
                kpi = existing.get((pilot_id, kpi_data.key))
                if kpi is None:
                    new.append(Kpi(pilot_id=pilot_id, key=kpi_data.key, **values))
                elif _assign(kpi, values):
                    changed.append(kpi)
        self.bulk_update(Kpi, changed, list(KPI_FIELDS))
        self.bulk_create(Kpi, new)
        left_out = [kpi.pk for index, kpi in existing.items() if index not in wanted]
        kpis = {index: kpi for index, kpi in existing.items() if index in wanted}
        new_pilot_ids = {kpi.pilot_id for kpi in new}
        new_keys = {(kpi.pilot_id, kpi.key) for kpi in new}
        for kpi in Kpi.objects.filter(pilot_id__in=new_pilot_ids):
            if (kpi.pilot_id, kpi.key) in new_keys:
                kpis[(kpi.pilot_id, kpi.key)] = kpi
        return kpis, left_out

    def kill_criteria(
        self,
        data: list[PilotData],
        pilots: dict[str, Pilot],
        kpis: dict[tuple[int, str], Kpi],
        existing_ids: list[int],
    ) -> None:
        existing = {
            (criterion.pilot_id, criterion.key): criterion
            for criterion in KillCriterion.objects.filter(pilot_id__in=existing_ids)
        }
        new: list[KillCriterion] = []
        changed: list[KillCriterion] = []
        wanted: set[tuple[int, str]] = set()
        for pilot_data in data:
            pilot_id = pilots[pilot_data.key].pk
            for criterion_data in pilot_data.kill_criteria:
                wanted.add((pilot_id, criterion_data.key))
                values = {
                    "description": criterion_data.description,
                    "kpi_id": kpis[(pilot_id, criterion_data.kpi)].pk if criterion_data.kpi else None,
                    "comparator": criterion_data.comparator,
                    "threshold": criterion_data.threshold,
                    "evaluate_on": criterion_data.evaluate_on,
                }
                criterion = existing.get((pilot_id, criterion_data.key))
                if criterion is None:
                    new.append(KillCriterion(pilot_id=pilot_id, key=criterion_data.key, **values))
                elif _assign(criterion, values):
                    changed.append(criterion)
        self.bulk_update(KillCriterion, changed, list(KILL_CRITERION_FIELDS))
        self.bulk_create(KillCriterion, new)
        KillCriterion.objects.filter(pk__in=[c.pk for index, c in existing.items() if index not in wanted]).delete()

    def readings(
        self,
        data: list[PilotData],
        pilots: dict[str, Pilot],
        kpis: dict[tuple[int, str], Kpi],
        existing_ids: list[int],
    ) -> None:
        """Upsert readings by (KPI, date); the ones the document leaves out are removed."""
        existing: dict[tuple[int, Any], KpiReading] = {
            (reading.kpi_id, reading.measured_on): reading
            for reading in KpiReading.objects.filter(kpi__pilot_id__in=existing_ids).only(
                "id", "kpi_id", "measured_on", "value", "note", "source", "recorded_at", "recorded_by_id"
            )
        }
        new: list[KpiReading] = []
        changed: list[KpiReading] = []
        wanted: set[tuple[int, Any]] = set()
        for pilot_data in data:
            pilot_id = pilots[pilot_data.key].pk
            for kpi_data in pilot_data.kpis:
                kpi_id = kpis[(pilot_id, kpi_data.key)].pk
                for reading_data in kpi_data.readings:
                    index = (kpi_id, reading_data.on)
                    wanted.add(index)
                    reading = existing.get(index)
                    if reading is None:
                        new.append(
                            KpiReading(
                                kpi_id=kpi_id,
                                measured_on=reading_data.on,
                                value=reading_data.value,
                                note=reading_data.note,
                                source=self.source,
                                recorded_at=self.now,
                            )
                        )
                    # An unchanged reading keeps its source: a re-imported export must
                    # not turn readings from systems (api) into self-reported ones.
                    elif _assign(reading, {"value": reading_data.value, "note": reading_data.note}):
                        reading.source = self.source
                        reading.recorded_at = self.now
                        reading.recorded_by_id = None
                        changed.append(reading)
        self.bulk_update(KpiReading, changed, ["value", "note", "source", "recorded_at", "recorded_by_id"])
        self.bulk_create(KpiReading, new)
        removed = [reading.pk for index, reading in existing.items() if index not in wanted]
        if removed:
            KpiReading.objects.filter(pk__in=removed).delete()

    # -- check-ins, attestations, gate reviews -------------------------------------------------------

    def checkins(self, data: list[PilotData], pilots: dict[str, Pilot], existing_ids: list[int]) -> None:
        wanted = [
            CheckIn(
                pilot_id=pilots[pilot_data.key].pk,
                on=checkin.on,
                sponsor_id=self.user_id(checkin.sponsor),
                confidence=checkin.confidence,
                note=checkin.note,
            )
            for pilot_data in data
            for checkin in pilot_data.checkins
        ]
        _replace(CheckIn, existing_ids, wanted, CHECKIN_IDENTITY)

    def attestations(self, data: list[PilotData], pilots: dict[str, Pilot], existing_ids: list[int]) -> None:
        attestation_model = apps.get_model("gates", "Attestation")
        criterion_model = apps.get_model("gates", "GateCriterion")
        codes = {attestation.criterion for pilot_data in data for attestation in pilot_data.attestations}
        criteria = dict(criterion_model.objects.filter(code__in=codes).values_list("code", "pk"))
        wanted = [
            attestation_model(
                pilot_id=pilots[pilot_data.key].pk,
                criterion_id=criteria[attestation.criterion],
                attested_by_id=self.user_id(attestation.by),
                attested_on=attestation.on,
                evidence=attestation.evidence,
            )
            for pilot_data in data
            for attestation in pilot_data.attestations
        ]
        _replace(attestation_model, existing_ids, wanted, ATTESTATION_IDENTITY)

    def gate_reviews(self, data: list[PilotData], pilots: dict[str, Pilot], existing_ids: list[int]) -> None:
        review_model = apps.get_model("gates", "GateReview")
        # An imported review has no snapshot items: the format does not carry the
        # criteria's state at decision time, and inventing one would be a lie. A
        # review that is already here unchanged keeps its snapshot; its lessons and
        # next review date are updated in place when the file gives them.
        wanted = []
        given = {}
        for pilot_data in data:
            for review in pilot_data.gate_reviews:
                row = review_model(
                    pilot_id=pilots[pilot_data.key].pk,
                    from_phase=review.from_phase,
                    to_phase=review.to_phase,
                    decision=review.decision,
                    decided_by_id=self.user_id(review.by),
                    decided_on=review.on,
                    rationale=review.rationale,
                    override_justification=review.override or "",
                    lessons=review.lessons or "",
                    next_review_on=review.next_review_on,
                )
                wanted.append(row)
                given[id(row)] = review.given
        kept = _replace(review_model, existing_ids, wanted, GATE_REVIEW_IDENTITY)
        changed = []
        for current, row in kept:
            fields = given[id(row)]
            values = {name: getattr(row, name) for name in ("lessons", "next_review_on") if name in fields}
            if _assign(current, values):
                changed.append(current)
        if changed:
            review_model.objects.bulk_update(changed, ["lessons", "next_review_on"], batch_size=1000)

    # -- bulk writes with history --------------------------------------------------------------------

    # One moment for every history record of the import: a pilot imported past its first
    # gate was approved with the goalposts the same file brings, not before them.
    def bulk_create(self, model: type, objects: list) -> None:
        if objects:
            bulk_create_with_history(
                objects, model, batch_size=1000, default_change_reason=CHANGE_REASON, default_date=self.now
            )

    def bulk_update(self, model: type, objects: list, fields: list[str]) -> None:
        if objects:
            bulk_update_with_history(
                objects, model, fields, batch_size=1000, default_change_reason=CHANGE_REASON, default_date=self.now
            )


def _split_name(name: str) -> tuple[str, str]:
    """First name up to the first space, last name the rest: exported back as the same "name"."""
    first, _, last = name.partition(" ")
    return first, last


def _assign(instance: Any, values: dict[str, Any]) -> bool:
    """Set the values that differ; True if any did."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _replace(
    model: type, pilot_ids: list[int], wanted: list, identity_fields: tuple[str, ...]
) -> list[tuple[Any, Any]]:
    """Make the pilots' rows of ``model`` equal ``wanted``, keeping the rows that are already identical.

    Rows are compared by their ``identity_fields`` as a multiset: unmatched current
    rows are deleted and unmatched wanted ones created, in the document's order.
    Returns the kept rows, each with the wanted row it matched.
    """
    identity = attrgetter(*identity_fields)
    available: dict[Hashable, list] = defaultdict(list)
    for row in model.objects.filter(pilot_id__in=pilot_ids):
        available[identity(row)].append(row)
    to_create = []
    kept = []
    for row in wanted:
        matches = available.get(identity(row))
        if matches:
            kept.append((matches.pop(0), row))
        else:
            to_create.append(row)
    stale = [row.pk for rows in available.values() for row in rows]
    if stale:
        model.objects.filter(pk__in=stale).delete()
    model.objects.bulk_create(to_create, batch_size=1000)
    return kept
