"""Who the load test's virtual users are: picked from the database, written to a JSON file locust reads.

``write_scenario`` runs inside Django (on the load database): it chooses executives, owners
with the active pilots and KPIs they record readings for, and API feeds, each with a fresh
write token. The locustfile never imports Django; everything it needs is in the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q

from portfolio.models import BusinessUnit, Kpi, Phase, Pilot, Status, TokenScope
from portfolio.roles import EXECUTIVES
from portfolio.services import api_token_create

PILOTS_PER_OWNER = 3
KPIS_PER_PILOT = 4
# Before a board meeting executives open the pilots up for review next, not the whole portfolio.
BROWSED_PILOTS = 40


def _kpis(pilot: Pilot) -> list[dict[str, Any]]:
    rows = Kpi.objects.filter(pilot=pilot).order_by("id")[:KPIS_PER_PILOT]
    return [{"id": kpi.pk, "key": kpi.key} for kpi in rows]


def _pilot(pilot: Pilot) -> dict[str, Any]:
    return {"key": pilot.key, "started_on": pilot.started_on.isoformat(), "kpis": _kpis(pilot)}


def _active_owners(count: int) -> list[tuple[Any, list[Pilot]]]:
    """Active people who own active pilots with KPIs, each with up to PILOTS_PER_OWNER of them."""
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .annotate(
            live=Count("owned_pilots", filter=Q(owned_pilots__status=Status.ACTIVE, owned_pilots__kpis__isnull=False))
        )
        .filter(live__gt=0)
        .order_by("id")[:count]
    )
    owned = []
    for user in users:
        pilots = Pilot.objects.filter(owner=user, status=Status.ACTIVE, kpis__isnull=False).distinct().order_by("id")
        owned.append((user, list(pilots[:PILOTS_PER_OWNER])))
    return owned


def build_scenario(*, password: str, owners: int = 40, feeds: int = 10) -> dict[str, Any]:
    """The scenario's people and what they touch; ``feeds`` owners beyond ``owners`` get a write token each."""
    executives = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=EXECUTIVES)
        .order_by("id")
        .values_list("username", flat=True)
    )
    people = _active_owners(owners + feeds)
    form_owners, feed_owners = people[:owners], people[owners:] or people[:feeds]
    browsed = (
        Pilot.objects.filter(status=Status.ACTIVE)
        .order_by(F("next_review_on").asc(nulls_last=True), "id")
        .values_list("key", flat=True)[:BROWSED_PILOTS]
    )
    return {
        "password": password,
        "executives": executives,
        "browsed_pilots": list(browsed),
        "units": list(BusinessUnit.objects.order_by("name").values_list("name", flat=True)),
        "phases": [value for value, _ in Phase.choices],
        "owners": [{"username": user.username, "pilots": [_pilot(p) for p in pilots]} for user, pilots in form_owners],
        "feeds": [
            {
                "token": api_token_create(user=user, name="load test", scope=TokenScope.READ_WRITE_READINGS)[1],
                "pilots": [_pilot(p) for p in pilots],
            }
            for user, pilots in feed_owners
        ],
    }


def check_scenario(scenario: dict[str, Any]) -> None:
    """Refuse a scenario locust could not play: each kind of user needs someone to be."""
    for kind in ("executives", "owners", "feeds"):
        if not scenario[kind]:
            raise ValueError(f"the load test needs {kind}, and the database has none")


def write_scenario(path: Path, **kwargs: Any) -> dict[str, Any]:
    scenario = build_scenario(**kwargs)
    check_scenario(scenario)
    path.write_text(json.dumps(scenario, indent=1))
    return scenario
