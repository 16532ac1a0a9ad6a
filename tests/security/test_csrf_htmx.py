"""CSRF on htmx: every htmx write needs the token, and every page that makes one sends it.

The layout puts the token on ``<body hx-headers='{"x-csrftoken": …}'>`` so that htmx
sends it as a header with every request (django-htmx's recipe; no inline script, which
the Content-Security-Policy forbids). Plain forms carry ``csrfmiddlewaretoken`` for the
same writes without JavaScript.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve

from tests.security.bodies import BODIES
from tests.security.snapshot import changed_rows, database_snapshot
from tests.security.urlwalk import path_for, site_routes

pytestmark = pytest.mark.usefixtures("frozen_today")

BODY_TOKEN = re.compile(r"""<body hx-headers='\{"x-csrftoken": "([^"]+)"\}'>""")
HTMX_WRITE = re.compile(r"""\shx-(?:post|put|patch|delete)="([^"]+)\"""")
POST_FORM = re.compile(r"<form\b[^>]*\bmethod=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
# Where each htmx write is offered, and to whom: the owner records readings and evidence
# and revokes their token, the sponsor checks in and decides the gate.
HTMX_WRITES = {
    "kpi_reading": ("owner", "pilot_detail"),
    "checkin_record": ("sponsor", "pilot_detail"),
    "gate_attest": ("owner", "gate_review"),
    "gate_decide": ("sponsor", "gate_review"),
    "token_revoke": ("owner", "token_list"),
}
PAGES = [route for route in site_routes() if not route.in_admin and not route.in_api]


def _browser(world: dict[str, Any], who: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["people"][who])
    return client


def _page(client: Client, world: dict[str, Any], name: str) -> str:
    route = next(route for route in PAGES if route.name == name)
    response = client.get(path_for(route, world))
    assert response.status_code == 200
    return response.content.decode()


def _htmx_writes(page: str) -> dict[str, set[str]]:
    """The URL name of each htmx write on the page → its addresses (one per KPI, criterion, token…)."""
    writes: dict[str, set[str]] = {}
    for address in HTMX_WRITE.findall(page):
        address = html.unescape(address)
        writes.setdefault(resolve(address.split("?")[0]).url_name, set()).add(address)
    return writes


def _address(page: str, name: str, world: dict[str, Any]) -> str:
    """The page's address for the write of ``name`` on the world's object (the one BODIES fills in)."""
    path = path_for(next(route for route in PAGES if route.name == name), world)
    found = [address for address in _htmx_writes(page)[name] if address.split("?")[0] == path]
    assert found, f"the page offers no {name} at {path}"
    return found[0]


def test_every_page_with_an_htmx_write_sends_the_token_and_every_post_form_carries_it(world):
    offered: set[str] = set()
    for who in ("owner", "sponsor", "office"):
        client = _browser(world, who)
        for route in PAGES:
            response = client.get(path_for(route, world))
            if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                continue
            page = response.content.decode()
            where = f"{route.name} as {who}"
            writes = _htmx_writes(page)
            if writes:
                token = BODY_TOKEN.search(page)
                assert token and len(token.group(1)) >= 32, f"{where} has htmx writes but no token for them"
            offered |= writes.keys()
            for form in POST_FORM.findall(page):
                assert 'name="csrfmiddlewaretoken"' in form, f"{where}: a POST form without the CSRF token"
    assert offered == set(HTMX_WRITES), "an htmx write was added or moved: teach HTMX_WRITES where it is offered"


@pytest.mark.parametrize("name", sorted(HTMX_WRITES))
def test_an_htmx_write_without_the_token_is_refused_and_with_the_pages_token_goes_through(world, name):
    who, page_name = HTMX_WRITES[name]
    client = _browser(world, who)
    page = _page(client, world, page_name)
    token = BODY_TOKEN.search(page).group(1)
    address = _address(page, name, world)
    body = BODIES[name][1](world)
    before = database_snapshot()

    refused = client.post(address, body, headers={"HX-Request": "true"})

    assert refused.status_code == 403
    assert not changed_rows(before, database_snapshot())

    accepted = client.post(address, body, headers={"HX-Request": "true", "X-CSRFToken": token})

    assert accepted.status_code == 200
    assert changed_rows(before, database_snapshot()), f"{name} with the token wrote nothing"


def test_a_token_from_another_session_is_refused(world):
    stranger = _browser(world, "outsider")
    their_token = BODY_TOKEN.search(_page(stranger, world, "dashboard")).group(1)
    client = _browser(world, "owner")
    page = _page(client, world, "pilot_detail")
    address = _address(page, "kpi_reading", world)

    response = client.post(
        address, BODIES["kpi_reading"][1](world), headers={"HX-Request": "true", "X-CSRFToken": their_token}
    )

    assert response.status_code == 403
