"""Root pytest plugin: under CI_REQUIRE_ALL, real-server and browser tests may not skip."""

from __future__ import annotations

import os

import pytest

MUST_RUN_MARKERS = {"integration", "e2e", "postgres"}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not os.environ.get("CI_REQUIRE_ALL") or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = [r for r in reporter.stats.get("skipped", []) if MUST_RUN_MARKERS & set(r.keywords)]
    if skipped:
        for report in skipped:
            reporter.write_line(f"NOT ALLOWED TO SKIP IN CI: {report.nodeid}", red=True)
        session.exitstatus = 1


# Set when a transactional test without serialized_rollback has run: its closing flush lets
# post_migrate create the content types again, under other keys than the serialized ones.
_content_types_renumbered = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a test that reloads the serialized database (ahead of pytest-django's fixtures),
    empty the tables if their content types were renumbered since: reloading the serialized
    rows on top of them would break the (app_label, model) uniqueness."""
    global _content_types_renumbered
    marker = item.get_closest_marker("django_db")
    kwargs = marker.kwargs if marker is not None else {}
    if not kwargs.get("serialized_rollback"):
        transactional = kwargs.get("transaction") or {"transactional_db", "live_server"} & set(
            getattr(item, "fixturenames", ())
        )
        _content_types_renumbered = _content_types_renumbered or bool(transactional)
        return
    if not _content_types_renumbered:
        return
    from django.core.management import call_command
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    _content_types_renumbered = False


def use_broker(url: str, transport_options: dict | None = None) -> None:
    """Point the Celery app at another broker, dropping every cached connection and producer."""
    import kombu.pools

    from portfolio.celery import app

    app.conf.broker_url = url
    app.conf.broker_transport_options = transport_options or {}
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None
    kombu.pools.reset()


@pytest.fixture(autouse=True)
def _celery_publishes_in_memory(request: pytest.FixtureRequest):
    """Unit tests publish to an in-process broker; integration tests choose their own.

    Otherwise every test that commits a reading would leave a task in the developer's
    Redis for some later worker to run against a database that no longer exists.
    """
    from portfolio.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    use_broker("memory://")
    try:
        yield
    finally:
        use_broker(*saved)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    """PBKDF2 costs about a second a user; tests create hundreds of users."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _no_login_throttling() -> None:
    """django-axes refuses ``client.login`` without a request; its own test turns it back on."""
    from django.conf import settings

    settings.AXES_ENABLED = False


def _restore_migration_data() -> None:
    """Put back the rows that data migrations load (groups, gate criteria, the office's grant)."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group

    # A flush that skips post_migrate (after serialized_rollback) takes the permissions too.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    groups = importlib.import_module("portfolio.migrations.0002_role_groups")
    criteria = importlib.import_module("gates.migrations.0002_default_criteria")
    groups.create_groups(apps, None)
    criteria.load_criteria(apps, None)
    office = Group.objects.get(name="Portfolio office")
    for module in (
        "portfolio.migrations.0003_portfolio_office_permissions",
        "gates.migrations.0003_portfolio_office_permissions",
    ):
        office.permissions.add(*importlib.import_module(module).OFFICE.permissions(apps))


@pytest.fixture(autouse=True)
def _migration_data_survives_flushes(request: pytest.FixtureRequest) -> None:
    """A transactional test (live server, real worker, concurrency) flushes every table when it
    ends, taking the data migrations' rows with it; the tests after it need them back."""
    uses_database = {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_database and request.node.get_closest_marker("django_db") is None:
        return
    from django.contrib.auth.models import Group

    # pytest-django's own helper: it opens the database the way the test's marker asks.
    request.getfixturevalue("_django_db_helper")
    if not Group.objects.filter(name="Portfolio office", permissions__isnull=False).exists():
        _restore_migration_data()
