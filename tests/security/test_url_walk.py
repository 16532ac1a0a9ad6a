"""Every URL of the site, visited by an anonymous visitor, an outsider, an executive and the portfolio office.

The patterns are read from the URL configuration (the admin's and the API's included)
and their parameters filled with real objects of Olivia's pilot. ``GETS`` says what
each visitor must be answered; a URL missing from it fails the walk, so a new view is
looked at before it ships. Then every URL is POSTed to by those who may not write
there, with a body that would be a valid write from the right person: each must be
refused and the database left as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from tests.security.bodies import BODIES
from tests.security.snapshot import belongs_to, changed_rows, database_snapshot
from tests.security.urlwalk import Route, path_for, site_routes

pytestmark = pytest.mark.usefixtures("frozen_today")

ROUTES = site_routes()
SIGN_IN_PAGES = ("/accounts/login/?next=", "/admin/login/?next=")


@dataclass(frozen=True)
class Answer:
    """What a visitor must be answered: the status, and for a redirect where it goes."""

    says: str
    statuses: frozenset[int]
    to: tuple[str, ...] = ()

    def given_by(self, response: Any) -> bool:
        if response.status_code not in self.statuses:
            return False
        if response.status_code != 302:
            return True
        location = response["Location"]
        if location.startswith(SIGN_IN_PAGES) and self not in (SIGN_IN, ADMIN_SIGN_IN):
            return False
        return not self.to or location.startswith(self.to)


def redirect(to: str) -> Answer:
    return Answer(f"sent to {to}", frozenset({302}), (to,))


OK = Answer("the page", frozenset({200}))
SIGN_IN = Answer("sent to sign in", frozenset({302}), SIGN_IN_PAGES)
ADMIN_SIGN_IN = Answer("sent to the admin's sign-in", frozenset({302}), ("/admin/login/?next=",))
FORBIDDEN = Answer("forbidden", frozenset({403}))
NOT_FOUND = Answer("not found", frozenset({404}))
NO_TOKEN = Answer("401 without a token", frozenset({401}))
POST_ONLY = Answer("405: a POST-only address", frozenset({405}))
# The admin's model pages for its staff: the page, a redirect within the admin, or a
# 403 where the office's permissions stop (groups, axes logs, read-only rows).
BY_ADMIN_PERMISSIONS = Answer("answered by the admin's permissions", frozenset({200, 302, 403}), ("/admin/",))

VISITORS = ("anonymous", "outsider", "executive", "office")
READ_BY_ALL = (SIGN_IN, OK, OK, OK)
OWNERS_FORM = (SIGN_IN, FORBIDDEN, FORBIDDEN, OK)
OFFICE_ONLY = (SIGN_IN, FORBIDDEN, FORBIDDEN, OK)
WRITE_ONLY = (SIGN_IN, POST_ONLY, POST_ONLY, POST_ONLY)
STAFF_ONLY = (SIGN_IN, ADMIN_SIGN_IN, ADMIN_SIGN_IN, OK)

# GET, per URL name, for (anonymous, outsider, executive, office). Every signed-in person
# reads the whole portfolio (DESIGN 1); forms that write are the owner's or the office's.
GETS: dict[str, tuple[Answer, Answer, Answer, Answer]] = {
    # reading the portfolio
    "dashboard": READ_BY_ALL,
    "dashboard_chart": READ_BY_ALL,
    "pilot_export": READ_BY_ALL,
    "pilot_list": READ_BY_ALL,
    "pilot_detail": READ_BY_ALL,
    "kpi_chart": READ_BY_ALL,
    "gate_review": READ_BY_ALL,
    "similar_lessons": READ_BY_ALL,
    "my_pilots": READ_BY_ALL,
    "landing": (SIGN_IN, redirect("/me/"), redirect("/"), redirect("/")),
    # the owner's forms (the office may use them too)
    "pilot_edit": OWNERS_FORM,
    "kpi_create": OWNERS_FORM,
    "kpi_edit": OWNERS_FORM,
    "kpi_reading": OWNERS_FORM,
    "readings_upload": OWNERS_FORM,
    "kill_criterion_create": OWNERS_FORM,
    "kill_criterion_edit": OWNERS_FORM,
    # writes with no page of their own
    "readings_upload_commit": WRITE_ONLY,
    "checkin_record": WRITE_ONLY,
    "gate_attest": WRITE_ONLY,
    "gate_decide": WRITE_ONLY,
    "token_revoke": WRITE_ONLY,
    # the portfolio office's pages
    "pilot_create": OFFICE_ONLY,
    "business_units": OFFICE_ONLY,
    "business_unit_edit": OFFICE_ONLY,
    "people": OFFICE_ONLY,
    "webhook_list": OFFICE_ONLY,
    # one's own digests, preferences and tokens; another's digest is not found, but by the office
    "digest_list": READ_BY_ALL,
    "digest_detail": (SIGN_IN, NOT_FOUND, NOT_FOUND, OK),
    "digest_preferences": READ_BY_ALL,
    "token_list": READ_BY_ALL,
    # the JSON API: a token for the operations, a session or a token for the schema and docs
    "api:api-root": (OK, OK, OK, OK),
    "api:openapi-json": READ_BY_ALL,
    "api:openapi-view": READ_BY_ALL,
    "api:pilot_list": (NO_TOKEN, OK, OK, OK),
    "api:pilot_detail": (NO_TOKEN, OK, OK, OK),
    "api:flag_list": (NO_TOKEN, OK, OK, OK),
    "api:summary": (NO_TOKEN, OK, OK, OK),
    "api:kpi_readings_record": (POST_ONLY,) * 4,
    "api:pilot_readings_record": (POST_ONLY,) * 4,
    "^api/(?P<rest>.*)$": (NOT_FOUND,) * 4,
    # public
    "login": (OK, OK, OK, OK),
    "logout": (SIGN_IN, POST_ONLY, POST_ONLY, POST_ONLY),
    "healthz": (OK, OK, OK, OK),
    # the admin's own pages: staff only
    "admin:index": STAFF_ONLY,
    "admin:app_list": STAFF_ONLY,
    "admin:password_change": STAFF_ONLY,
    "admin:password_change_done": STAFF_ONLY,
    "admin:jsi18n": STAFF_ONLY,
    "admin:autocomplete": (SIGN_IN, ADMIN_SIGN_IN, ADMIN_SIGN_IN, FORBIDDEN),  # no field asked for
    "admin:view_on_site": (SIGN_IN, ADMIN_SIGN_IN, ADMIN_SIGN_IN, redirect("http://testserver/pilots/")),
    "admin:login": (OK, OK, OK, redirect("/admin/")),
    # a non-staff session is sent back to the admin's index, which sends it to sign in
    "admin:logout": (SIGN_IN, redirect("/admin/"), redirect("/admin/"), POST_ONLY),
    "admin/(?P<url>.*)$": (SIGN_IN, ADMIN_SIGN_IN, ADMIN_SIGN_IN, NOT_FOUND),
}
# Every page the admin makes for a registered model (list, add, change, delete, history).
ADMIN_MODEL_PAGE = (SIGN_IN, ADMIN_SIGN_IN, ADMIN_SIGN_IN, BY_ADMIN_PERMISSIONS)


def expected_gets(route: Route) -> tuple[Answer, ...] | None:
    if route.label in GETS:
        return GETS[route.label]
    if route.in_admin and route.text.count("/") >= 3 and not route.text.startswith("admin/r/"):
        return ADMIN_MODEL_PAGE
    return None


# POSTs that are a person's own business, never anyone's pilot: allowed, but they may only
# change rows of the visitor's own account.
OWN_ACCOUNT = {"login", "logout", "admin:login", "admin:logout", "digest_preferences", "token_list"}
# Reads that answer any method alike: the API's index, its schema and its docs page.
READS_ANY_METHOD = {"api:api-root", "api:openapi-json", "api:openapi-view"}
# Statuses that refuse a write (besides the sign-in redirect): 401 (API without a token), 403, 404, 405.
REFUSED = {401, 403, 404, 405}


def _client(world: dict[str, Any], who: str) -> Client:
    client = Client()
    if who != "anonymous":
        client.force_login(world["people"][who])
    return client


def _send(client: Client, method: str, route: Route, world: dict[str, Any], who: str, body: dict | None = None):
    """GET or POST ``route`` as ``who``: API addresses with the visitor's token, as the API wants."""
    path = path_for(route, world)
    headers = {}
    if route.in_api and who != "anonymous":
        headers["Authorization"] = f"Bearer {world['secrets'][world['people'][who].username]}"
    if method == "GET":
        return client.get(path, headers=headers)
    if route.in_api:
        return client.post(path, json.dumps(body or {}), content_type="application/json", headers=headers)
    return client.post(path, body or {}, headers=headers)


