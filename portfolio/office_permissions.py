"""Which permissions the "Portfolio office" group holds on an app's models: the data migrations' grant.

Applied migrations call this (portfolio 0003 to 0005, gates 0003), so it works on the
migration state's ``apps`` only and must keep doing what it does: a change here changes
what every fresh database gets. The office gets every permission on the app's models,
read-only access to their history (the audit trail), and the few other named
permissions its admin pages need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.management import create_permissions

GROUP = "Portfolio office"


@dataclass(frozen=True)
class OfficeGrant:
    """The office's permissions on ``app_label``'s models, plus ``extra`` ones given as (app label, codename)."""

    app_label: str
    extra: Sequence[tuple[str, str]] = ()

    def grant(self, apps: Any, schema_editor: Any) -> None:
        for app_label in {self.app_label, *(app for app, _ in self.extra)}:
            _create_permissions(apps, schema_editor, app_label)
        Group = apps.get_model("auth", "Group")
        group, _ = Group.objects.get_or_create(name=GROUP)
        group.permissions.add(*self.permissions(apps))

    def revoke(self, apps: Any, schema_editor: Any) -> None:
        Group = apps.get_model("auth", "Group")
        for group in Group.objects.filter(name=GROUP):
            group.permissions.remove(*self.permissions(apps))

    def permissions(self, apps: Any) -> list[Any]:
        Permission = apps.get_model("auth", "Permission")
        permissions = Permission.objects.filter(content_type__app_label=self.app_label).select_related("content_type")
        # History is the audit trail: readable, never edited.
        granted = [
            p
            for p in permissions
            if not p.content_type.model.startswith("historical") or p.codename.startswith("view_")
        ]
        for app_label, codename in self.extra:
            granted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return granted


def _create_permissions(apps: Any, schema_editor: Any, app_label: str) -> None:
    """Django creates Permission rows only after every migration (post_migrate); a grant needs them now."""
    app_config = apps.get_app_config(app_label)
    # create_permissions skips app configs without a models module, which the
    # migration state's stubs never have.
    app_config.models_module = True
    try:
        create_permissions(app_config, verbosity=0, apps=apps, using=schema_editor.connection.alias)
    finally:
        del app_config.models_module
