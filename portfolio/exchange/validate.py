"""Validation of a whole exchange document (DESIGN section 7), with no database access.

The validator walks the document once and collects every error as
``"<json path>: <message>"`` instead of stopping at the first, so a person fixing
a file sees all of it at once. What it needs to know about the database (which
usernames and gate criterion codes exist) comes in as a ``ValidationContext``;
the result is a typed, normalised ``Document`` that the loader writes as is.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from portfolio.models import Comparator, Confidence, Direction, Phase, Status, next_phase
from portfolio.roles import ROLE_GROUPS

FORMAT = "pilot-portfolio/v1"

# Field names of each object, in the documented order (the exporter writes them so).
ROOT_FIELDS = ("format", "people", "pilots")
PERSON_FIELDS = ("username", "email", "name", "active", "roles")
PILOT_FIELDS = (
    "key",
    "name",
    "business_unit",
    "problem",
    "outcome",
    "owner",
    "sponsor",
    "phase",
    "status",
    "started_on",
    "phase_entered_on",
    "next_review_on",
    "budget",
    "spent",
    "kpis",
    "kill_criteria",
    "checkins",
    "attestations",
    "gate_reviews",
)
KPI_FIELDS = ("key", "name", "unit", "direction", "baseline", "baseline_on", "target", "target_on", "readings")
READING_FIELDS = ("on", "value", "note")
KILL_CRITERION_FIELDS = ("key", "description", "kpi", "comparator", "threshold", "evaluate_on")
CHECKIN_FIELDS = ("on", "sponsor", "confidence", "note")
ATTESTATION_FIELDS = ("criterion", "by", "on", "evidence")
GATE_REVIEW_FIELDS = ("on", "from", "to", "decision", "by", "rationale", "override")
# Added later, so older files stay valid: left out of a file, they are left alone by an import
# (a new review gets none); an export writes them when they carry something.
GATE_REVIEW_OPTIONAL_FIELDS = ("lessons", "next_review_on")

# Mirrors of the model field sizes, checked here so that PostgreSQL never has to
# refuse a value half-way through an import.
KEY_MAX_LENGTH = 64
USERNAME_MAX_LENGTH = 150
NAME_PART_MAX_LENGTH = 150
PILOT_NAME_MAX_LENGTH = 200
KPI_NAME_MAX_LENGTH = 200
UNIT_MAX_LENGTH = 40
BUSINESS_UNIT_MAX_LENGTH = 120
EMAIL_MAX_LENGTH = 254
# DecimalField(max_digits=14, decimal_places=2).
MONEY_LIMIT = Decimal(10) ** 12

DECISIONS = ("advance", "hold", "kill")  # gates.models.Decision; gates depends on portfolio, not the reverse
GATES_TEXT = "poc→pilot, pilot→production or production→scaled"

_DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SLUG_PATTERN = re.compile(r"[-a-zA-Z0-9_]+")
# Django's UnicodeUsernameValidator.
_USERNAME_PATTERN = re.compile(r"[\w.@+-]+")


class ImportRejected(Exception):
    """The document has errors; nothing was written."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        super().__init__(f"Import rejected: {count} error{'' if count == 1 else 's'}; nothing was written.")


@dataclass(frozen=True)
class ValidationContext:
    """What already exists in the database, as far as the validator needs to know."""

    usernames: frozenset[str] = frozenset()
    criterion_codes: frozenset[str] = frozenset()


@dataclass
class PersonData:
    username: str
    # None means "not given": a new user gets the default, an existing one keeps its value.
    email: str | None
    name: str | None
    active: bool | None
    roles: list[str] | None


@dataclass
class ReadingData:
    on: dt.date
    value: float
    note: str


@dataclass
class KpiData:
    key: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    baseline_on: dt.date | None
    target: float
    target_on: dt.date | None
    readings: list[ReadingData] = field(default_factory=list)


@dataclass
class KillCriterionData:
    key: str
    description: str
    kpi: str | None
    comparator: str | None
    threshold: float | None
    evaluate_on: dt.date | None


@dataclass
class CheckInData:
    on: dt.date
    sponsor: str
    confidence: str
    note: str


@dataclass
class AttestationData:
    criterion: str
    by: str
    on: dt.date
    evidence: str


