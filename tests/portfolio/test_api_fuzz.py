"""Fuzzing the API from its own OpenAPI schema (schemathesis): whatever the input, never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from portfolio.api.endpoints import api
from tests.factories import TODAY, FlagFactory, KpiFactory, KpiReadingFactory, PilotFactory, UserFactory
from tests.portfolio.api_support import WRITE, bearer, token_for

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()


@pytest.fixture
def connection_kept_open():
    """Keep the test transaction: the bare WSGI app closes the connection after a request (the test client does not)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def headers(db, connection_kept_open):
    """A portfolio office token (so writes get past the permission check) and a pilot worth reading."""
    office = UserFactory(username="fuzz-office", roles=["portfolio_office"])
    pilot = PilotFactory(key="fuzzed", owner=UserFactory(username="fuzz-owner"))
    kpi = KpiFactory(pilot=pilot, key="rate")
    KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=1))
    FlagFactory(pilot=pilot)
    return bearer(token_for(office, WRITE))


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_operation_answers_500_and_every_answer_is_documented(case, headers, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    response = case.call(headers=headers)

    case.validate_response(
        response, checks=[schemathesis.checks.not_a_server_error, status_code_conformance, response_schema_conformance]
    )
