"""Let the "Portfolio office" group run the admin for the gates' models (see portfolio 0003 for why a migration).

The office gets every permission on gate criteria, attestations, gate reviews and their
snapshot items, and read-only access to the criteria's history.
"""

from __future__ import annotations

from django.db import migrations

from portfolio.office_permissions import OfficeGrant

OFFICE = OfficeGrant("gates")
grant = OFFICE.grant
revoke = OFFICE.revoke


class Migration(migrations.Migration):
    dependencies = [
        ("gates", "0002_default_criteria"),
        ("portfolio", "0003_portfolio_office_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
