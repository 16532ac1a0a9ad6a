"""Every URL of the site needs a login, but the sign-in page, the password-reset pages and /healthz.

The patterns are read from the URL configuration itself, so a view added later
is checked without anyone remembering to list it here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

from tests.factories import PilotFactory

# Reachable without a login, on purpose: signing in, resetting a forgotten
# password, the admin's own sign-in page, and the monitoring probe.
PUBLIC = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "admin:login",
    "healthz",
}
PILOT_KEY = "invoice-matching"
# The API's schema and docs page: for a signed-in browser (or a token), like every page.
API_PAGES = {"api:openapi-json", "api:openapi-view"}

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def _walk(resolver: URLResolver, parents: tuple, namespace: str) -> Iterator[tuple[tuple, str]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, (*parents, entry), inner)
        elif isinstance(entry, URLPattern):
            yield (*parents, entry), f"{namespace}{entry.name}" if entry.name else ""


def _sample(name: str | None) -> str:
    """A value for a URL parameter: the redirect happens before any object is looked up."""
    return {"key": PILOT_KEY, "app_label": "portfolio"}.get(name or "", "1")


def _route_example(route: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: _sample(match.group(1)), route)


def _regex_example(regex: str) -> str:
    """Replace each top-level group of ``regex`` with a sample value and drop the anchors."""
    out, index = [], 0
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            out.append(regex[index + 1])
            index += 2
        elif char == "(":
            name = re.match(r"\(\?P<(\w+)>", regex[index:])
            depth, end = 0, index
            while True:
                if regex[end] == "\\":
                    end += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[end], 0)
                if depth == 0:
                    break
                end += 1
            out.append(_sample(name.group(1) if name else None))
            index = end + 1
        elif char in "^$":
            index += 1
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _example_path(parts: tuple) -> str:
    path = "/"
    for part in parts:
        pattern = part.pattern
        if isinstance(pattern, RoutePattern):
            path += _route_example(str(pattern))
        elif isinstance(pattern, RegexPattern):
            path += _regex_example(pattern.regex.pattern)
        else:
            raise AssertionError(f"unknown pattern type {type(pattern).__name__}: teach this test to fill it")
    return path


ALL_PATTERNS = list(_walk(get_resolver(), (), ""))


def _id(item: tuple[tuple, str]) -> str:
    parts, name = item
    return name or "".join(str(part.pattern) for part in parts)


def test_it_finds_the_pages_of_the_site():
    names = {name for _, name in ALL_PATTERNS}
    assert {"dashboard", "pilot_list", "pilot_detail", "login", "logout", "admin:index"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("item", ALL_PATTERNS, ids=[_id(item) for item in ALL_PATTERNS])
def test_an_anonymous_visitor_is_sent_to_sign_in(client, item):
    parts, name = item
    PilotFactory(key=PILOT_KEY)
    path = _example_path(parts)
    assert resolve(path).func is parts[-1].callback, f"{path} does not reach the pattern it was built from"
    if path.startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
        pytest.skip("static files are public")

    response = client.get(path)

    if path.startswith("/api/") and name not in API_PAGES:
        # The JSON API never redirects to a sign-in page: its operations want a token
        # (401, or 405 for a POST-only address), /api/ says where the docs are, any other
        # /api/ address is a 404; always in JSON.
        expected = {"api:api-root": {200}}.get(name, {401, 405} if name else {404})
        assert response.status_code in expected, f"{path} answered {response.status_code}"
        assert response["Content-Type"].startswith("application/json")
        return
    # The admin's index sends people to the admin's own sign-in page.
    login_pages = (reverse("login"), reverse("admin:login"))
    redirected_to_login = response.status_code == 302 and response["Location"].startswith(login_pages)
    if name in PUBLIC:
        assert not redirected_to_login, f"{path} is meant to be public"
    else:
        assert redirected_to_login, f"{path} answered {response.status_code} to an anonymous visitor"
        assert "next=" in response["Location"]