@dataclass
class GateReviewData:
    on: dt.date
    from_phase: str
    to_phase: str
    decision: str
    by: str | None
    rationale: str
    override: str | None
    lessons: str | None = None  # None: not in the file
    next_review_on: dt.date | None = None
    # Which of GATE_REVIEW_OPTIONAL_FIELDS the file gives (a null next_review_on is given).
    given: frozenset[str] = frozenset()


@dataclass
class PilotData:
    key: str
    name: str
    business_unit: str
    problem: str
    outcome: str
    owner: str | None
    sponsor: str | None
    phase: str
    status: str
    started_on: dt.date
    phase_entered_on: dt.date
    next_review_on: dt.date | None
    budget: Decimal | None
    spent: Decimal | None
    kpis: list[KpiData] = field(default_factory=list)
    kill_criteria: list[KillCriterionData] = field(default_factory=list)
    checkins: list[CheckInData] = field(default_factory=list)
    attestations: list[AttestationData] = field(default_factory=list)
    gate_reviews: list[GateReviewData] = field(default_factory=list)


@dataclass
class Document:
    people: list[PersonData]
    pilots: list[PilotData]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
# A field that was present but wrong: its error is already recorded.
_INVALID: Any = object()


def validate_document(document: Any, context: ValidationContext | None = None) -> Document:
    """The typed document, or ImportRejected listing every error with its JSON path."""
    result, errors = check_document(document, context)
    if errors:
        raise ImportRejected(errors)
    assert result is not None
    return result


def document_errors(document: Any, context: ValidationContext | None = None) -> list[str]:
    """Every error of the document (an empty list when it is valid)."""
    return check_document(document, context)[1]


def check_document(document: Any, context: ValidationContext | None = None) -> tuple[Document | None, list[str]]:
    """The typed document (None when there are errors) and the list of errors."""
    validator = _Validator(context or ValidationContext())
    result = validator.document(document)
    if validator.errors:
        return None, validator.errors
    return result, []


