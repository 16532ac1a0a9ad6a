"""PostgreSQL restarts under a running web process: the very next requests succeed.

The test runs its own PostgreSQL cluster (initdb, pg_ctl) on a free port, migrates a
database there and serves it with gunicorn. The web process keeps its connection between
requests (CONN_MAX_AGE); ``pg_ctl restart -m fast`` cuts it. CONN_HEALTH_CHECKS makes
Django notice the dead connection at the start of the next request and open a new one,
so not even the first request after the restart fails.
"""

from __future__ import annotations

import json

import pytest

from tests.faults.servers import Browser, manage, postgres_cluster, web_process

pytestmark = pytest.mark.integration

PASSWORD = "a-long-pass-phrase"


@pytest.fixture(scope="module")
def served_database(tmp_path_factory):
    """A migrated database on a cluster of this module's own, with one scan recorded and a superuser.

    Shared by the tests below: migrating takes most of their time.
    """
    tmp_path = tmp_path_factory.mktemp("postgres-restart")
    with postgres_cluster() as cluster:
        cluster.create_database("portfolio")
        database_url = cluster.url("portfolio")
        manage(tmp_path, "migrate", "--noinput", DATABASE_URL=database_url)
        manage(
            tmp_path,
            "createsuperuser",
            "--noinput",
            "--username",
            "priya",
            "--email",
            "priya@example.com",
            DATABASE_URL=database_url,
            DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        )
        manage(tmp_path, "scan_health", DATABASE_URL=database_url)
        yield cluster, database_url


def test_the_first_requests_after_postgresql_restarts_succeed(served_database, tmp_path):
    cluster, database_url = served_database
    with web_process(tmp_path / "web", DATABASE_URL=database_url, REDIS_URL="") as base_url:
        browser = Browser(base_url)
        browser.sign_in("priya", PASSWORD)
        assert browser.get("/").status == 200
        assert browser.get("/healthz").status == 200

        cluster.restart()

        dashboard = browser.get("/")
        assert dashboard.status == 200, dashboard.text[:3000]
        assert 'class="site-user__name">priya<' in dashboard.text
        health = browser.get("/healthz")
        assert health.status == 200, health.text
        assert json.loads(health.text)["database"] == "ok"
        assert browser.get("/pilots/").status == 200


def test_while_postgresql_is_down_healthz_says_so_and_the_pages_come_back_with_it(served_database, tmp_path):
    cluster, database_url = served_database
    with web_process(tmp_path / "web", DATABASE_URL=database_url, REDIS_URL="") as base_url:
        browser = Browser(base_url)
        browser.sign_in("priya", PASSWORD)
        assert browser.get("/").status == 200

        cluster.stop()
        # As a probe asks (the container's health check, a load balancer): without a session.
        health = Browser(base_url).get("/healthz")
        assert health.status == 503
        assert json.loads(health.text)["database"] == "unreachable"
        assert health.seconds < 5
        # And for someone signed in, whose session lives in the database that is down.
        signed_in_health = browser.get("/healthz")
        assert signed_in_health.status == 503, signed_in_health.text[:2000]
        assert json.loads(signed_in_health.text)["database"] == "unreachable"

        cluster.start()
        assert browser.get("/").status == 200
        assert browser.get("/healthz").status == 200
