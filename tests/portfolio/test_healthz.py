from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import use_broker
from portfolio.models import ScanRun


@pytest.fixture
def recent_scan(db):
    now = timezone.now()
    return ScanRun.objects.create(as_of=now.date(), started_at=now, finished_at=now)


def test_it_answers_anonymously_with_json(client, recent_scan):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["last_scan"]["status"] == "ok"
    assert body["last_scan"]["age_seconds"] < 60


def test_it_is_unhealthy_without_any_scan(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["last_scan"] == {"finished_at": None, "age_seconds": None, "status": "overdue"}


def test_it_is_unhealthy_when_the_last_scan_is_older_than_twice_the_period(client, db):
    finished = timezone.now() - dt.timedelta(hours=3)
    ScanRun.objects.create(as_of=finished.date(), started_at=finished, finished_at=finished)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["last_scan"]["status"] == "overdue"


def test_it_is_unhealthy_when_the_broker_is_unreachable(client, recent_scan):
    use_broker("redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "unreachable"