def _number_text(value: float) -> str:
    """50.0 as "50", 0.5 as "0.5": numbers in messages read as the user wrote them."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def _choices_text(choices: Iterable[str]) -> str:
    return ", ".join(choices)


class _Validator:
    def __init__(self, context: ValidationContext) -> None:
        self.context = context
        self.errors: list[str] = []
        # The database's users and, once `people` is read (before the pilots,
        # wherever it stands in the file), the document's.
        self.known_usernames: set[str] = set(context.usernames)

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    # -- structure ---------------------------------------------------------------------------------

    def document(self, document: Any) -> Document | None:
        if not isinstance(document, dict):
            self.error("$", "must be a JSON object")
            return None
        self.unknown_fields(document, ROOT_FIELDS, "")
        if "format" not in document:
            self.error("format", "is required")
        elif document["format"] != FORMAT:
            self.error("format", f'must be "{FORMAT}" (got {_show(document["format"])})')

        people = [
            person
            for index, item in enumerate(self.sequence(document, "people", "", required=False))
            if (person := self.person(item, f"people[{index}]")) is not None
        ]
        self.duplicates(people_items(document), "username", "people", "username")
        # A person with some other mistake is still known: one bad email should not
        # also turn every pilot that names them into an "unknown user" error.
        self.known_usernames.update(
            item["username"]
            for item in people_items(document)
            if isinstance(item, dict) and isinstance(item.get("username"), str)
        )

        pilot_items = self.sequence(document, "pilots", "", required=True)
        pilots = [pilot for index, item in enumerate(pilot_items) if (pilot := self.pilot(item, f"pilots[{index}]"))]
        self.duplicates(pilot_items, "key", "pilots", "key")
        if self.errors:
            return None
        return Document(people=people, pilots=pilots)

    def person(self, item: Any, path: str) -> PersonData | None:
        if not self.object(item, path, PERSON_FIELDS):
            return None
        username = self.text(item, "username", path, required=True, max_length=USERNAME_MAX_LENGTH)
        if isinstance(username, str) and username and not _USERNAME_PATTERN.fullmatch(username):
            self.error(f"{path}.username", "may contain only letters, digits and @ . + - _")
            username = _INVALID
        elif username == "":
            self.error(f"{path}.username", "must not be empty")
            username = _INVALID
        email = self.text(item, "email", path, default=None, max_length=EMAIL_MAX_LENGTH)
        if isinstance(email, str) and email:
            try:
                validate_email(email)
            except ValidationError:
                self.error(f"{path}.email", f"'{email}' is not an email address")
        name = self.text(item, "name", path, default=None)
        if isinstance(name, str):
            first, _, last = name.partition(" ")
            if len(first) > NAME_PART_MAX_LENGTH or len(last) > NAME_PART_MAX_LENGTH:
                self.error(f"{path}.name", f"first and last name may each be at most {NAME_PART_MAX_LENGTH} characters")
        active = item.get("active", None)
        if "active" in item and not isinstance(active, bool):
            self.error(f"{path}.active", "must be true or false")
            active = _INVALID
        roles: list[str] | None = None
        if "roles" in item:
            roles = []
            for index, role in enumerate(self.sequence(item, "roles", path, required=False)):
                if role in ROLE_GROUPS:
                    if role not in roles:
                        roles.append(role)
                else:
                    self.error(
                        f"{path}.roles[{index}]", f"must be one of {_choices_text(ROLE_GROUPS)} (got {_show(role)})"
                    )
        if _INVALID in (username, email, name, active):
            return None
        return PersonData(username=username, email=email, name=name, active=active, roles=roles)

    def pilot(self, item: Any, path: str) -> PilotData | None:
        if not self.object(item, path, PILOT_FIELDS):
            return None
        errors_before = len(self.errors)
        key = self.slug(item, "key", path)
        name = self.text(item, "name", path, required=True, nonempty=True, max_length=PILOT_NAME_MAX_LENGTH)
        business_unit = self.text(
            item, "business_unit", path, required=True, nonempty=True, max_length=BUSINESS_UNIT_MAX_LENGTH
        )
        problem = self.text(item, "problem", path, default="")
        outcome = self.text(item, "outcome", path, default="")
        owner = self.user(item, "owner", path, nullable=True)
        sponsor = self.user(item, "sponsor", path, nullable=True)
        phase = self.choice(item, "phase", path, Phase.values, required=True)
        status = self.choice(item, "status", path, Status.values, required=True)
        started_on = self.date(item, "started_on", path, required=True)
        phase_entered_on = self.date(item, "phase_entered_on", path, required=True)
        if isinstance(started_on, dt.date) and isinstance(phase_entered_on, dt.date) and phase_entered_on < started_on:
            self.error(f"{path}.phase_entered_on", f"must not be before started_on ({started_on.isoformat()})")
        next_review_on = self.date(item, "next_review_on", path, nullable=True)
        budget = self.money(item, "budget", path)
        spent = self.money(item, "spent", path)

        kpi_items = self.sequence(item, "kpis", path, required=False)
        kpis = [kpi for index, entry in enumerate(kpi_items) if (kpi := self.kpi(entry, f"{path}.kpis[{index}]"))]
        self.duplicates(kpi_items, "key", f"{path}.kpis", "key")
        kpi_keys = {
            entry["key"] for entry in kpi_items if isinstance(entry, dict) and isinstance(entry.get("key"), str)
        }

        criterion_items = self.sequence(item, "kill_criteria", path, required=False)
        kill_criteria = [
            criterion
            for index, entry in enumerate(criterion_items)
            if (criterion := self.kill_criterion(entry, f"{path}.kill_criteria[{index}]", kpi_keys))
        ]
        self.duplicates(criterion_items, "key", f"{path}.kill_criteria", "key")

        checkins = [
            checkin
            for index, entry in enumerate(self.sequence(item, "checkins", path, required=False))
            if (checkin := self.checkin(entry, f"{path}.checkins[{index}]"))
        ]
        attestations = [
            attestation
            for index, entry in enumerate(self.sequence(item, "attestations", path, required=False))
            if (attestation := self.attestation(entry, f"{path}.attestations[{index}]"))
        ]
        gate_reviews = [
            review
            for index, entry in enumerate(self.sequence(item, "gate_reviews", path, required=False))
            if (review := self.gate_review(entry, f"{path}.gate_reviews[{index}]"))
        ]
        if len(self.errors) > errors_before:
            return None
        return PilotData(
            key=key,
            name=name,
            business_unit=business_unit,
            problem=problem,
            outcome=outcome,
            owner=owner,
            sponsor=sponsor,
            phase=phase,
            status=status,
            started_on=started_on,
            phase_entered_on=phase_entered_on,
            next_review_on=next_review_on,
            budget=budget,
            spent=spent,
            kpis=kpis,
            kill_criteria=kill_criteria,
            checkins=checkins,
            attestations=attestations,
            gate_reviews=gate_reviews,
        )

    def kpi(self, item: Any, path: str) -> KpiData | None:
        if not self.object(item, path, KPI_FIELDS):
            return None
        errors_before = len(self.errors)
        key = self.slug(item, "key", path)
        name = self.text(item, "name", path, required=True, nonempty=True, max_length=KPI_NAME_MAX_LENGTH)
        unit = self.text(item, "unit", path, default="", max_length=UNIT_MAX_LENGTH)
        direction = self.choice(item, "direction", path, Direction.values, required=True)
        baseline = self.number(item, "baseline", path, nullable=True)
        baseline_on = self.date(item, "baseline_on", path, nullable=True)
        target = self.number(item, "target", path, required=True)
        target_on = self.date(item, "target_on", path, nullable=True)
        if isinstance(baseline, float) and isinstance(target, float) and direction in Direction.values:
            if direction == Direction.INCREASE and not target > baseline:
                self.error(
                    f"{path}.target",
                    f"must be above the baseline ({_number_text(baseline)}) for a KPI where higher is better",
                )
            elif direction == Direction.DECREASE and not target < baseline:
                self.error(
                    f"{path}.target",
                    f"must be below the baseline ({_number_text(baseline)}) for a KPI where lower is better",
                )

        reading_items = self.sequence(item, "readings", path, required=False)
        readings = [
            reading
            for index, entry in enumerate(reading_items)
            if (reading := self.reading(entry, f"{path}.readings[{index}]"))
        ]
        first_seen: dict[dt.date, int] = {}
        for index, entry in enumerate(reading_items):
            on = _parse_date(entry.get("on")) if isinstance(entry, dict) else None
            if on is None:
                continue
            if on in first_seen:
                self.error(
                    f"{path}.readings[{index}].on",
                    f"duplicate reading for {on.isoformat()} (also at {path}.readings[{first_seen[on]}])",
                )
            else:
                first_seen[on] = index
        if len(self.errors) > errors_before:
            return None
        return KpiData(
            key=key,
            name=name,
            unit=unit,
            direction=direction,
            baseline=baseline,
            baseline_on=baseline_on,
            target=target,
            target_on=target_on,
            readings=readings,
        )

    def reading(self, item: Any, path: str) -> ReadingData | None:
        if not self.object(item, path, READING_FIELDS):
            return None
        on = self.date(item, "on", path, required=True)
        value = self.number(item, "value", path, required=True)
        note = self.text(item, "note", path, default="")
        if _INVALID in (on, value, note):
            return None
        return ReadingData(on=on, value=value, note=note)

    def kill_criterion(self, item: Any, path: str, kpi_keys: set[str]) -> KillCriterionData | None:
        if not self.object(item, path, KILL_CRITERION_FIELDS):
            return None
        errors_before = len(self.errors)
        key = self.slug(item, "key", path)
        description = self.text(item, "description", path, required=True, nonempty=True)
        kpi = self.text(item, "kpi", path, default=None, nullable=True)
        if isinstance(kpi, str) and kpi not in kpi_keys:
            self.error(f"{path}.kpi", f"no KPI '{kpi}' in this pilot")
        comparator = self.choice(item, "comparator", path, Comparator.values, nullable=True)
        threshold = self.number(item, "threshold", path, nullable=True)
        evaluate_on = self.date(item, "evaluate_on", path, nullable=True)
        condition = {"kpi": kpi, "comparator": comparator, "threshold": threshold}
        given = [name for name, value in condition.items() if value is not None]
        if given and len(given) < len(condition):
            for name, value in condition.items():
                if value is None:
                    self.error(
                        f"{path}.{name}",
                        f"is required with {' and '.join(given)}: a measurable condition "
                        "has kpi, comparator and threshold, or none of them",
                    )
        if len(self.errors) > errors_before:
            return None
        return KillCriterionData(
            key=key,
            description=description,
            kpi=kpi,
            comparator=comparator,
            threshold=threshold,
            evaluate_on=evaluate_on,
        )

    def checkin(self, item: Any, path: str) -> CheckInData | None:
        if not self.object(item, path, CHECKIN_FIELDS):
            return None
        on = self.date(item, "on", path, required=True)
        sponsor = self.user(item, "sponsor", path, required=True)
        confidence = self.choice(item, "confidence", path, Confidence.values, required=True)
        note = self.text(item, "note", path, default="")
        if _INVALID in (on, sponsor, confidence, note):
            return None
        return CheckInData(on=on, sponsor=sponsor, confidence=confidence, note=note)

    def attestation(self, item: Any, path: str) -> AttestationData | None:
        if not self.object(item, path, ATTESTATION_FIELDS):
            return None
        criterion = self.text(item, "criterion", path, required=True)
        if isinstance(criterion, str) and criterion not in self.context.criterion_codes:
            self.error(f"{path}.criterion", f"unknown gate criterion '{criterion}'")
            criterion = _INVALID
        by = self.user(item, "by", path, required=True)
        on = self.date(item, "on", path, required=True)
        evidence = self.text(item, "evidence", path, required=True, nonempty=True)
        if _INVALID in (criterion, by, on, evidence):
            return None
        return AttestationData(criterion=criterion, by=by, on=on, evidence=evidence)

    def gate_review(self, item: Any, path: str) -> GateReviewData | None:
        if not self.object(item, path, GATE_REVIEW_FIELDS + GATE_REVIEW_OPTIONAL_FIELDS):
            return None
        on = self.date(item, "on", path, required=True)
        from_phase = self.choice(item, "from", path, Phase.values, required=True)
        to_phase = self.choice(item, "to", path, Phase.values, required=True)
        if isinstance(from_phase, str) and isinstance(to_phase, str):
            following = next_phase(from_phase)
            if following is None:
                self.error(f"{path}.from", f"no gate leaves '{from_phase}' (the gates are {GATES_TEXT})")
                from_phase = _INVALID
            elif to_phase != following:
                self.error(
                    f"{path}.to",
                    f"must be '{following}' after '{from_phase}': a review is of one gate ({GATES_TEXT})",
                )
                to_phase = _INVALID
        decision = self.choice(item, "decision", path, DECISIONS, required=True)
        by = self.user(item, "by", path, nullable=True)
        rationale = self.text(item, "rationale", path, default="")
        override = self.text(item, "override", path, default=None, nullable=True)
        lessons = self.text(item, "lessons", path, default=None)
        next_review_on = self.date(item, "next_review_on", path, nullable=True)
        if _INVALID in (on, from_phase, to_phase, decision, by, rationale, override, lessons, next_review_on):
            return None
        return GateReviewData(
            on=on,
            from_phase=from_phase,
            to_phase=to_phase,
            decision=decision,
            by=by,
            rationale=rationale,
            override=override,
            lessons=lessons,
            next_review_on=next_review_on,
            given=frozenset(name for name in GATE_REVIEW_OPTIONAL_FIELDS if name in item),
        )

    # -- building blocks ---------------------------------------------------------------------------

    def object(self, item: Any, path: str, fields: tuple[str, ...]) -> bool:
        if not isinstance(item, dict):
            self.error(path, "must be an object")
            return False
        self.unknown_fields(item, fields, path)
        return True

    def unknown_fields(self, item: dict, fields: tuple[str, ...], path: str) -> None:
        for name in item:
            if name not in fields:
                self.error(_join(path, str(name)), "unknown field")

    def sequence(self, item: dict, name: str, path: str, *, required: bool) -> list:
        if name not in item:
            if required:
                self.error(_join(path, name), "is required")
            return []
        value = item[name]
        if not isinstance(value, list):
            self.error(_join(path, name), "must be a list")
            return []
        return value

    def duplicates(self, items: list, name: str, path: str, label: str) -> None:
        """Report every repeat of ``item[name]`` among the objects of ``items``."""
        first_seen: dict[str, int] = {}
        for index, item in enumerate(items):
            value = item.get(name) if isinstance(item, dict) else None
            if not isinstance(value, str):
                continue
            if value in first_seen:
                self.error(
                    f"{path}[{index}].{name}", f"duplicate {label} '{value}' (also at {path}[{first_seen[value]}])"
                )
            else:
                first_seen[value] = index

    def text(
        self,
        item: dict,
        name: str,
        path: str,
        *,
        required: bool = False,
        default: str | None = "",
        nullable: bool = False,
        nonempty: bool = False,
        max_length: int | None = None,
    ) -> Any:
        value = self.present(item, name, path, required=required, default=default)
        if value is MISSING:
            return _INVALID
        if value is None and (nullable or (name not in item)):
            return None
        if not isinstance(value, str):
            self.error(_join(path, name), "must be a string or null" if nullable else "must be a string")
            return _INVALID
        if nonempty and not value.strip():
            self.error(_join(path, name), "must not be empty")
            return _INVALID
        if max_length is not None and len(value) > max_length:
            self.error(_join(path, name), f"must be at most {max_length} characters (got {len(value)})")
            return _INVALID
        return value

    def slug(self, item: dict, name: str, path: str) -> Any:
        value = self.text(item, name, path, required=True, max_length=KEY_MAX_LENGTH)
        if isinstance(value, str) and not _SLUG_PATTERN.fullmatch(value):
            self.error(_join(path, name), "must be a slug: letters, digits, hyphens and underscores")
            return _INVALID
        return value

    def user(self, item: dict, name: str, path: str, *, required: bool = False, nullable: bool = False) -> Any:
        value = self.present(item, name, path, required=required, default=None)
        if value is MISSING:
            return _INVALID
        if value is None and (nullable or name not in item):
            return None
        if not isinstance(value, str) or not value:
            self.error(_join(path, name), "must be a username or null" if nullable else "must be a username")
            return _INVALID
        if value not in self.known_usernames:
            self.error(_join(path, name), f"unknown user '{value}'")
            return _INVALID
        return value

    def choice(
        self,
        item: dict,
        name: str,
        path: str,
        choices: Iterable[str],
        *,
        required: bool = False,
        nullable: bool = False,
    ) -> Any:
        value = self.present(item, name, path, required=required, default=None)
        if value is MISSING:
            return _INVALID
        if value is None and (nullable or name not in item):
            return None
        choices = list(choices)
        if not isinstance(value, str) or value not in choices:
            suffix = " or null" if nullable else ""
            self.error(_join(path, name), f"must be one of {_choices_text(choices)}{suffix} (got {_show(value)})")
            return _INVALID
        return value

    def number(self, item: dict, name: str, path: str, *, required: bool = False, nullable: bool = False) -> Any:
        value = self.present(item, name, path, required=required, default=None)
        if value is MISSING:
            return _INVALID
        if value is None and (nullable or name not in item):
            return None
        # bool is an int in Python but never a number in a document.
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(_join(path, name), "must be a number or null" if nullable else "must be a number")
            return _INVALID
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            self.error(_join(path, name), "must be a finite number")
            return _INVALID
        return number

    def money(self, item: dict, name: str, path: str) -> Any:
        value = self.number(item, name, path, nullable=True)
        if not isinstance(value, float):
            return value
        # repr() of the float is the shortest text that reads back as it, so 0.1 stays 0.1.
        amount = Decimal(str(item[name])) if isinstance(item[name], int) else Decimal(repr(value))
        if amount < 0:
            self.error(_join(path, name), "must not be negative")
            return _INVALID
        if amount >= MONEY_LIMIT:
            self.error(_join(path, name), f"must be less than {MONEY_LIMIT:,.0f}")
            return _INVALID
        try:
            exact = amount.quantize(Decimal("0.01")) == amount
        except InvalidOperation:
            exact = False
        if not exact:
            self.error(_join(path, name), "must have at most 2 decimal places")
            return _INVALID
        return amount.quantize(Decimal("0.01"))

    def date(self, item: dict, name: str, path: str, *, required: bool = False, nullable: bool = False) -> Any:
        value = self.present(item, name, path, required=required, default=None)
        if value is MISSING:
            return _INVALID
        if value is None and (nullable or name not in item):
            return None
        parsed = _parse_date(value)
        if parsed is None:
            self.error(
                _join(path, name), "must be a date YYYY-MM-DD or null" if nullable else "must be a date YYYY-MM-DD"
            )
            return _INVALID
        return parsed

    def present(self, item: dict, name: str, path: str, *, required: bool, default: Any) -> Any:
        """The field's value; its default when optional and absent; MISSING (reported) when required."""
        if name in item:
            return item[name]
        if required:
            self.error(_join(path, name), "is required")
            return MISSING
        return default


def people_items(document: dict) -> list:
    people = document.get("people")
    return people if isinstance(people, list) else []


def _parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not _DATE_PATTERN.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _show(value: Any) -> str:
    """A value as it appears in the JSON, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return str(value)
