"""pilot_create and pilot_update: new pilots start in proof of concept; edits are optimistic-locked and rescan."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from portfolio.models import Phase, Pilot
from portfolio.services import StaleEdit, pilot_create, pilot_update
from tests.factories import TODAY, BusinessUnitFactory, UserFactory


def test_a_new_pilot_starts_in_proof_of_concept(pmo, owner, sponsor, django_capture_on_commit_callbacks):
    unit = BusinessUnitFactory(name="Finance")

    with django_capture_on_commit_callbacks() as callbacks:
        pilot = pilot_create(
            key="cash-forecast",
            name="Cash forecast",
            business_unit=unit,
            started_on=TODAY,
            problem="Forecasts are a week late.",
            owner=owner,
            sponsor=sponsor,
            created_by=pmo,
        )

    assert (pilot.phase, pilot.phase_entered_on, pilot.version) == (Phase.POC, TODAY, 1)
    assert pilot.history.get().history_user == pmo
    assert len(callbacks) == 1


def test_a_key_in_use_is_refused_in_plain_words(pilot, pmo):
    with pytest.raises(ValidationError) as refused:
        pilot_create(key=pilot.key, name="Again", business_unit=pilot.business_unit, started_on=TODAY, created_by=pmo)

    assert refused.value.message_dict["key"] == ['A pilot with the key "invoice-matching" exists; keys are unique.']


def test_an_edit_saves_bumps_the_version_and_records_who(pilot, owner):
    saved = pilot_update(pilot=pilot, version=1, changes={"problem": "Matching takes days."}, updated_by=owner)

    assert (saved.problem, saved.version) == ("Matching takes days.", 2)
    assert Pilot.objects.get().version == 2
    assert pilot.history.latest().history_user == owner


def test_a_stale_edit_is_refused_and_the_saved_version_is_returned(pilot, owner, pmo):
    pilot_update(pilot=pilot, version=1, changes={"outcome": "Same-day matching."}, updated_by=pmo)

    with pytest.raises(StaleEdit) as refused:
        pilot_update(pilot=pilot, version=1, changes={"outcome": "Mine"}, updated_by=owner)

    assert refused.value.current.outcome == "Same-day matching."
    assert Pilot.objects.get().outcome == "Same-day matching."


def test_an_edit_that_changes_nothing_keeps_the_version(pilot, owner):
    saved = pilot_update(pilot=pilot, version=1, changes={"problem": pilot.problem}, updated_by=owner)

    assert saved.version == 1


def test_a_new_owner_rescans_the_pilot_after_commit(pilot, pmo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        pilot_update(pilot=pilot, version=1, changes={"owner": UserFactory()}, updated_by=pmo)

    assert len(callbacks) == 1


def test_phase_and_status_are_not_edited_here(pilot, pmo):
    with pytest.raises(ValueError, match="phase"):
        pilot_update(pilot=pilot, version=1, changes={"phase": Phase.PILOT}, updated_by=pmo)


def test_money_cannot_be_negative(pilot, pmo):
    with pytest.raises(ValidationError):
        pilot_update(pilot=pilot, version=1, changes={"budget": -1}, updated_by=pmo)
    assert Pilot.objects.get().version == 1


def test_dates_stay_as_they_were(pilot, pmo):
    pilot_update(pilot=pilot, version=1, changes={"next_review_on": dt.date(2026, 12, 1)}, updated_by=pmo)

    assert Pilot.objects.get().started_on == pilot.started_on
