"""Login throttling through the real sign-in view, with django-axes on, behind reverse proxies.

Behind a proxy every request comes from the proxy's address: the throttle must lock the
client's address (from X-Forwarded-For), not the proxy's, and a client must not escape
it by writing its own X-Forwarded-For. tests/portfolio/test_login_throttling.py covers
the lock itself for direct connections.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from portfolio.client_address import client_address
from tests.factories import UserFactory

PROXY = "10.0.0.2"
LOAD_BALANCER = "10.0.0.1"
ALICE = "203.0.113.7"
BOB = "198.51.100.2"


@pytest.fixture(autouse=True)
def throttling_on(settings):
    settings.AXES_ENABLED = True


@pytest.fixture
def erin(db):
    return UserFactory(username="erin")


def _sign_in(client, password: str, *, forwarded_for: str | None = None, remote: str = PROXY):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return client.post(
        "/accounts/login/", {"username": "erin", "password": password}, REMOTE_ADDR=remote, headers=headers
    )


def test_behind_one_proxy_the_client_is_locked_and_not_everyone_behind_the_proxy(client, settings, erin):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        _sign_in(client, "wrong", forwarded_for=ALICE)

    assert _sign_in(client, "pass", forwarded_for=ALICE).status_code == 429
    assert _sign_in(client, "pass", forwarded_for=BOB).status_code == 302


def test_a_forged_x_forwarded_for_does_not_escape_the_lock(client, settings, erin):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client writes an address of its choice each time; the proxy appends the real one.
    for attempt in range(5):
        _sign_in(client, "wrong", forwarded_for=f"192.0.2.{attempt}, {ALICE}")

    assert _sign_in(client, "pass", forwarded_for=f"192.0.2.99, {ALICE}").status_code == 429


def test_without_a_proxy_the_header_is_ignored(client, settings, erin):
    settings.TRUSTED_PROXY_COUNT = 0
    for attempt in range(5):
        _sign_in(client, "wrong", forwarded_for=f"192.0.2.{attempt}", remote=ALICE)

    assert _sign_in(client, "pass", forwarded_for="192.0.2.99", remote=ALICE).status_code == 429


def test_a_malformed_header_neither_breaks_sign_in_nor_picks_an_address(client, settings, erin):
    settings.TRUSTED_PROXY_COUNT = 1

    assert _sign_in(client, "wrong", forwarded_for="not-an-address").status_code == 200
    assert _sign_in(client, "pass", forwarded_for="<script>").status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "remote", "client"),
    [
        (0, f"192.0.2.1, {ALICE}", PROXY, PROXY),
        (1, ALICE, PROXY, ALICE),
        (1, f"192.0.2.1, {ALICE}", PROXY, ALICE),
        (2, f"192.0.2.1, {ALICE}, {LOAD_BALANCER}", PROXY, ALICE),
        (2, ALICE, PROXY, PROXY),  # fewer hops than proxies: reached the app another way
        (1, "2001:db8::1", PROXY, "2001:db8::1"),
        (1, "", PROXY, PROXY),
    ],
)
def test_the_client_is_the_hop_the_outermost_proxy_appended(settings, proxies, forwarded_for, remote, client):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, headers={"X-Forwarded-For": forwarded_for})

    assert client_address(request) == client
