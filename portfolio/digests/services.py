"""Writes of the digests' settings: a user's choice of digests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from portfolio.models import DigestPreference
from portfolio.roles import is_executive

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def digest_preference_update(
    *, user: AbstractBaseUser, owner_digest: bool, executive_digest: bool | None = None
) -> DigestPreference:
    """Switch ``user``'s digests on or off; only an executive chooses the executive digest."""
    with transaction.atomic():
        preference, _ = DigestPreference.objects.select_for_update().get_or_create(user=user)
        preference.owner_digest = owner_digest
        if executive_digest is not None and is_executive(user):
            preference.executive_digest = executive_digest
        preference.full_clean()
        preference.save()
    return preference
