"""The address a request came from, behind as many reverse proxies as the deployment says it has.

Why not REMOTE_ADDR alone: behind a proxy it is the proxy's address for everyone, so the
login throttle (django-axes, which locks a username per address) would lock a user out
for the whole world after five wrong passwords typed by anyone. Why not X-Forwarded-For
alone: its left part is whatever the client sent, so trusting it would let an attacker
claim a new address on every try and never be throttled.

Each trusted proxy appends the address it was reached from, so with N proxies the client
is the N-th entry from the right of X-Forwarded-For; what lies further left is the
client's own and ignored. With no proxy configured the header is ignored altogether.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address, given ``settings.TRUSTED_PROXY_COUNT`` proxies in front of the app."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        # Not through all the proxies (a request that reached the app directly): nothing here is vouched for.
        return remote
    candidate = hops[-proxies]
    try:
        # The throttle stores it in an IP-address column: a forged "address" must not fail the sign-in.
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
