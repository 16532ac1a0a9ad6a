"""checkin_record: the sponsor's check-in, once per double click, rescanned after commit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from portfolio.models import CheckIn
from portfolio.services import checkin_record
from tests.factories import TODAY


def test_the_sponsor_records_a_check_in(pilot, sponsor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        checkin = checkin_record(pilot=pilot, sponsor=sponsor, on=TODAY, confidence="high", note="Fine", today=TODAY)

    assert CheckIn.objects.get() == checkin
    assert len(callbacks) == 1


def test_the_same_check_in_twice_is_recorded_once(pilot, sponsor):
    first = checkin_record(pilot=pilot, sponsor=sponsor, on=TODAY, confidence="high", note="Fine", today=TODAY)
    second = checkin_record(pilot=pilot, sponsor=sponsor, on=TODAY, confidence="high", note="Fine", today=TODAY)

    assert first == second
    assert CheckIn.objects.count() == 1


def test_a_different_check_in_the_same_day_is_kept_too(pilot, sponsor):
    checkin_record(pilot=pilot, sponsor=sponsor, on=TODAY, confidence="high", note="Morning", today=TODAY)
    checkin_record(pilot=pilot, sponsor=sponsor, on=TODAY, confidence="low", note="After the demo", today=TODAY)

    assert CheckIn.objects.count() == 2


def test_only_the_pilots_sponsor_may_check_in(pilot, owner):
    with pytest.raises(PermissionError):
        checkin_record(pilot=pilot, sponsor=owner, on=TODAY, confidence="high", today=TODAY)
    assert not CheckIn.objects.exists()


def test_a_date_in_the_future_is_refused(pilot, sponsor):
    with pytest.raises(ValidationError):
        checkin_record(pilot=pilot, sponsor=sponsor, on=TODAY + dt.timedelta(days=1), confidence="high", today=TODAY)
