from __future__ import annotations

import logging
import types

import pytest
from celery.signals import before_task_publish

from portfolio import request_id
from portfolio.tasks import rescan_pilot


def test_every_response_carries_a_request_id(client, db):
    response = client.get("/accounts/login/")
    assert len(response["X-Request-ID"]) == 32


def test_a_proxys_request_id_is_kept(client, db):
    response = client.get("/accounts/login/", headers={"X-Request-ID": "edge-1234abcd"})
    assert response["X-Request-ID"] == "edge-1234abcd"


def test_a_request_id_that_could_forge_log_lines_is_replaced(client, db):
    response = client.get("/accounts/login/", headers={"X-Request-ID": "x\n{json}"})
    assert response["X-Request-ID"] != "x\n{json}"
    assert len(response["X-Request-ID"]) == 32


def test_log_records_get_the_current_request_id():
    token = request_id._current.set("req-abcdef12")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
        request_id.RequestIdFilter().filter(record)
    finally:
        request_id._current.reset(token)
    assert record.request_id == "req-abcdef12"


@pytest.fixture
def published_headers():
    seen: list[dict] = []

    def receiver(headers=None, **kwargs):
        seen.append(dict(headers or {}))

    before_task_publish.connect(receiver, weak=False)
    yield seen
    before_task_publish.disconnect(receiver)


def test_a_task_queued_during_a_request_carries_its_id_to_the_worker(published_headers):
    token = request_id._current.set("req-abcdef12")
    try:
        rescan_pilot.apply_async(args=[1])
    finally:
        request_id._current.reset(token)
    assert published_headers[-1]["request_id"] == "req-abcdef12"

    task = types.SimpleNamespace(request=types.SimpleNamespace(request_id="req-abcdef12"))
    request_id._restore_request_id(task=task, task_id="t1")
    assert request_id.current_request_id() == "req-abcdef12"
    request_id._forget_request_id()
    assert request_id.current_request_id() == "-"
