"""user_set_active: deactivating someone rescans the pilots they own or sponsor."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from portfolio.models import Flag, FlagKind
from portfolio.services import user_set_active
from portfolio.tasks import rescan_pilot
from tests.factories import PilotFactory


def test_deactivating_an_owner_rescans_their_pilots(pilot, owner, django_capture_on_commit_callbacks):
    PilotFactory(sponsor=owner)

    with django_capture_on_commit_callbacks() as callbacks:
        user_set_active(user=owner, active=False)

    assert len(callbacks) == 2
    assert not get_user_model().objects.get(pk=owner.pk).is_active
    rescan_pilot(pilot.pk)
    assert Flag.objects.filter(pilot=pilot, kind=FlagKind.OWNER_INACTIVE, resolved_at__isnull=True).exists()
