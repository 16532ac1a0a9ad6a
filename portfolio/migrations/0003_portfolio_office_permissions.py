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

from django.db import migrations

from portfolio.office_permissions import OfficeGrant

# Later migrations of this app re-run ``grant`` for the models they add.
OFFICE = OfficeGrant("portfolio", extra=(("auth", "view_user"),))
grant = OFFICE.grant
revoke = OFFICE.revoke


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0002_role_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
