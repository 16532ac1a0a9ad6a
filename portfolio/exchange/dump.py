"""Export of the whole portfolio in the exchange format (DESIGN section 7).

The output is deterministic (every list has a stable order and every object its
keys in the documented order) so that two exports of the same portfolio are
byte-for-byte equal and an export → import → export round trip can be compared.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Q

from portfolio.exchange.validate import FORMAT
from portfolio.models import CheckIn, KillCriterion, Kpi, KpiReading, Pilot
from portfolio.roles import ROLE_GROUPS


def export_document() -> dict:
    """The whole portfolio as an exchange document."""
    pilots = list(Pilot.objects.select_related("business_unit", "owner", "sponsor").order_by("key"))
    referenced: set[str] = set()

    kpis_by_pilot: dict[int, list[dict]] = defaultdict(list)
    readings_by_kpi = _readings_by_kpi()
    for kpi in Kpi.objects.order_by("pilot_id", "key"):
        kpis_by_pilot[kpi.pilot_id].append(
            {
                "key": kpi.key,
                "name": kpi.name,
                "unit": kpi.unit,
                "direction": kpi.direction,
                "baseline": _float(kpi.baseline),
                "baseline_on": _date(kpi.baseline_on),
                "target": _float(kpi.target),
                "target_on": _date(kpi.target_on),
                "readings": readings_by_kpi.get(kpi.pk, []),
            }
        )

    criteria_by_pilot: dict[int, list[dict]] = defaultdict(list)
    for criterion in KillCriterion.objects.select_related("kpi").order_by("pilot_id", "key"):
        criteria_by_pilot[criterion.pilot_id].append(
            {
                "key": criterion.key,
                "description": criterion.description,
                "kpi": criterion.kpi.key if criterion.kpi else None,
                "comparator": criterion.comparator,
                "threshold": _float(criterion.threshold),
                "evaluate_on": _date(criterion.evaluate_on),
            }
        )

    checkins_by_pilot: dict[int, list[tuple]] = defaultdict(list)
    for checkin in CheckIn.objects.select_related("sponsor"):
        referenced.add(checkin.sponsor.username)
        row = {
            "on": _date(checkin.on),
            "sponsor": checkin.sponsor.username,
            "confidence": checkin.confidence,
            "note": checkin.note,
        }
        checkins_by_pilot[checkin.pilot_id].append(((checkin.on, checkin.sponsor.username, checkin.pk), row))

    attestation_model = apps.get_model("gates", "Attestation")
    attestations_by_pilot: dict[int, list[tuple]] = defaultdict(list)
    for attestation in attestation_model.objects.select_related("criterion", "attested_by"):
        by = attestation.attested_by.username
        referenced.add(by)
        row = {
            "criterion": attestation.criterion.code,
            "by": by,
            "on": _date(attestation.attested_on),
            "evidence": attestation.evidence,
        }
        sort_key = (attestation.attested_on, attestation.criterion.code, by, attestation.pk)
        attestations_by_pilot[attestation.pilot_id].append((sort_key, row))

    review_model = apps.get_model("gates", "GateReview")
    reviews_by_pilot: dict[int, list[dict]] = defaultdict(list)
    # Snapshot items are not part of the format. Lessons and the next review date are
    # optional fields, written when they carry something.
    for review in review_model.objects.select_related("decided_by").order_by("pilot_id", "decided_on", "id"):
        by = review.decided_by.username if review.decided_by else None
        if by:
            referenced.add(by)
        row = {
            "on": _date(review.decided_on),
            "from": review.from_phase,
            "to": review.to_phase,
            "decision": review.decision,
            "by": by,
            "rationale": review.rationale,
            "override": review.override_justification or None,
        }
        if review.lessons:
            row["lessons"] = review.lessons
        if review.next_review_on is not None:
            row["next_review_on"] = _date(review.next_review_on)
        reviews_by_pilot[review.pilot_id].append(row)

    pilot_rows = []
    for pilot in pilots:
        for user in (pilot.owner, pilot.sponsor):
            if user is not None:
                referenced.add(user.username)
        pilot_rows.append(
            {
                "key": pilot.key,
                "name": pilot.name,
                "business_unit": pilot.business_unit.name,
                "problem": pilot.problem,
                "outcome": pilot.outcome,
                "owner": pilot.owner.username if pilot.owner else None,
                "sponsor": pilot.sponsor.username if pilot.sponsor else None,
                "phase": pilot.phase,
                "status": pilot.status,
                "started_on": _date(pilot.started_on),
                "phase_entered_on": _date(pilot.phase_entered_on),
                "next_review_on": _date(pilot.next_review_on),
                "budget": _money(pilot.budget),
                "spent": _money(pilot.spent),
                "kpis": kpis_by_pilot.get(pilot.pk, []),
                "kill_criteria": criteria_by_pilot.get(pilot.pk, []),
                "checkins": _sorted_rows(checkins_by_pilot.get(pilot.pk, [])),
                "attestations": _sorted_rows(attestations_by_pilot.get(pilot.pk, [])),
                "gate_reviews": reviews_by_pilot.get(pilot.pk, []),
            }
        )

    return {"format": FORMAT, "people": _people(referenced), "pilots": pilot_rows}


def _people(referenced: set[str]) -> list[dict]:
    """Every user but superusers, and the superusers the pilots refer to.

    Superusers are operators' accounts rather than people of the portfolio; one
    that owns, sponsors, checks in, attests or decides is exported all the same,
    or the document would name a user it does not define.
    """
    users = (
        get_user_model()
        .objects.filter(Q(is_superuser=False) | Q(username__in=referenced))
        .prefetch_related("groups")
        .order_by("username")
    )
    people = []
    for user in users:
        group_names = {group.name for group in user.groups.all()}
        people.append(
            {
                "username": user.username,
                "email": user.email,
                "name": user.get_full_name(),
                "active": user.is_active,
                "roles": [role for role, group in ROLE_GROUPS.items() if group in group_names],
            }
        )
    return people


def _readings_by_kpi() -> dict[int, list[dict]]:
    readings: dict[int, list[dict]] = defaultdict(list)
    rows = KpiReading.objects.order_by("kpi_id", "measured_on").values_list("kpi_id", "measured_on", "value", "note")
    for kpi_id, measured_on, value, note in rows.iterator(chunk_size=5000):
        readings[kpi_id].append({"on": measured_on.isoformat(), "value": float(value), "note": note})
    return readings


def _sorted_rows(rows: list[tuple[tuple, dict]]) -> list[dict]:
    return [row for _, row in sorted(rows, key=lambda pair: pair[0])]


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _float(value: float | None) -> float | None:
    return float(value) if value is not None else None


def _money(value: Decimal | None) -> int | float | None:
    """Whole amounts as JSON integers (1500), others as numbers with their cents (1500.5)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)
