"""Who may do what: the two role groups and the access rules of DESIGN section 10."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from portfolio.models import Pilot

EXECUTIVES = "Executives"
PORTFOLIO_OFFICE = "Portfolio office"

# The exchange format's names for the groups.
ROLE_GROUPS = {"executive": EXECUTIVES, "portfolio_office": PORTFOLIO_OFFICE}


def _in_group(user: AbstractBaseUser | AnonymousUser, group: str) -> bool:
    if not user.is_authenticated:
        return False
    # Cache the names per request-user object: templates ask several times.
    names = getattr(user, "_group_names", None)
    if names is None:
        names = set(user.groups.values_list("name", flat=True))
        user._group_names = names
    return group in names


def is_executive(user: AbstractBaseUser | AnonymousUser) -> bool:
    return _in_group(user, EXECUTIVES)


def is_portfolio_office(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and (user.is_superuser or _in_group(user, PORTFOLIO_OFFICE))


def can_edit_pilot_data(user: AbstractBaseUser | AnonymousUser, pilot: Pilot) -> bool:
    """KPIs, readings, kill criteria and attestations: the owner's (and the PMO's)."""
    return user.is_authenticated and (pilot.owner_id == user.pk or is_portfolio_office(user))


def can_check_in(user: AbstractBaseUser | AnonymousUser, pilot: Pilot) -> bool:
    """Only the pilot's sponsor records check-ins."""
    return user.is_authenticated and pilot.sponsor_id == user.pk


def can_decide_gate(user: AbstractBaseUser | AnonymousUser, pilot: Pilot) -> bool:
    """Gate decisions are the portfolio office's or the pilot's sponsor's."""
    return user.is_authenticated and (pilot.sponsor_id == user.pk or is_portfolio_office(user))
