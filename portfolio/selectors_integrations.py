"""Reads for the API-token and webhook settings pages, each in a fixed number of queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import OuterRef, QuerySet, Subquery

from portfolio.models import ApiToken, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def tokens_of(user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """The user's own tokens, live ones first, newest first."""
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-id")


def tokens_of_others(user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """Everyone else's tokens with their owners (what the portfolio office oversees)."""
    return (
        ApiToken.objects.exclude(user=user)
        .select_related("user")
        .order_by("revoked_at", "user__username", "-created_at", "-id")
    )


def webhook_endpoints() -> QuerySet[WebhookEndpoint]:
    """Every endpoint with the status and time of its latest delivery."""
    latest = WebhookDelivery.objects.filter(endpoint=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        WebhookEndpoint.objects.select_related("business_unit")
        .annotate(
            last_status=Subquery(latest.values("status_code")[:1]),
            last_error=Subquery(latest.values("last_error")[:1]),
            last_at=Subquery(latest.values("created_at")[:1]),
        )
        .order_by("url", "id")
    )


def webhook_deliveries(*, limit: int = 100) -> list[WebhookDelivery]:
    """The latest deliveries to every endpoint, newest first."""
    return list(WebhookDelivery.objects.select_related("endpoint").order_by("-created_at", "-id")[:limit])
