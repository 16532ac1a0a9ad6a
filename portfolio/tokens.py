"""What an API token looks like, how it is kept (hashed) and what its scope allows.

A token is ``pp_`` followed by 43 URL-safe characters (256 random bits). Only its SHA-256
is stored: a leaked database does not leak usable tokens, and because the secret is
random a fast hash is enough and can be looked up through a unique index.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from portfolio.models import TokenScope
from portfolio.roles import is_portfolio_office

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from portfolio.models import ApiToken

TOKEN_PREFIX = "pp_"
# What the token list shows of a token: "pp_" and the first six random characters.
SHOWN_CHARS = len(TOKEN_PREFIX) + 6
WRITE_READINGS = "write:readings"


def token_generate() -> str:
    """A new secret token, shown once to its owner."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The SHA-256 of a token in hex, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_shown_prefix(token: str) -> str:
    return token[:SHOWN_CHARS]


def looks_like_token(token: str) -> bool:
    """Cheap check before touching the database: our prefix and a plausible length."""
    return token.startswith(TOKEN_PREFIX) and 20 <= len(token) <= 100


def hashes_match(stored: str, presented: str) -> bool:
    """Constant-time comparison, so the time taken says nothing about how much matched."""
    return hmac.compare_digest(stored.encode(), presented.encode())


def scope_allows(scope: str, permission: str) -> bool:
    """Every token reads; writing readings needs the ``write:readings`` scope."""
    if permission == "read":
        return scope in TokenScope.values
    return permission in scope.split()


def can_manage_token(user: AbstractBaseUser | AnonymousUser, token: ApiToken) -> bool:
    """A token is its owner's to revoke; the portfolio office may revoke any."""
    return user.is_authenticated and (token.user_id == user.pk or is_portfolio_office(user))
