"""Realistic exchange documents (DESIGN section 7) for the validator, import and export tests.

Every builder returns a fresh dict, so a test can break one field of it freely.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.factories import TODAY

FORMAT = "pilot-portfolio/v1"
# The default gate criteria of gates/migrations/0002_default_criteria.py.
CRITERION_CODES = frozenset(
    {
        "owner_assigned",
        "sponsor_assigned",
        "outcome_defined",
        "metrics_defined",
        "baseline_measured",
        "kill_criteria_set",
        "production_owner_assigned",
        "value_demonstrated",
        "sponsor_engaged",
        "data_pipeline",
        "integration_plan",
        "monitoring",
        "change_management",
        "governance",
        "targets_met",
        "no_critical_flags",
        "runbook",
        "drift_monitoring",
    }
)


def day(days_before_today: int) -> str:
    return (TODAY - dt.timedelta(days=days_before_today)).isoformat()


def weekly_readings(*, weeks: int, first: float, step: float, last_days_ago: int = 0) -> list[dict[str, Any]]:
    """One reading a week, oldest first, the newest ``last_days_ago`` days before TODAY."""
    return [
        {"on": day(last_days_ago + 7 * (weeks - 1 - week)), "value": round(first + step * week, 2), "note": ""}
        for week in range(weeks)
    ]


def person(username: str, name: str, *, roles: list[str] | None = None, active: bool = True) -> dict[str, Any]:
    return {
        "username": username,
        "email": f"{username}@example.com",
        "name": name,
        "active": active,
        "roles": roles or [],
    }


def invoice_matching_pilot() -> dict[str, Any]:
    """A healthy pilot in phase `pilot`: KPIs improving, sponsor engaged, evidence on file."""
    match_rate = weekly_readings(weeks=12, first=64.0, step=2.0)
    match_rate[-1]["note"] = "New supplier templates added."
    return {
        "key": "invoice-matching",
        "name": "Invoice matching",
        "business_unit": "Finance",
        "problem": "Invoices wait four days for a clerk to match them to purchase orders.",
        "outcome": "Match 90% of invoices automatically on the day they arrive.",
        "owner": "olivia",
        "sponsor": "sam",
        "phase": "pilot",
        "status": "active",
        "started_on": day(200),
        "phase_entered_on": day(110),
        "next_review_on": day(-30),
        "budget": 120000,
        "spent": 45250.5,
        "kpis": [
            {
                "key": "cycle-time",
                "name": "Invoice cycle time",
                "unit": "hours",
                "direction": "decrease",
                "baseline": 96.0,
                "baseline_on": day(190),
                "target": 24.0,
                "target_on": day(-60),
                "readings": weekly_readings(weeks=8, first=90.0, step=-5.5),
            },
            {
                "key": "match-rate",
                "name": "Automatic match rate",
                "unit": "%",
                "direction": "increase",
                "baseline": 62.0,
                "baseline_on": day(190),
                "target": 90.0,
                "target_on": None,
                "readings": match_rate,
            },
        ],
        "kill_criteria": [
            {
                "key": "accuracy-floor",
                "description": "Stop if the match rate is still below 65% at the mid-pilot review.",
                "kpi": "match-rate",
                "comparator": "below",
                "threshold": 65.0,
                "evaluate_on": day(60),
            },
            {
                "key": "no-adoption",
                "description": "Stop if the clerks keep matching by hand after training.",
                "kpi": None,
                "comparator": None,
                "threshold": None,
                "evaluate_on": None,
            },
        ],
        "checkins": [
            {"on": day(45), "sponsor": "sam", "confidence": "medium", "note": "Supplier templates are the risk."},
            {"on": day(10), "sponsor": "sam", "confidence": "high", "note": "Ahead of plan."},
        ],
        "attestations": [
            {
                "criterion": "data_pipeline",
                "by": "olivia",
                "on": day(20),
                "evidence": "Nightly ERP extract, no manual steps since March.",
            },
            {"criterion": "monitoring", "by": "olivia", "on": day(15), "evidence": "Grafana board and on-call rota."},
        ],
        "gate_reviews": [
            {
                "on": day(110),
                "from": "poc",
                "to": "pilot",
                "decision": "advance",
                "by": "sam",
                "rationale": "All criteria met; the proof of concept matched 70% of a month's invoices.",
                "override": None,
            }
        ],
    }


def ticket_triage_pilot() -> dict[str, Any]:
    """In production after an override; held once at the scale gate."""
    return {
        "key": "ticket-triage",
        "name": "Support ticket triage",
        "business_unit": "Customer Service",
        "problem": "Tickets sit in a shared queue for a day before anyone routes them.",
        "outcome": "Route every ticket to the right team within ten minutes.",
        "owner": "zoe",
        "sponsor": "erin",
        "phase": "production",
        "status": "active",
        "started_on": day(400),
        "phase_entered_on": day(120),
        "next_review_on": None,
        "budget": None,
        "spent": None,
        "kpis": [
            {
                "key": "first-route-minutes",
                "name": "Minutes to first routing",
                "unit": "min",
                "direction": "decrease",
                "baseline": 1440.0,
                "baseline_on": day(390),
                "target": 10.0,
                "target_on": None,
                "readings": weekly_readings(weeks=52, first=600.0, step=-11.25, last_days_ago=2),
            }
        ],
        "kill_criteria": [
            {
                "key": "misroutes",
                "description": "Stop if more tickets are misrouted than in the shared queue.",
                "kpi": None,
                "comparator": None,
                "threshold": None,
                "evaluate_on": day(-90),
            }
        ],
        "checkins": [{"on": day(3), "sponsor": "erin", "confidence": "high", "note": ""}],
        "attestations": [
            {"criterion": "runbook", "by": "zoe", "on": day(30), "evidence": "Runbook in the service wiki."},
        ],
        "gate_reviews": [
            {
                "on": day(300),
                "from": "poc",
                "to": "pilot",
                "decision": "advance",
                "by": "paula",
                "rationale": "",
                "override": None,
            },
            {
                "on": day(120),
                "from": "pilot",
                "to": "production",
                "decision": "advance",
                "by": "erin",
                "rationale": "Routing is good enough to replace the shared queue.",
                "override": "Governance review booked; the regulator's deadline will not wait.",
            },
            {
                "on": day(20),
                "from": "production",
                "to": "scaled",
                "decision": "hold",
                "by": "paula",
                "rationale": "Not stable for three weeks yet.",
                "override": None,
            },
        ],
    }


def churn_prediction_pilot() -> dict[str, Any]:
    """Killed at the pilot gate; no sponsor any more, and its owner has left."""
    return {
        "key": "churn-prediction",
        "name": "Churn prediction",
        "business_unit": "Customer Service",
        "problem": "Customers leave without warning.",
        "outcome": "Call at-risk customers before they cancel.",
        "owner": "dave",
        "sponsor": None,
        "phase": "poc",
        "status": "killed",
        "started_on": day(300),
        "phase_entered_on": day(300),
        "next_review_on": None,
        "budget": 30000.25,
        "spent": 30000.25,
        "kpis": [
            {
                "key": "nps",
                "name": "Net promoter score",
                "unit": "",
                "direction": "increase",
                "baseline": None,
                "baseline_on": None,
                "target": 30.0,
                "target_on": None,
                "readings": [],
            }
        ],
        "kill_criteria": [],
        "checkins": [],
        "attestations": [],
        "gate_reviews": [
            {
                "on": day(200),
                "from": "poc",
                "to": "pilot",
                "decision": "kill",
                "by": "paula",
                "rationale": "The CRM has no usable cancellation history; nothing to learn from.",
                "override": None,
            }
        ],
    }


def people() -> list[dict[str, Any]]:
    return [
        person("dave", "Dave Departed", active=False),
        person("erin", "Erin Executive", roles=["executive"]),
        person("olivia", "Olivia Owner"),
        person("paula", "Paula Office", roles=["portfolio_office"]),
        person("sam", "Sam Sponsor", roles=["executive"]),
        person("zoe", "Zoë van der Berg"),
    ]


def sample_document() -> dict[str, Any]:
    """A small portfolio of three pilots covering every part of the format."""
    return {
        "format": FORMAT,
        "people": people(),
        "pilots": [churn_prediction_pilot(), invoice_matching_pilot(), ticket_triage_pilot()],
    }


def minimal_pilot(key: str = "minimal", **fields: Any) -> dict[str, Any]:
    """A pilot with only the required fields."""
    pilot = {
        "key": key,
        "name": key.replace("-", " ").capitalize(),
        "business_unit": "Operations",
        "phase": "poc",
        "status": "active",
        "started_on": day(30),
        "phase_entered_on": day(30),
    }
    pilot.update(fields)
    return pilot


def counts(document: dict[str, Any]) -> dict[str, int]:
    """How many pilots, KPIs, readings and people the document holds."""
    pilots = document["pilots"]
    return {
        "pilots": len(pilots),
        "kpis": sum(len(p.get("kpis", [])) for p in pilots),
        "readings": sum(len(k.get("readings", [])) for p in pilots for k in p.get("kpis", [])),
        "people": len(document.get("people", [])),
    }
