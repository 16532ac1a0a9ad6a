"""Who may read which digest: each user their own digests that went out; the portfolio office every one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from portfolio.models import DigestDelivery
from portfolio.roles import is_portfolio_office

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def readable_digests(user: AbstractBaseUser) -> QuerySet[DigestDelivery]:
    """The digests ``user`` may read, newest first; the office also sees those not (yet) sent, with their error."""
    digests = DigestDelivery.objects.select_related("recipient").order_by("-period", "kind", "recipient__username")
    if is_portfolio_office(user):
        return digests
    return digests.filter(recipient=user, sent_at__isnull=False)


def readable_digest(user: AbstractBaseUser, delivery_id: int) -> DigestDelivery:
    """One digest ``user`` may read; raises ``DigestDelivery.DoesNotExist`` for anyone else's."""
    return readable_digests(user).get(pk=delivery_id)
