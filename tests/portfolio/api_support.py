"""Helpers for the API tests: tokens for personas and a client that sends one with every request."""

from __future__ import annotations

from django.test import Client

from portfolio.models import TokenScope
from portfolio.services import api_token_create

WRITE = TokenScope.READ_WRITE_READINGS
READ = TokenScope.READ


def token_for(user, scope: str = WRITE, name: str = "feed") -> str:
    """A new token of ``user``: the secret, as its owner would paste it."""
    return api_token_create(user=user, name=name, scope=scope)[1]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class TokenClient:
    """A test client that sends one token with every request, and JSON bodies."""

    def __init__(self, secret: str) -> None:
        self.client = Client()
        self.headers = bearer(secret)

    def get(self, path: str, data: dict | None = None):
        return self.client.get(path, data or {}, headers=self.headers)

    def post(self, path: str, body: object):
        return self.client.post(path, body, content_type="application/json", headers=self.headers)
