"""Shared fixtures: personas of DESIGN section 1 and a frozen clock."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine

from tests.factories import TODAY, PilotFactory, UserFactory


@pytest.fixture
def today() -> dt.date:
    return TODAY


@pytest.fixture
def frozen_today():
    """Freeze the clock at noon UTC on TODAY (a Monday)."""
    with time_machine.travel(dt.datetime.combine(TODAY, dt.time(12, 0), tzinfo=dt.UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def owner(db):
    return UserFactory(username="olivia", first_name="Olivia", last_name="Owner")


@pytest.fixture
def sponsor(db):
    return UserFactory(username="sam", first_name="Sam", last_name="Sponsor")


@pytest.fixture
def outsider(db):
    return UserFactory(username="oscar", first_name="Oscar", last_name="Outsider")


@pytest.fixture
def executive(db):
    return UserFactory(username="erin", first_name="Erin", last_name="Executive", roles=["executive"])


@pytest.fixture
def pmo(db):
    return UserFactory(username="paula", first_name="Paula", last_name="Office", roles=["portfolio_office"])


@pytest.fixture
def pilot(owner, sponsor):
    return PilotFactory(key="invoice-matching", name="Invoice matching", owner=owner, sponsor=sponsor)


@pytest.fixture
def fast_password_hashing(settings):
    """MD5 instead of PBKDF2: every factory user hashes a password, and PBKDF2 costs half a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings):
    """Each test its own in-process cache: never the developer's Redis, never another test's entries.

    The dashboard and the charts are cached under a token of the newest row ids, and on
    SQLite a rolled-back test gives its ids to the next test, so two tests could share a key.
    """
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"test-{uuid.uuid4()}"}
    }