def test_every_url_of_the_site_has_its_expected_answers():
    missing = sorted(route.label for route in ROUTES if expected_gets(route) is None)
    assert not missing, f"URLs missing from GETS in {__file__}: say who may open them: {missing}"
    stale = sorted(set(GETS) - {route.label for route in ROUTES})
    assert not stale, f"GETS names URLs the site no longer has: {stale}"


def test_the_walk_reaches_the_api_and_the_admin():
    labels = {route.label for route in ROUTES}
    assert {"api:pilot_list", "api:kpi_readings_record", "admin:index", "admin:portfolio_pilot_change"} <= labels
    assert {"pilot_detail", "kpi_reading", "gate_decide", "digest_detail", "token_revoke"} <= labels


@pytest.mark.parametrize("who", VISITORS)
def test_each_visitor_gets_the_expected_answer_from_every_url(world, who):
    client = _client(world, who)
    column = VISITORS.index(who)
    wrong = []
    for route in ROUTES:
        expected = expected_gets(route)
        if expected is None:
            continue  # reported by test_every_url_of_the_site_has_its_expected_answers
        response = _send(client, "GET", route, world, who)
        if not expected[column].given_by(response):
            got = f"{response.status_code} {response.get('Location', '')}".strip()
            wrong.append(f"GET {path_for(route, world)} ({route.label}): expected {expected[column].says}, got {got}")
    assert not wrong, f"as {who}:\n" + "\n".join(wrong)


