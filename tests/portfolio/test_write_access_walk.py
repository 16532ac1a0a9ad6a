"""Every URL that accepts a POST refuses an outsider: the URL configuration is walked, so no new view slips through.

The patterns are read from the URL configuration itself and their parameters filled
with real objects of someone else's pilot (a pilot, its KPI, kill criterion, gate
criterion, another person's digest and token...). Each is POSTed to by a signed-in
user who owns, sponsors and runs nothing: the answer must be a refusal. To prove the
parameters reached real objects (a 404 from a wrong guess would prove nothing), the
same URL must not answer 404 to a superuser. A view whose parameters this test cannot
fill fails it: teach ``_value`` the new name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

from gates.models import GateCriterion
from tests.factories import (
    AttestationFactory,
    CheckInFactory,
    DigestDeliveryFactory,
    FlagFactory,
    GateReviewFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
    UserFactory,
)

# Writes every signed-in person may make on their own account, never on anyone's pilot.
OWN_ACCOUNT = {
    "login",  # signing in
    "logout",  # signing out of one's own session
    "digest_preferences",  # one's own digest preferences
    "token_list",  # creating one's own API token
    "admin:login",  # the admin's own sign-in and sign-out
    "admin:logout",
}
# Reads that answer any method alike and write nothing: the API's index, its schema and docs page.
READS_ANY_METHOD = {"api:api-root", "api:openapi-json", "api:openapi-view"}
# Answers that refuse: not found, forbidden, unauthenticated (API tokens), or not a POST at all.
REFUSALS = {401, 403, 404, 405}


@dataclass(frozen=True)
class Route:
    name: str
    parts: tuple[Any, ...]

    @property
    def text(self) -> str:
        return "".join(_pattern_text(part.pattern) for part in self.parts)

    @property
    def in_admin(self) -> bool:
        return self.text.startswith("admin/")


def _pattern_text(pattern: Any) -> str:
    return pattern.regex.pattern if isinstance(pattern, RegexPattern) else str(pattern)


def _walk(resolver: URLResolver, parents: tuple, namespace: str) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, (*parents, entry), inner)
        elif isinstance(entry, URLPattern):
            yield Route(f"{namespace}{entry.name}" if entry.name else "", (*parents, entry))


ROUTES = [route for route in _walk(get_resolver(), (), "") if not route.text.startswith(settings.STATIC_URL)]
WRITE_CANDIDATES = [route for route in ROUTES if route.name not in OWN_ACCOUNT | READS_ANY_METHOD]
WITH_OBJECTS = [route for route in ROUTES if not route.in_admin and re.search(r"<|\(\?P", route.text) and route.name]


@pytest.fixture
def world(db, owner, sponsor) -> dict[str, Any]:
    """Someone else's pilot with one of everything, and another person's digest and token."""
    pilot = PilotFactory(key="invoice-matching", owner=owner, sponsor=sponsor, phase="pilot")
    kpi = KpiFactory(pilot=pilot, key="match-rate")
    KpiReadingFactory(kpi=kpi)
    criterion = KillCriterionFactory(pilot=pilot, key="error-ceiling")
    CheckInFactory(pilot=pilot)
    AttestationFactory(pilot=pilot)
    GateReviewFactory(pilot=pilot, decided_by=sponsor)
    FlagFactory(pilot=pilot)
    world = {
        "pilot": pilot,
        "kpi": kpi,
        "criterion": criterion,
        "gate_criterion": GateCriterion.objects.filter(gate="pilot", kind="attested").first(),
        "unit": pilot.business_unit,
        "digest": DigestDeliveryFactory(recipient=owner),
    }
    try:
        token_model = apps.get_model("portfolio", "ApiToken")
    except LookupError:
        token_model = None
    if token_model is not None:
        world["token"] = token_model.objects.create(user=owner, name="feed", prefix="walk", token_hash="0" * 64)
    try:
        webhook_model = apps.get_model("portfolio", "WebhookEndpoint")
    except LookupError:
        webhook_model = None
    if webhook_model is not None:
        world["webhook"] = webhook_model.objects.create(url="https://hooks.example.com/x", created_by=owner)
    return world


def _value(name: str | None, route: Route, world: dict[str, Any]) -> str:
    """A value for a URL parameter that names a real object of the world."""
    by_name = {
        "key": world["pilot"].key,
        "pilot_key": world["pilot"].key,
        "kpi_key": world["kpi"].key,
        "criterion_key": world["criterion"].key,
        "code": world["gate_criterion"].code,
        "unit_id": world["unit"].pk,
        "chart": "funnel",
        "app_label": "portfolio",
    }
    if name in by_name:
        return str(by_name[name])
    if name == "pk":
        for marker, thing in (("digests/", "digest"), ("tokens/", "token"), ("webhooks/", "webhook")):
            if marker in route.text and thing in world:
                return str(world[thing].pk)
    if name == "rest":
        return "nothing-here"
    if route.in_admin:
        # The admin turns away non-staff people before it looks anything up.
        return "1"
    raise AssertionError(f"{route.text}: teach this test a value for the parameter <{name}>")


def _path(route: Route, world: dict[str, Any]) -> str:
    path = "/"
    for part in route.parts:
        pattern = part.pattern
        if isinstance(pattern, RoutePattern):
            path += re.sub(r"<(?:\w+:)?(\w+)>", lambda m: _value(m.group(1), route, world), str(pattern))
        elif isinstance(pattern, RegexPattern):
            path += _regex_example(pattern.regex.pattern, route, world)
        else:
            raise AssertionError(f"unknown pattern type {type(pattern).__name__}: teach this test to fill it")
    return path


def _regex_example(regex: str, route: Route, world: dict[str, Any]) -> str:
    """The regex with each named group filled and its anchors dropped (the admin's and the API's patterns)."""
    filled = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: _value(m.group(1), route, world), regex)
    filled = re.sub(r"\([^)]*\)", "1", filled)
    return filled.replace("^", "").replace("$", "").replace("\\", "")


def _id(route: Route) -> str:
    return route.name or route.text


def test_it_finds_the_write_urls_of_the_site():
    names = {route.name for route in ROUTES}
    assert {
        "kpi_reading",
        "readings_upload",
        "readings_upload_commit",
        "checkin_record",
        "pilot_edit",
        "kpi_edit",
        "kill_criterion_edit",
        "pilot_create",
        "business_units",
    } <= names


@pytest.mark.parametrize("route", WRITE_CANDIDATES, ids=[_id(route) for route in WRITE_CANDIDATES])
def test_an_outsider_is_refused_every_write(client, world, route):
    path = _path(route, world)
    outsider = UserFactory(username="oscar")
    client.force_login(outsider)

    response = client.post(path, {})

    if route.in_admin and response.status_code == 302:
        # The admin sends non-staff people to its own sign-in page.
        assert response["Location"].startswith(reverse("admin:login")), f"{path} sent an outsider elsewhere"
        return
    assert response.status_code in REFUSALS, f"POST {path} answered {response.status_code} to an outsider"
    if response.status_code in (404, 405) or route.in_admin:
        return
    # The refusal must not be an accident of the filled-in parameters.
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    assert client.post(path, {}).status_code != 404, f"{path} does not reach a real object: fix _value"


@pytest.mark.parametrize("route", WITH_OBJECTS, ids=[_id(route) for route in WITH_OBJECTS])
def test_the_parameters_reach_real_objects(client, world, route):
    """Every address with an object in it is found by a superuser, so a 404 in the walk means a refusal."""
    path = _path(route, world)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))

    assert client.get(path).status_code != 404, f"GET {path} is not found: fix _value"
