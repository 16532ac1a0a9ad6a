"""Writes through the admin rescan too: a pilot's new owner, a person deactivated."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portfolio.models import Flag, FlagKind
from portfolio.tasks import rescan_pilot
from tests.factories import UserFactory


@pytest.fixture
def office_admin(client, db):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_deactivating_an_owner_in_the_admin_rescans_their_pilots(
    office_admin, pilot, owner, django_capture_on_commit_callbacks
):
    form = {
        "username": owner.username,
        "first_name": owner.first_name,
        "last_name": owner.last_name,
        "email": owner.email,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "09:00:00",
    }

    with django_capture_on_commit_callbacks() as callbacks:
        response = office_admin.post(reverse("admin:auth_user_change", args=[owner.pk]), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    owner.refresh_from_db()
    assert not owner.is_active
    assert len(callbacks) == 1
    rescan_pilot(pilot.pk)
    assert Flag.objects.filter(pilot=pilot, kind=FlagKind.OWNER_INACTIVE, resolved_at__isnull=True).exists()
