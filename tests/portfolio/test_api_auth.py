"""API tokens at the door: hashed at rest, refused when unknown or revoked, last use recorded, rate limited."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from portfolio.api.auth import rate_limit_retry_after
from portfolio.models import ApiToken
from portfolio.services import api_token_create, api_token_revoke
from tests.portfolio.api_support import READ, TokenClient, bearer, token_for

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_its_sha256(owner):
    token, secret = api_token_create(user=owner, name="Ticketing feed", scope=READ)

    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith("pp_") and len(secret) >= 40
    assert stored.prefix == secret[:9]
    row = [str(getattr(stored, field.attname)) for field in ApiToken._meta.concrete_fields]
    assert not any(secret in value for value in row)


def test_two_tokens_never_share_a_secret(owner):
    assert token_for(owner) != token_for(owner)


def test_a_live_token_reads_the_api(owner, pilot):
    response = TokenClient(token_for(owner, READ)).get("/api/pilots")

    assert response.status_code == 200


def test_no_token_is_a_401_json_with_a_bearer_challenge(client, db):
    response = client.get("/api/pilots")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["detail"].startswith("Send an API token")


def test_a_signed_in_session_is_not_a_token(client, owner):
    client.force_login(owner)

    assert client.get("/api/pilots").status_code == 401


@pytest.mark.parametrize(
    ("presented", "detail"),
    [("pp_" + "x" * 43, "Unknown API token."), ("not-ours", "This is not a Pilot Portfolio API token.")],
)
def test_an_unknown_token_is_refused(presented, detail, client, db):
    response = client.get("/api/pilots", headers=bearer(presented))

    assert response.status_code == 401
    assert response.json() == {"detail": detail}


def test_a_revoked_token_is_refused(owner):
    token, secret = api_token_create(user=owner, name="feed", scope=READ)
    api_token_revoke(token=token, revoked_by=owner)

    response = TokenClient(secret).get("/api/pilots")

    assert response.status_code == 401
    assert response.json() == {"detail": "This API token has been revoked."}


def test_the_token_of_a_deactivated_account_is_refused(owner):
    secret = token_for(owner, READ)
    owner.is_active = False
    owner.save()

    assert TokenClient(secret).get("/api/pilots").status_code == 401


def test_only_the_owner_or_the_office_may_revoke_a_token(owner, outsider, pmo):
    token, _ = api_token_create(user=owner, name="feed", scope=READ)

    with pytest.raises(PermissionError):
        api_token_revoke(token=token, revoked_by=outsider)
    assert api_token_revoke(token=token, revoked_by=pmo).revoked_at is not None


def test_use_is_recorded_at_most_once_a_minute(owner, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 16, 12, 0, tzinfo=dt.UTC), tick=False)
    token, secret = api_token_create(user=owner, name="feed", scope=READ)
    client = TokenClient(secret)

    client.get("/api/pilots")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    time_machine.move_to(dt.datetime(2026, 11, 16, 12, 0, 30, tzinfo=dt.UTC), tick=False)
    client.get("/api/pilots")
    half_a_minute_later = ApiToken.objects.get(pk=token.pk).last_used_at
    time_machine.move_to(dt.datetime(2026, 11, 16, 12, 1, 5, tzinfo=dt.UTC), tick=False)
    client.get("/api/pilots")

    assert first == dt.datetime(2026, 11, 16, 12, 0, tzinfo=dt.UTC)
    assert half_a_minute_later == first
    assert ApiToken.objects.get(pk=token.pk).last_used_at == timezone.now()


def test_a_token_over_its_rate_limit_gets_429_with_retry_after(owner, settings, time_machine):
    time_machine.move_to(dt.datetime(2026, 11, 16, 12, 0, 10, tzinfo=dt.UTC), tick=False)
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    client = TokenClient(token_for(owner, READ))
    other_token = TokenClient(token_for(owner, READ, name="other"))

    statuses = [client.get("/api/pilots").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/pilots")
    assert refused.json()["detail"].startswith("Rate limit exceeded")
    assert refused["Retry-After"] == "50"
    assert other_token.get("/api/pilots").status_code == 200
    time_machine.move_to(dt.datetime(2026, 11, 16, 12, 1, 1, tzinfo=dt.UTC), tick=False)
    assert client.get("/api/pilots").status_code == 200


def test_the_rate_limit_counts_per_minute_window():
    assert rate_limit_retry_after(1, limit=2, now=120.0) is None
    assert rate_limit_retry_after(1, limit=2, now=150.0) is None
    assert rate_limit_retry_after(1, limit=2, now=170.0) == 10
    assert rate_limit_retry_after(1, limit=2, now=180.0) is None


def test_the_docs_page_needs_a_sign_in(client, db):
    response = client.get("/api/docs")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_docs_page_serves_swagger_from_our_own_static_files(client, owner):
    client.force_login(owner)

    page = client.get("/api/docs").content.decode()

    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()


def test_the_schema_is_readable_with_a_token_and_describes_the_bearer_scheme(owner):
    response = Client().get("/api/openapi.json", headers=bearer(token_for(owner, READ)))

    assert response.status_code == 200
    schema = response.json()
    assert "/api/pilots/{key}/kpis/{kpi_key}/readings" in schema["paths"]
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_the_schema_refuses_a_bad_token_with_401(client, db):
    assert client.get("/api/openapi.json", headers=bearer("pp_" + "y" * 43)).status_code == 401


class CacheThatIsDown:
    def add(self, *args, **kwargs):
        raise ConnectionError("Redis is down")

    incr = set = add


def test_a_cache_that_is_down_does_not_refuse_requests(owner, monkeypatch):
    monkeypatch.setattr("portfolio.api.auth.cache", CacheThatIsDown())

    assert TokenClient(token_for(owner, READ)).get("/api/pilots").status_code == 200
