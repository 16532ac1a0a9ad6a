"""The office's grant that the data migrations run (portfolio 0003 to 0005, gates 0003), on the migration state."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from portfolio import roles

pytestmark = pytest.mark.django_db

MIGRATIONS = (
    "portfolio.migrations.0003_portfolio_office_permissions",
    "gates.migrations.0003_portfolio_office_permissions",
)


def office_permissions() -> set[str]:
    permissions = Group.objects.get(name=roles.PORTFOLIO_OFFICE).permissions.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


@pytest.fixture
def migration_state():
    """The models as the migrations see them, and the little of a schema editor the grant uses."""
    return MigrationLoader(connection).project_state().apps, SimpleNamespace(connection=connection)


def test_revoking_takes_back_every_permission_of_both_apps(migration_state):
    apps, editor = migration_state
    assert office_permissions()

    for module in MIGRATIONS:
        importlib.import_module(module).revoke(apps, editor)

    assert office_permissions() == set()


def test_granting_again_gives_back_exactly_what_the_migrations_gave(migration_state):
    apps, editor = migration_state
    migrated = office_permissions()
    for module in MIGRATIONS:
        importlib.import_module(module).revoke(apps, editor)

    for module in MIGRATIONS:
        importlib.import_module(module).grant(apps, editor)

    assert office_permissions() == migrated
    assert {"auth.view_user", "portfolio.view_historicalpilot", "gates.change_gatecriterion"} <= migrated
    assert "portfolio.change_historicalpilot" not in migrated


def test_granting_creates_the_permissions_django_would_create_only_after_migrating(migration_state):
    apps, editor = migration_state
    Permission.objects.filter(content_type__app_label="gates").delete()

    importlib.import_module(MIGRATIONS[1]).grant(apps, editor)

    assert Permission.objects.filter(content_type__app_label="gates", codename="add_attestation").exists()
    assert "gates.add_attestation" in office_permissions()
