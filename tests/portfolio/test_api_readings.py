"""POSTing readings through the API: the form's permissions and rules, in batches that are all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from portfolio.models import KpiReading, Source
from tests.factories import TODAY, KpiFactory, KpiReadingFactory, PilotFactory, UserFactory
from tests.portfolio.api_support import READ, WRITE, TokenClient, token_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

URL = "/api/pilots/invoice-matching/kpis/match-rate/readings"


def day(days_ago: int) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


def week(start_value: float = 60.0) -> list[dict]:
    return [{"on": day(7 - n), "value": start_value + n} for n in range(7)]


@pytest.fixture
def kpi(pilot):
    return KpiFactory(pilot=pilot, key="match-rate", name="Match rate", baseline=50.0, target=80.0)


@pytest.fixture
def feed(owner):
    """The owner's write token, as a script would use it."""
    return TokenClient(token_for(owner, WRITE))


def test_the_owner_records_a_week_of_readings_from_a_system(feed, kpi, owner):
    response = feed.post(URL, {"readings": week()})

    assert response.status_code == 200
    assert response.json() == {"pilot": "invoice-matching", "created": 7, "replaced": 0, "unchanged": 0}
    readings = list(KpiReading.objects.filter(kpi=kpi).order_by("measured_on"))
    assert [r.value for r in readings] == [60.0, 61.0, 62.0, 63.0, 64.0, 65.0, 66.0]
    assert {(r.source, r.recorded_by_id) for r in readings} == {(Source.API, owner.pk)}


def test_one_reading_is_a_batch_of_one_with_its_note(feed, kpi):
    response = feed.post(URL, {"readings": [{"on": day(0), "value": 61.5, "note": "after the retrain"}]})

    assert response.json()["created"] == 1
    assert KpiReading.objects.get(kpi=kpi).note == "after the retrain"


def test_readings_of_several_kpis_go_in_one_batch(feed, kpi, pilot):
    KpiFactory(pilot=pilot, key="hours-saved")

    response = feed.post(
        "/api/pilots/invoice-matching/readings",
        {
            "readings": [
                {"kpi": "match-rate", "on": day(1), "value": 61},
                {"kpi": "hours-saved", "on": day(1), "value": 9},
            ]
        },
    )

    assert response.json()["created"] == 2
    assert sorted(KpiReading.objects.values_list("kpi__key", "value")) == [("hours-saved", 9.0), ("match-rate", 61.0)]


def test_the_portfolio_office_may_record_readings_of_any_pilot(pmo, kpi):
    response = TokenClient(token_for(pmo, WRITE)).post(URL, {"readings": week()})

    assert response.status_code == 200


@pytest.mark.parametrize("persona", ["outsider", "sponsor", "executive"])
def test_nobody_else_may_record_readings_whatever_the_tokens_scope(persona, request, kpi):
    user = request.getfixturevalue(persona)

    response = TokenClient(token_for(user, WRITE)).post(URL, {"readings": week()})

    assert response.status_code == 403
    assert "owner" in response.json()["detail"]
    assert not KpiReading.objects.exists()


def test_another_owners_token_cannot_touch_this_pilot(kpi):
    rival = UserFactory(username="rita")
    PilotFactory(key="rivals-pilot", owner=rival)
    rivals_token = TokenClient(token_for(rival, WRITE))

    by_kpi = rivals_token.post(URL, {"readings": week()})
    by_pilot = rivals_token.post(
        "/api/pilots/invoice-matching/readings", {"readings": [{"kpi": "match-rate", "on": day(1), "value": 1}]}
    )

    assert (by_kpi.status_code, by_pilot.status_code) == (403, 403)
    assert not KpiReading.objects.exists()


def test_a_read_token_of_the_owner_cannot_write(owner, kpi):
    response = TokenClient(token_for(owner, READ)).post(URL, {"readings": week()})

    assert response.status_code == 403
    assert "write:readings" in response.json()["detail"]


def test_writing_without_a_token_is_a_401_even_when_signed_in(owner, kpi):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    response = browser.post(URL, {"readings": week()}, content_type="application/json")

    assert response.status_code == 401
    assert not KpiReading.objects.exists()


def test_an_unknown_pilot_or_kpi_is_a_404(feed, kpi):
    assert feed.post("/api/pilots/nope/kpis/match-rate/readings", {"readings": week()}).status_code == 404
    assert feed.post("/api/pilots/invoice-matching/kpis/nope/readings", {"readings": week()}).status_code == 404


