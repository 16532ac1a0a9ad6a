"""A valid write for each URL that writes, and who may send it.

The walk sends these bodies as people who may not write, so that a refusal is the
access check's doing and not a validation error's; the CSRF test sends them with and
without the token. ``test_the_bodies_are_valid_writes_for_the_person_who_may`` proves
each one writes when the right person sends it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone


def _today() -> str:
    return timezone.localdate().isoformat()


def _yesterday() -> str:
    """A date the world's KPI has no reading for (its reading is today's)."""
    return (timezone.localdate() - dt.timedelta(days=1)).isoformat()


# URL name → (who may send it, the body given the world).
BODIES: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "kpi_reading": (
        "owner",
        lambda w: {f"kpi-{w['kpi'].pk}-measured_on": _yesterday(), f"kpi-{w['kpi'].pk}-value": "71", "next": "/"},
    ),
    "checkin_record": (
        "sponsor",
        lambda w: {f"checkin-{w['pilot'].key}-on": _today(), f"checkin-{w['pilot'].key}-confidence": "low"},
    ),
    "gate_attest": ("owner", lambda w: {f"{w['gate_criterion'].code}-evidence": "Runbook at wiki/runbook."}),
    "gate_decide": (
        "sponsor",
        lambda w: {
            "decision": "kill",
            "rationale": "No value after six months.",
            "lessons": "Matching needs clean vendor data first.",
            "read_phase": w["pilot"].phase,
            "read_version": w["pilot"].version,
        },
    ),
    "pilot_edit": (
        "owner",
        lambda w: {"version": w["pilot"].version, "problem": "Rewritten problem.", "outcome": "Rewritten outcome."},
    ),
    "kpi_create": (
        "owner",
        lambda w: {
            "key": "cycle-time",
            "name": "Cycle time",
            "unit": "h",
            "direction": "decrease",
            "target": "4",
            "reason": "Cycle time matters as much as the match rate.",
        },
    ),
    "kpi_edit": (
        "owner",
        lambda w: {
            "version": w["kpi"].version,
            "name": "Renamed",
            "unit": "%",
            "direction": "increase",
            "baseline": "50",
            "baseline_on": (timezone.localdate() - dt.timedelta(days=60)).isoformat(),
            "target": "90",
            "reason": "The board asked for more.",
        },
    ),
    "kill_criterion_create": (
        "owner",
        lambda w: {"key": "budget-overrun", "description": "Stop if spend doubles.", "reason": "Added late."},
    ),
    "kill_criterion_edit": (
        "owner",
        lambda w: {"version": w["criterion"].version, "description": "Reworded.", "reason": "Clearer wording."},
    ),
    "pilot_create": (
        "office",
        lambda w: {
            "name": "Claims triage",
            "key": "claims-triage",
            "business_unit": w["pilot"].business_unit_id,
            "started_on": _today(),
        },
    ),
    "business_units": ("office", lambda w: {"name": "Legal"}),
    "business_unit_edit": (
        "office",
        lambda w: {"name": "Renamed unit", "original_name": w["pilot"].business_unit.name},
    ),
    "token_revoke": ("owner", lambda w: {}),
    "api:kpi_readings_record": ("owner", lambda w: {"readings": [{"on": _yesterday(), "value": 71}]}),
    "api:pilot_readings_record": (
        "owner",
        lambda w: {"readings": [{"kpi": w["kpi"].key, "on": _yesterday(), "value": 71}]},
    ),
}
