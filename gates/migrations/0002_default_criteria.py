"""Load the default gate criteria of DESIGN section 4 (the portfolio office edits them later)."""

from __future__ import annotations

from django.db import migrations

# (gate, code, label, kind, rule, help text)
DEFAULT_CRITERIA = [
    ("poc", "owner_assigned", "Business owner assigned", "auto", "owner_assigned",
     "An active user is named as the pilot's owner."),
    ("poc", "sponsor_assigned", "Executive sponsor assigned", "auto", "sponsor_assigned",
     "An active user is named as the pilot's executive sponsor."),
    ("poc", "outcome_defined", "Business outcome defined", "auto", "outcome_defined",
     "The problem (workflow bottleneck) and the business outcome are written down."),
    ("poc", "metrics_defined", "Success metrics defined", "auto", "metrics_defined",
     "At least one KPI with a target."),
    ("poc", "baseline_measured", "Baseline measured", "auto", "baseline_measured",
     "Every KPI has a baseline dated on or before today."),
    ("poc", "kill_criteria_set", "Kill criteria set", "auto", "kill_criteria_set",
     "At least one kill criterion, set before the pilot starts."),
    ("pilot", "production_owner_assigned", "Business owner assigned", "auto", "owner_assigned",
     "An active user is named as the pilot's owner."),
    ("pilot", "value_demonstrated", "Value demonstrated", "auto", "value_demonstrated",
     "Some KPI's last three readings are all better than its baseline."),
    ("pilot", "sponsor_engaged", "Sponsor engaged", "auto", "sponsor_engaged",
     "A sponsor check-in in the last 30 days."),
    ("pilot", "data_pipeline", "Data pipeline stable and automated", "attested", "",
     "Evidence that the data feeding the model arrives without manual steps."),
    ("pilot", "integration_plan", "Integration plan with existing systems defined", "attested", "",
     "Evidence of how the pilot plugs into the systems people already use."),
    ("pilot", "monitoring", "Monitoring and alerting in place", "attested", "",
     "Evidence that failures and degradation page someone."),
    ("pilot", "change_management", "Change management plan for end users", "attested", "",
     "Evidence of training, communication and support for the people affected."),
    ("pilot", "governance", "Governance and compliance reviewed", "attested", "",
     "Evidence of the risk, privacy and compliance review."),
    ("production", "targets_met", "Targets met and stable", "auto", "targets_met",
     "Every KPI's last three readings meet its target."),
    ("production", "no_critical_flags", "No critical flags open", "auto", "no_critical_flags",
     "No open critical health flag."),
    ("production", "runbook", "Runbook, support and escalation path documented", "attested", "",
     "Evidence of the runbook and who is called when it breaks."),
    ("production", "drift_monitoring", "Drift monitoring and retraining owned", "attested", "",
     "Evidence of who watches model drift and retrains."),
]


def load_criteria(apps, schema_editor):
    GateCriterion = apps.get_model("gates", "GateCriterion")
    for order, (gate, code, label, kind, rule, help_text) in enumerate(DEFAULT_CRITERIA, start=1):
        GateCriterion.objects.update_or_create(
            code=code,
            defaults={"gate": gate, "label": label, "kind": kind, "rule": rule, "help_text": help_text,
                      "order": order * 10, "active": True},
        )


def unload_criteria(apps, schema_editor):
    codes = [row[1] for row in DEFAULT_CRITERIA]
    apps.get_model("gates", "GateCriterion").objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("gates", "0001_initial")]

    operations = [migrations.RunPython(load_criteria, unload_criteria)]
