from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def throttling_on(settings):
    settings.AXES_ENABLED = True


@pytest.fixture
def erin(db):
    return UserFactory(username="erin")


def _sign_in(client, password: str, address: str = "203.0.113.7"):
    return client.post("/accounts/login/", {"username": "erin", "password": password}, REMOTE_ADDR=address)


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, erin):
    for _ in range(4):
        assert _sign_in(client, "wrong").status_code == 200
    locked = _sign_in(client, "wrong")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    assert "Try again in 15 minutes" in locked.content.decode()
    assert _sign_in(client, "pass").status_code == 429


def test_the_lock_is_per_address_so_an_attacker_cannot_lock_out_the_user_everywhere(client, erin):
    for _ in range(5):
        _sign_in(client, "wrong", address="203.0.113.7")
    assert _sign_in(client, "pass", address="198.51.100.2").status_code == 302


def test_a_good_password_before_the_limit_resets_the_count(client, erin):
    for _ in range(4):
        _sign_in(client, "wrong")
    assert _sign_in(client, "pass").status_code == 302
    client.logout()
    for _ in range(4):
        assert _sign_in(client, "wrong").status_code == 200
