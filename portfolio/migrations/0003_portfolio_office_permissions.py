"""Let the "Portfolio office" group run the admin for the portfolio's models without being superusers.

Why a data migration rather than a grant by hand or a post_migrate signal: the grant is
data every database needs (fresh clones, CI, production) and a migration is applied once,
in order, and reversed cleanly. Django only creates Permission rows in post_migrate, after
every migration, so this one creates them first for the apps it needs. The office gets
every permission on the portfolio's models, read-only access to their history (the audit
trail), and view on users so the owner and sponsor pickers (admin autocomplete) work.
Its members also need ``is_staff`` (the seed command sets it).

A model added to the app later needs its own grant in a later migration.
"""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Portfolio office"
APP_LABEL = "portfolio"
EXTRA_PERMISSIONS = [("auth", "view_user")]


def _create_permissions(apps, schema_editor, app_label):
    app_config = apps.get_app_config(app_label)
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
    granted = [
        p for p in permissions if not p.content_type.model.startswith("historical") or p.codename.startswith("view_")
    ]
    for app_label, codename in EXTRA_PERMISSIONS:
        granted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return granted


def grant(apps, schema_editor):
    for app_label in {APP_LABEL, *(app for app, _ in EXTRA_PERMISSIONS)}:
        _create_permissions(apps, schema_editor, app_label)
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(*_office_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=GROUP):
        group.permissions.remove(*_office_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0002_role_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
