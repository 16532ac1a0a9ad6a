"""The API token settings page: create (shown once), list with last use, revoke; the office sees all."""

from __future__ import annotations

import pytest
from django.utils import timezone

from portfolio.models import ApiToken, TokenScope
from portfolio.services import api_token_create
from portfolio.tokens import token_hash

pytestmark = pytest.mark.django_db

URL = "/settings/tokens/"


def test_it_needs_a_sign_in(client):
    assert client.get(URL).status_code == 302


def test_it_lists_my_tokens_with_their_last_use_but_not_other_peoples(client, owner, outsider):
    mine, _ = api_token_create(user=owner, name="Ticketing feed", scope=TokenScope.READ)
    ApiToken.objects.filter(pk=mine.pk).update(last_used_at=timezone.now())
    api_token_create(user=outsider, name="Oscar nightly script", scope=TokenScope.READ)
    client.force_login(owner)

    page = client.get(URL).content.decode()

    assert "Ticketing feed" in page
    assert mine.prefix in page
    assert "ago" in page
    assert "Oscar nightly script" not in page


def test_creating_a_token_shows_its_secret_once_and_keeps_only_its_hash(client, owner):
    client.force_login(owner)

    response = client.post(URL, {"name": "Ticketing feed", "scope": TokenScope.READ_WRITE_READINGS})

    assert response.status_code == 200
    secret = response.context["created"][1]
    assert secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=owner)
    assert (token.name, token.scope, token.token_hash) == (
        "Ticketing feed",
        TokenScope.READ_WRITE_READINGS,
        token_hash(secret),
    )
    assert secret not in client.get(URL).content.decode()


def test_a_token_without_a_name_is_not_created_and_the_form_says_why(client, owner):
    client.force_login(owner)

    response = client.post(URL, {"name": "", "scope": TokenScope.READ})

    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_i_revoke_my_token_and_htmx_gets_the_updated_row(client, owner):
    token, _ = api_token_create(user=owner, name="feed", scope=TokenScope.READ)
    client.force_login(owner)

    response = client.post(f"/settings/tokens/{token.pk}/revoke/", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "Revoked" in response.content.decode()
    assert "<html" not in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_revoking_without_javascript_redirects_back_with_a_message(client, owner):
    token, _ = api_token_create(user=owner, name="feed", scope=TokenScope.READ)
    client.force_login(owner)

    response = client.post(f"/settings/tokens/{token.pk}/revoke/", follow=True)

    assert response.redirect_chain == [(URL, 302)]
    assert "is revoked" in response.content.decode()


def test_i_cannot_revoke_someone_elses_token(client, owner, outsider):
    token, _ = api_token_create(user=outsider, name="feed", scope=TokenScope.READ)
    client.force_login(owner)

    response = client.post(f"/settings/tokens/{token.pk}/revoke/")

    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_portfolio_office_sees_everyones_tokens_and_revokes_any(client, pmo, outsider):
    token, _ = api_token_create(user=outsider, name="Oscar nightly script", scope=TokenScope.READ)
    client.force_login(pmo)

    page = client.get(URL).content.decode()
    response = client.post(f"/settings/tokens/{token.pk}/revoke/")

    assert "Oscar nightly script" in page
    assert "Everyone else" in page
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_revoking_needs_a_post(client, owner):
    token, _ = api_token_create(user=owner, name="feed", scope=TokenScope.READ)
    client.force_login(owner)

    assert client.get(f"/settings/tokens/{token.pk}/revoke/").status_code == 405


def test_the_webhook_log_is_the_portfolio_offices(client, owner, pmo):
    client.force_login(owner)
    assert client.get("/settings/webhooks/").status_code == 403

    client.force_login(pmo)
    assert client.get("/settings/webhooks/").status_code == 200


def test_the_webhook_log_shows_each_deliverys_error_or_else_its_message(client, pmo):
    from portfolio.models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(url="https://chat.example.com/hook", description="Ops channel")
    common = {"endpoint": endpoint, "event": "flag.raised"}
    WebhookDelivery.objects.create(**common, event_id="a", payload={"text": "Claims triage is drifting"})
    WebhookDelivery.objects.create(**common, event_id="b", payload={"text": "ignored"}, last_error="HTTP 500")
    # A payload without a text (hand-made, or from an older release) must not break the page.
    WebhookDelivery.objects.create(**common, event_id="c", payload={"id": "c"})
    client.force_login(pmo)

    page = client.get("/settings/webhooks/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Claims triage is drifting" in html
    assert "HTTP 500" in html
    assert "ignored" not in html