def test_one_bad_item_refuses_the_whole_batch_listing_each_problem_with_its_index(feed, kpi):
    batch = week()
    batch[2]["on"] = (TODAY + dt.timedelta(days=1)).isoformat()
    batch[5]["on"] = "2020-01-01"

    response = feed.post(URL, {"readings": batch})

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(2, "on"), (5, "on")]
    assert "in the future" in errors[0]["message"]
    assert "before the pilot started" in errors[1]["message"]
    assert not KpiReading.objects.exists()


def test_items_of_the_wrong_shape_are_refused_with_their_index(feed, kpi):
    batch = week()
    batch[1]["value"] = "sixty"
    batch[3]["on"] = "16/11/2026"
    del batch[4]["value"]

    response = feed.post(URL, {"readings": batch})

    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(1, "value"), (3, "on"), (4, "value")]
    assert not KpiReading.objects.exists()


def test_two_items_for_the_same_date_are_refused(feed, kpi):
    response = feed.post(URL, {"readings": [{"on": day(1), "value": 1}, {"on": day(1), "value": 2}]})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 1, "field": "on", "message": "Item 0 is for the same KPI and date; send one reading each."}
    ]


def test_an_unknown_kpi_in_a_pilot_batch_is_reported_beside_the_other_problems(feed, kpi):
    response = feed.post(
        "/api/pilots/invoice-matching/readings",
        {
            "readings": [
                {"kpi": "match-rate", "on": day(1), "value": 61},
                {"kpi": "nope", "on": day(1), "value": 1},
                {"kpi": "match-rate", "on": "2030-01-01", "value": 2},
            ]
        },
    )

    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(1, "kpi"), (2, "on")]
    assert not KpiReading.objects.exists()


def test_a_date_with_another_value_needs_replace_and_the_conflicts_are_listed(feed, kpi):
    KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=3), value=40.0)

    response = feed.post(URL, {"readings": week()})

    assert response.status_code == 409
    assert response.json()["conflicts"] == [
        {"index": 4, "kpi": "match-rate", "on": day(3), "existing_value": 40.0, "value": 64.0}
    ]
    assert KpiReading.objects.count() == 1


def test_replace_overwrites_and_the_history_keeps_the_old_value(feed, kpi):
    KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=3), value=40.0)

    response = feed.post(URL, {"readings": week(), "replace": True})

    assert response.json() == {"pilot": "invoice-matching", "created": 6, "replaced": 1, "unchanged": 0}
    reading = KpiReading.objects.get(kpi=kpi, measured_on=TODAY - dt.timedelta(days=3))
    assert (reading.value, reading.source) == (64.0, Source.API)
    assert [h.value for h in reading.history.order_by("history_date", "history_id")] == [40.0, 64.0]


def test_sending_the_same_batch_twice_records_it_once(feed, kpi):
    feed.post(URL, {"readings": week()})

    again = feed.post(URL, {"readings": week()})

    assert again.json() == {"pilot": "invoice-matching", "created": 0, "replaced": 0, "unchanged": 7}
    assert KpiReading.objects.count() == 7


def test_more_than_a_thousand_readings_is_a_413(feed, kpi):
    batch = [{"on": day(n % 20), "value": n} for n in range(1001)]

    response = feed.post(URL, {"readings": batch})

    assert response.status_code == 413
    assert not KpiReading.objects.exists()


def test_a_body_over_the_upload_limit_is_a_413(feed, kpi, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = feed.post(URL, {"readings": [{"on": day(1), "value": 1, "note": "x" * 1500}]})

    assert response.status_code == 413
    assert response.json()["detail"].startswith("The request body is too large")


def test_a_body_that_is_not_json_is_a_400(feed, kpi):
    response = feed.client.post(URL, "{not json", content_type="application/json", headers=feed.headers)

    assert response.status_code == 400
    assert "detail" in response.json()


def test_flags_are_rescanned_once_per_pilot_after_the_batch_commits(feed, kpi, monkeypatch):
    queued = []
    monkeypatch.setattr("portfolio.services.rescan_pilot_after_commit", queued.append)

    feed.post(URL, {"readings": week()})
    feed.post(URL, {"readings": week()})

    assert queued == [kpi.pilot_id]


def test_an_unexpected_error_is_a_json_500_without_a_trace(feed, kpi, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("portfolio.services.readings_record_batch", broken)

    response = feed.post(URL, {"readings": week()})

    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side; it has been logged."}
    assert b"secret internals" not in response.content
