"""Business units: unique names, renames locked on the name they were read with."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from portfolio.models import BusinessUnit
from portfolio.services import StaleEdit, business_unit_create, business_unit_rename


def test_a_unit_is_created(db):
    assert business_unit_create(name="  Finance ").name == "Finance"


def test_a_name_in_use_is_refused_whatever_its_case(db):
    business_unit_create(name="Finance")

    with pytest.raises(ValidationError) as refused:
        business_unit_create(name="finance")

    assert refused.value.message_dict["name"] == ['There is already a business unit called "finance".']


def test_a_rename_checks_the_name_it_was_read_with(db):
    unit = business_unit_create(name="Ops")
    business_unit_rename(unit=unit, expected_name="Ops", name="Operations")

    with pytest.raises(StaleEdit) as refused:
        business_unit_rename(unit=unit, expected_name="Ops", name="Operations and logistics")

    assert refused.value.current.name == "Operations"
    assert BusinessUnit.objects.get().name == "Operations"
