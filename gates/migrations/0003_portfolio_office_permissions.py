"""Let the "Portfolio office" group run the admin for the gates' models (see portfolio 0003 for why a migration).

The office gets every permission on gate criteria, attestations, gate reviews and their
snapshot items, and read-only access to the criteria's history.
"""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Portfolio office"
APP_LABEL = "gates"


def _create_permissions(apps, schema_editor):
    app_config = apps.get_app_config(APP_LABEL)
    # create_permissions skips app configs without a models module, which the
    # migration state's stubs never have.
    app_config.models_module = True
    try:
        create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    finally:
        del app_config.models_module


def _office_permissions(apps):
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label=APP_LABEL).select_related("content_type")
    # History is the audit trail: readable, never edited.
    return [
        p for p in permissions if not p.content_type.model.startswith("historical") or p.codename.startswith("view_")
    ]


def grant(apps, schema_editor):
    _create_permissions(apps, schema_editor)
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(*_office_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*_office_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("gates", "0002_default_criteria"),
        ("portfolio", "0003_portfolio_office_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
