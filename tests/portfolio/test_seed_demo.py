"""The seed_demo command: loads the demo portfolio through the importer, idempotently, with working logins."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from portfolio.demo import DEMO_PASSWORD, PORTFOLIO_OFFICE, demo_document
from portfolio.exchange import export_document
from portfolio.models import BusinessUnit, KpiReading, Pilot
from tests.factories import TODAY

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Fourteen sign-ins with the production hasher would take seconds each; the check is the same."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def printed_logins(output: str) -> dict[str, str]:
    """username → password, read from the table the command prints."""
    lines = output.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("username"))
    logins = {}
    for line in lines[header + 1 :]:
        username, _role, password, _who = re.split(r"\s{2,}", line)
        logins[username] = password
    return logins


def test_it_loads_the_demo_portfolio():
    document = demo_document(TODAY)

    output = seed("--as-of", TODAY.isoformat())

    assert set(Pilot.objects.values_list("key", flat=True)) == {pilot["key"] for pilot in document["pilots"]}
    assert BusinessUnit.objects.count() == 4
    assert KpiReading.objects.count() == sum(
        len(kpi["readings"]) for pilot in document["pilots"] for kpi in pilot["kpis"]
    )
    assert Pilot.objects.get(key="safety-incident-nlp").owner is None
    assert f"{len(document['pilots'])} pilots" in output


def test_running_it_twice_gives_the_same_portfolio():
    seed("--as-of", TODAY.isoformat())
    first = export_document()

    seed("--as-of", TODAY.isoformat())

    assert export_document() == first
    assert Pilot.objects.count() == len(first["pilots"])


def test_demo_users_sign_in_with_the_printed_password(client):
    output = seed("--as-of", TODAY.isoformat())
    logins = printed_logins(output)
    # Passing the request keeps client.login working behind a login-throttling backend.
    request = RequestFactory().post("/accounts/login/")

    active = {person["username"] for person in demo_document(TODAY)["people"] if person["active"]}
    assert set(logins) >= active
    for username in active:
        assert logins[username] == DEMO_PASSWORD
        assert client.login(request=request, username=username, password=logins[username]), username
        client.logout()


def test_the_inactive_demo_user_cannot_sign_in(client):
    seed("--as-of", TODAY.isoformat())
    inactive = User.objects.get(is_active=False)

    assert inactive.check_password(DEMO_PASSWORD)
    assert not client.login(
        request=RequestFactory().post("/accounts/login/"), username=inactive.username, password=DEMO_PASSWORD
    )


def test_only_the_portfolio_office_user_gets_the_admin(client):
    seed("--as-of", TODAY.isoformat())

    assert list(User.objects.filter(is_staff=True).values_list("username", flat=True)) == [PORTFOLIO_OFFICE]
    client.force_login(User.objects.get(username=PORTFOLIO_OFFICE))
    assert client.get("/admin/").status_code == 200


def test_without_a_date_it_dates_the_demo_from_today_in_the_time_zone(settings):
    settings.TIME_ZONE = "Europe/London"
    # 23:30 UTC on 1 July is already 2 July in London (BST).
    with time_machine.travel(dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC), tick=False):
        output = seed()

    london_today = dt.date(2026, 7, 2)
    expected = {pilot["key"]: pilot["started_on"] for pilot in demo_document(london_today)["pilots"]}
    assert {pilot.key: pilot.started_on.isoformat() for pilot in Pilot.objects.all()} == expected
    assert "as of 2026-07-02" in output


def test_it_refuses_a_bad_date_with_one_line():
    with pytest.raises(CommandError, match=r"^--as-of must be a date like 2026-11-16, not '16/11/2026'$"):
        seed("--as-of", "16/11/2026")

    assert not Pilot.objects.exists()


def test_a_rejected_document_writes_nothing(monkeypatch):
    def broken_document(today: dt.date) -> dict:
        document = demo_document(today)
        document["pilots"][3]["kpis"][0]["target"] = "high"
        return document

    monkeypatch.setattr("portfolio.management.commands.seed_demo.demo_document", broken_document)
    err = io.StringIO()

    with pytest.raises(CommandError, match="rejected"):
        call_command("seed_demo", "--as-of", TODAY.isoformat(), stdout=io.StringIO(), stderr=err)

    assert "pilots[3].kpis[0].target: must be a number" in err.getvalue()
    assert not Pilot.objects.exists()
    assert not User.objects.exists()
