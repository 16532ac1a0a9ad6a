"""Bearer-token authentication for the API, with a rate limit per token.

A token is found by the SHA-256 of what the client sends (a unique index), then the
stored and presented hashes are compared in constant time. ``last_used_at`` is written
at most once a minute so a busy feed does not turn every read into a write. The rate
limit is a fixed one-minute window counted in the Django cache (Redis when REDIS_URL is
set, so it holds across web processes); if the cache is down, requests are not limited.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError, HttpError
from ninja.security import HttpBearer

from portfolio import tokens
from portfolio.models import ApiToken

logger = logging.getLogger(__name__)

LAST_USED_EVERY = dt.timedelta(minutes=1)
WINDOW_SECONDS = 60


class RateLimited(HttpError):
    """Too many requests with one token in the current minute."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(429, f"Rate limit exceeded; retry in {retry_after} s.")
        self.retry_after = retry_after


class TokenAuth(HttpBearer):
    """``Authorization: Bearer pp_…``: the token's user becomes ``request.user``, the token ``request.auth``."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        found = token_find(token.strip())
        retry_after = rate_limit_retry_after(found.pk, limit=settings.API_RATE_LIMIT_PER_MINUTE, now=time.time())
        if retry_after is not None:
            raise RateLimited(retry_after)
        token_touch(found, now=timezone.now())
        # Permission rules (portfolio.roles) and the history of what the token writes
        # (simple_history reads request.user) see the token's owner.
        request.user = found.user
        return found


def token_find(presented: str) -> ApiToken:
    """The live token ``presented`` names; AuthenticationError (401) otherwise."""
    if not tokens.looks_like_token(presented):
        raise AuthenticationError(message="This is not a Pilot Portfolio API token.")
    presented_hash = tokens.token_hash(presented)
    found = ApiToken.objects.select_related("user").filter(token_hash=presented_hash).first()
    if found is None or not tokens.hashes_match(found.token_hash, presented_hash):
        raise AuthenticationError(message="Unknown API token.")
    if found.revoked_at is not None:
        raise AuthenticationError(message="This API token has been revoked.")
    if not found.user.is_active:
        raise AuthenticationError(message="The account this API token belongs to is inactive.")
    return found


def token_touch(token: ApiToken, *, now: dt.datetime) -> None:
    """Record that the token was used, at most once a minute."""
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def rate_limit_retry_after(token_id: int, *, limit: int, now: float) -> int | None:
    """Count a request of the token in the current minute; seconds to wait if it is over ``limit``."""
    window = int(now // WINDOW_SECONDS)
    key = f"api-rate:{token_id}:{window}"
    try:
        # add() then incr() is atomic on every cache backend that matters (locmem, Redis).
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        try:
            count = cache.incr(key)
        except ValueError:
            # The key expired between add() and incr().
            cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
            count = 1
    except Exception:
        # The cache (Redis) is down: serve the request unlimited rather than fail it.
        logger.warning("API rate limit not counted: the cache is unavailable", exc_info=True)
        return None
    if count <= limit:
        return None
    return max(1, (window + 1) * WINDOW_SECONDS - int(now))


def require_scope(request: HttpRequest, permission: str) -> None:
    """Refuse (403) a token whose scope lacks ``permission``."""
    token: ApiToken = request.auth
    if not tokens.scope_allows(token.scope, permission):
        raise HttpError(403, f'This token\'s scope is "{token.scope}"; this needs "{permission}".')
