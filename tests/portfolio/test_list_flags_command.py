"""``manage.py list_flags``: the open flags, as JSON in a stable shape or as a table."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.factories import FlagFactory, KillCriterionFactory, KpiFactory, PilotFactory

pytestmark = pytest.mark.django_db


def list_flags(*args: str) -> str:
    out = StringIO()
    call_command("list_flags", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def flagged_portfolio(pilot):
    """Open flags created out of order, with and without subjects, and one resolved."""
    alpha = PilotFactory(key="alpha")
    speed = KpiFactory(pilot=alpha, key="speed", name="Speed")
    accuracy = KpiFactory(pilot=alpha, key="accuracy", name="Accuracy")
    floor = KillCriterionFactory(pilot=alpha, key="floor")
    FlagFactory(pilot=pilot, kind="stale", severity="warning", detail="No KPI reading for 30 days")
    FlagFactory(pilot=alpha, kind="no_baseline", kpi=speed, severity="warning", detail="Speed has no baseline")
    FlagFactory(pilot=alpha, kind="no_baseline", kpi=accuracy, severity="warning", detail="Accuracy has no baseline")
    FlagFactory(
        pilot=alpha,
        kind="kill_criterion_met",
        kill_criterion=floor,
        severity="critical",
        detail="Kill criterion met: Accuracy is 38 %, below 40 %",
    )
    FlagFactory(pilot=pilot, kind="no_owner", severity="critical", detail="No owner named")
    FlagFactory(
        pilot=alpha,
        kind="no_owner",
        severity="critical",
        detail="No owner named",
        resolved_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )


def test_it_prints_the_open_flags_as_json_sorted_by_pilot_kind_and_subject(flagged_portfolio):
    assert json.loads(list_flags("--json")) == [
        {
            "pilot": "alpha",
            "kind": "kill_criterion_met",
            "subject": "floor",
            "severity": "critical",
            "detail": "Kill criterion met: Accuracy is 38 %, below 40 %",
        },
        {
            "pilot": "alpha",
            "kind": "no_baseline",
            "subject": "accuracy",
            "severity": "warning",
            "detail": "Accuracy has no baseline",
        },
        {
            "pilot": "alpha",
            "kind": "no_baseline",
            "subject": "speed",
            "severity": "warning",
            "detail": "Speed has no baseline",
        },
        {
            "pilot": "invoice-matching",
            "kind": "no_owner",
            "subject": None,
            "severity": "critical",
            "detail": "No owner named",
        },
        {
            "pilot": "invoice-matching",
            "kind": "stale",
            "subject": None,
            "severity": "warning",
            "detail": "No KPI reading for 30 days",
        },
    ]


def test_it_prints_an_empty_json_list_when_nothing_is_open(pilot):
    FlagFactory(pilot=pilot, resolved_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))

    assert json.loads(list_flags("--json")) == []


def test_it_prints_a_table_without_json(flagged_portfolio):
    lines = list_flags().splitlines()

    assert lines[0].split() == ["pilot", "kind", "subject", "severity", "detail"]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["alpha", "kill_criterion_met"],
        ["alpha", "no_baseline"],
        ["alpha", "no_baseline"],
        ["invoice-matching", "no_owner"],
        ["invoice-matching", "stale"],
    ]
    # Aligned: every detail starts in the same column.
    assert (
        len(
            {
                line.index(detail)
                for line, detail in zip(lines[1:], ["Kill", "Accuracy", "Speed", "No", "No"], strict=True)
            }
        )
        == 1
    )


def test_it_says_so_when_no_flag_is_open(db):
    assert list_flags() == "No open flags.\n"