def test_the_api_answers_json_even_when_it_refuses(world):
    client = Client()
    for route in ROUTES:
        if route.in_api and route.label not in ("api:openapi-view", "api:openapi-json"):
            response = _send(client, "GET", route, world, "anonymous")
            assert response["Content-Type"].startswith("application/json"), f"{route.label} answered HTML"


@pytest.mark.parametrize("who", ["anonymous", "outsider", "executive"])
def test_every_post_by_someone_who_may_not_write_is_refused_and_writes_nothing(world, who):
    client = _client(world, who)
    person = world["people"].get(who)
    wrong = []
    before = database_snapshot()
    for route in ROUTES:
        body = BODIES[route.label][1](world) if route.label in BODIES else {}
        response = _send(client, "POST", route, world, who, body)
        after = database_snapshot()
        changed = changed_rows(before, after)
        where = f"POST {path_for(route, world)} ({route.label})"
        if route.label in OWN_ACCOUNT and person is not None:
            others = [row for row, values in changed.items() if not belongs_to(row, values, person.pk)]
            if others:
                wrong.append(f"{where} changed rows beyond {who}'s own account: {others}")
            client.force_login(person)  # signing out is allowed: sign back in for the rest of the walk
        else:
            if changed:
                wrong.append(f"{where} changed the database: {sorted(changed)}")
            if not _refused(response, route):
                wrong.append(f"{where} answered {response.status_code} {response.get('Location', '')}")
        before = after
    assert not wrong, f"as {who}:\n" + "\n".join(wrong)


def _refused(response: Any, route: Route) -> bool:
    if response.status_code in REFUSED or SIGN_IN.given_by(response) or ADMIN_SIGN_IN.given_by(response):
        return True
    # Reads that answer a POST too, and the sign-in forms (their empty POST signs nobody in).
    return route.label in READS_ANY_METHOD | {"login", "admin:login"} and response.status_code == 200


@pytest.mark.parametrize("name", sorted(BODIES))
def test_the_bodies_are_valid_writes_for_the_person_who_may(world, name):
    """The walk's bodies would write: the refusals above are the access checks', not the forms'."""
    who, body = BODIES[name]
    route = next(route for route in ROUTES if route.label == name)
    client = _client(world, who)
    before = database_snapshot()

    response = _send(client, "POST", route, world, who, body(world))

    assert response.status_code in (200, 201, 302), f"{name} as {who}: {response.status_code}"
    assert changed_rows(before, database_snapshot()), f"{name} as {who} wrote nothing: fix its body in BODIES"
