from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from portfolio.models import ScanRun


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def test_every_page_says_when_flags_were_last_checked(signed_in):
    finished = timezone.now() - dt.timedelta(minutes=10)
    ScanRun.objects.create(as_of=finished.date(), started_at=finished, finished_at=finished)
    page = signed_in.get("/pilots/").content.decode()
    assert "Health flags last checked 10\xa0minutes ago." in page
    assert "the scan is overdue" not in page


def test_it_warns_when_the_last_scan_is_older_than_twice_the_period(signed_in):
    finished = timezone.now() - dt.timedelta(hours=3)
    ScanRun.objects.create(as_of=finished.date(), started_at=finished, finished_at=finished)
    page = signed_in.get("/pilots/").content.decode()
    assert "the scan is overdue: flags may be out of date" in page


def test_it_warns_when_no_scan_has_finished(signed_in):
    assert "No health scan has finished yet" in signed_in.get("/pilots/").content.decode()


def test_the_sign_in_page_does_not_query_for_it(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        client.get("/accounts/login/")
