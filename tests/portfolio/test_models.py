"""The portfolio's rules that the database itself enforces, whoever writes (no full_clean on these paths)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from portfolio import roles
from portfolio.models import DigestDelivery, Flag, Kpi, KpiReading, Pilot
from tests.factories import (
    TODAY,
    CheckInFactory,
    DigestDeliveryFactory,
    FlagFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@contextmanager
def rejected_by_database(*names: str) -> Iterator[None]:
    """Expect an IntegrityError naming one of ``names``.

    PostgreSQL names the violated constraint; SQLite names a CHECK constraint or an
    expression index, but lists the columns for a plain unique constraint, so a
    unique rule passes both spellings. The atomic block keeps the test's transaction usable.
    """
    with pytest.raises(IntegrityError, match="|".join(re.escape(name) for name in names)), transaction.atomic():
        yield


def update(obj: models.Model, **values: Any) -> int:
    """Write straight to the table, bypassing the model and its validation."""
    return type(obj).objects.filter(pk=obj.pk).update(**values)


def measurable_kill_criterion(**kwargs: Any) -> Any:
    kpi = KpiFactory()
    return KillCriterionFactory(pilot=kpi.pilot, kpi=kpi, comparator="below", threshold=40.0, **kwargs)


def test_the_migrations_created_both_role_groups():
    assert set(Group.objects.values_list("name", flat=True)) >= {roles.EXECUTIVES, roles.PORTFOLIO_OFFICE}


# Pilots


def test_a_pilot_key_is_unique():
    PilotFactory(key="invoice-matching")
    with rejected_by_database("portfolio_pilot.key", "portfolio_pilot_key"):
        PilotFactory(key="invoice-matching")
    assert Pilot.objects.filter(key="invoice-matching").count() == 1


def test_a_pilot_cannot_enter_its_phase_before_it_started():
    pilot = PilotFactory(started_on=TODAY, phase_entered_on=TODAY)
    with rejected_by_database("portfolio_pilot_phase_entered_after_start"):
        update(pilot, phase_entered_on=TODAY - dt.timedelta(days=1))


def test_a_pilot_cannot_be_created_entering_its_phase_before_it_started():
    with rejected_by_database("portfolio_pilot_phase_entered_after_start"):
        PilotFactory(started_on=TODAY, phase_entered_on=TODAY - dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("field", "constraint"),
    [("budget", "portfolio_pilot_budget_not_negative"), ("spent", "portfolio_pilot_spent_not_negative")],
)
def test_a_pilot_cannot_have_a_negative_amount_of_money(field: str, constraint: str):
    pilot = PilotFactory(**{field: Decimal("0.00")})
    with rejected_by_database(constraint):
        update(pilot, **{field: Decimal("-0.01")})


# KPIs


def test_a_kpi_key_is_unique_within_its_pilot():
    kpi = KpiFactory(key="match-rate")
    with rejected_by_database("portfolio_kpi_key_unique_per_pilot", "portfolio_kpi.pilot_id, portfolio_kpi.key"):
        KpiFactory(pilot=kpi.pilot, key="match-rate")


def test_two_pilots_may_use_the_same_kpi_key():
    KpiFactory(key="match-rate")
    KpiFactory(key="match-rate")
    assert Kpi.objects.filter(key="match-rate").count() == 2


@pytest.mark.parametrize(
    ("direction", "baseline", "target"),
    [
        pytest.param("increase", 50.0, 50.0, id="increase, target equal to baseline"),
        pytest.param("increase", 50.0, 20.0, id="increase, target below baseline"),
        pytest.param("decrease", 50.0, 50.0, id="decrease, target equal to baseline"),
        pytest.param("decrease", 50.0, 80.0, id="decrease, target above baseline"),
    ],
)
def test_a_kpi_target_must_lie_on_the_better_side_of_its_baseline(direction: str, baseline: float, target: float):
    with rejected_by_database("portfolio_kpi_target_better_than_baseline"):
        KpiFactory(direction=direction, baseline=baseline, target=target)


@pytest.mark.parametrize(
    ("direction", "baseline", "target"),
    [
        pytest.param("increase", 50.0, 50.5, id="increase, target above baseline"),
        pytest.param("decrease", 50.0, 49.5, id="decrease, target below baseline"),
        pytest.param("increase", None, 10.0, id="increase, no baseline yet"),
        pytest.param("decrease", None, 10.0, id="decrease, no baseline yet"),
    ],
)
def test_a_kpi_target_on_the_better_side_or_without_baseline_is_accepted(
    direction: str, baseline: float | None, target: float
):
    kpi = KpiFactory(direction=direction, baseline=baseline, target=target)
    assert Kpi.objects.filter(pk=kpi.pk, target=target).exists()


def test_moving_a_kpi_target_behind_its_baseline_is_refused():
    kpi = KpiFactory(direction="increase", baseline=50.0, target=80.0)
    with rejected_by_database("portfolio_kpi_target_better_than_baseline"):
        update(kpi, target=40.0)


def test_flipping_a_kpi_direction_without_moving_its_target_is_refused():
    kpi = KpiFactory(direction="increase", baseline=50.0, target=80.0)
    with rejected_by_database("portfolio_kpi_target_better_than_baseline"):
        update(kpi, direction="decrease")


# Readings

READING_UNIQUE = (
    "portfolio_reading_one_per_kpi_per_date",
    "portfolio_kpireading.kpi_id, portfolio_kpireading.measured_on",
)


def test_a_kpi_has_one_reading_per_date():
    reading = KpiReadingFactory(measured_on=TODAY)
    with rejected_by_database(*READING_UNIQUE):
        KpiReadingFactory(kpi=reading.kpi, measured_on=TODAY, value=70.0)
    assert KpiReading.objects.get(kpi=reading.kpi).value == reading.value


def test_a_bulk_load_with_two_readings_for_one_date_is_refused_whole():
    kpi = KpiFactory()
    rows = [KpiReading(kpi=kpi, measured_on=TODAY, value=value) for value in (60.0, 61.0)]
    with rejected_by_database(*READING_UNIQUE):
        KpiReading.objects.bulk_create(rows)
    assert not KpiReading.objects.filter(kpi=kpi).exists()


def test_two_kpis_may_have_a_reading_on_the_same_date():
    reading = KpiReadingFactory(measured_on=TODAY)
    KpiReadingFactory(kpi=KpiFactory(pilot=reading.kpi.pilot), measured_on=TODAY)
    assert KpiReading.objects.filter(measured_on=TODAY).count() == 2


# Kill criteria


def test_a_kill_criterion_key_is_unique_within_its_pilot():
    criterion = KillCriterionFactory(key="accuracy-floor")
    with rejected_by_database(
        "portfolio_killcriterion_key_unique_per_pilot",
        "portfolio_killcriterion.pilot_id, portfolio_killcriterion.key",
    ):
        KillCriterionFactory(pilot=criterion.pilot, key="accuracy-floor")


@pytest.mark.parametrize(
    "missing",
    [
        pytest.param(("comparator", "threshold"), id="only a KPI"),
        pytest.param(("kpi", "threshold"), id="only a comparator"),
        pytest.param(("kpi", "comparator"), id="only a threshold"),
        pytest.param(("threshold",), id="no threshold"),
        pytest.param(("comparator",), id="no comparator"),
        pytest.param(("kpi",), id="no KPI"),
    ],
)
def test_a_measurable_kill_criterion_must_be_complete(missing: tuple[str, ...]):
    kpi = KpiFactory()
    condition: dict[str, Any] = {"kpi": kpi, "comparator": "below", "threshold": 40.0}
    for field in missing:
        condition[field] = None
    with rejected_by_database("portfolio_killcriterion_condition_complete"):
        KillCriterionFactory(pilot=kpi.pilot, **condition)


def test_a_kill_criterion_is_either_a_description_alone_or_a_full_condition():
    plain = KillCriterionFactory()
    measurable = measurable_kill_criterion(evaluate_on=TODAY)
    assert not plain.is_measurable
    assert measurable.is_measurable


# Flags

OPEN_FLAG_UNIQUE = ("portfolio_flag_one_open_per_subject",)


def test_a_pilot_has_one_open_flag_of_a_kind_without_subject():
    flag = FlagFactory(kind="stale")
    with rejected_by_database(*OPEN_FLAG_UNIQUE):
        FlagFactory(pilot=flag.pilot, kind="stale")


def test_a_pilot_has_one_open_flag_of_a_kind_per_kpi():
    kpi = KpiFactory()
    FlagFactory(pilot=kpi.pilot, kind="drifting", kpi=kpi)
    with rejected_by_database(*OPEN_FLAG_UNIQUE):
        FlagFactory(pilot=kpi.pilot, kind="drifting", kpi=kpi)


def test_a_pilot_has_one_open_flag_of_a_kind_per_kill_criterion():
    criterion = measurable_kill_criterion()
    FlagFactory(pilot=criterion.pilot, kind="kill_criterion_met", kill_criterion=criterion, severity="critical")
    with rejected_by_database(*OPEN_FLAG_UNIQUE):
        FlagFactory(pilot=criterion.pilot, kind="kill_criterion_met", kill_criterion=criterion, severity="critical")


def test_two_scans_raising_the_same_flag_at_once_create_one():
    pilot = PilotFactory()
    rows = [Flag(pilot=pilot, kind="no_kpi", severity="warning", detail="No KPI.") for _ in range(2)]
    with rejected_by_database(*OPEN_FLAG_UNIQUE):
        Flag.objects.bulk_create(rows)
    assert not Flag.objects.filter(pilot=pilot).exists()


def test_open_flags_of_other_kinds_or_subjects_live_side_by_side():
    pilot = PilotFactory()
    first, second = KpiFactory(pilot=pilot), KpiFactory(pilot=pilot)
    FlagFactory(pilot=pilot, kind="stale")
    FlagFactory(pilot=pilot, kind="no_kill_criteria")
    FlagFactory(pilot=pilot, kind="drifting", kpi=first)
    FlagFactory(pilot=pilot, kind="drifting", kpi=second)
    another_pilots = FlagFactory(kind="stale")
    assert Flag.objects.filter(pilot=pilot, resolved_at__isnull=True).count() == 4
    assert another_pilots.is_open


def test_a_resolved_flag_does_not_block_a_new_open_one():
    flag = FlagFactory(kind="stale", resolved_at=timezone.now())
    FlagFactory(pilot=flag.pilot, kind="stale", resolved_at=timezone.now())
    FlagFactory(pilot=flag.pilot, kind="stale")
    assert Flag.objects.filter(pilot=flag.pilot, kind="stale").count() == 3


def test_reopening_a_resolved_flag_beside_an_open_one_is_refused():
    resolved = FlagFactory(kind="stale", resolved_at=timezone.now())
    FlagFactory(pilot=resolved.pilot, kind="stale")
    with rejected_by_database(*OPEN_FLAG_UNIQUE):
        update(resolved, resolved_at=None)


def test_a_flag_is_about_a_kpi_or_a_kill_criterion_not_both():
    criterion = measurable_kill_criterion()
    with rejected_by_database("portfolio_flag_one_subject"):
        FlagFactory(pilot=criterion.pilot, kind="drifting", kpi=criterion.kpi, kill_criterion=criterion)


# Digests

DIGEST_UNIQUE = (
    "portfolio_digest_once_per_week",
    "portfolio_digestdelivery.recipient_id, portfolio_digestdelivery.kind, portfolio_digestdelivery.period",
)


def test_a_recipient_gets_one_digest_of_a_kind_per_week():
    delivery = DigestDeliveryFactory(kind="owner", period="2026-W47")
    with rejected_by_database(*DIGEST_UNIQUE):
        DigestDeliveryFactory(recipient=delivery.recipient, kind="owner", period="2026-W47")


def test_a_recipient_may_get_another_kind_or_another_week():
    delivery = DigestDeliveryFactory(kind="owner", period="2026-W47")
    DigestDeliveryFactory(recipient=delivery.recipient, kind="executive", period="2026-W47")
    DigestDeliveryFactory(recipient=delivery.recipient, kind="owner", period="2026-W48")
    assert DigestDelivery.objects.filter(recipient=delivery.recipient).count() == 3


# Every value fits the column (max_length 8), so only the check can refuse it.
@pytest.mark.parametrize("period", ["2026-47", "2026W47", "26-W47", "2026-w47", "2026-W4", "2026-Wab", ""])
def test_a_digest_period_must_be_an_iso_week(period: str):
    with rejected_by_database("portfolio_digest_period_is_iso_week"):
        DigestDeliveryFactory(period=period)


def test_an_iso_week_is_accepted_as_a_digest_period():
    assert DigestDeliveryFactory(period="2027-W01").period == "2027-W01"


# Choices: a value outside the choices is refused by a check constraint.


@pytest.mark.parametrize(
    ("make", "field", "constraint"),
    [
        pytest.param(PilotFactory, "phase", "portfolio_pilot_phase_valid", id="pilot phase"),
        pytest.param(PilotFactory, "status", "portfolio_pilot_status_valid", id="pilot status"),
        pytest.param(KpiFactory, "direction", "portfolio_kpi_direction_valid", id="kpi direction"),
        pytest.param(KpiReadingFactory, "source", "portfolio_kpireading_source_valid", id="reading source"),
        pytest.param(
            measurable_kill_criterion, "comparator", "portfolio_killcriterion_comparator_valid", id="comparator"
        ),
        pytest.param(CheckInFactory, "confidence", "portfolio_checkin_confidence_valid", id="check-in confidence"),
        pytest.param(FlagFactory, "severity", "portfolio_flag_severity_valid", id="flag severity"),
        pytest.param(FlagFactory, "kind", "portfolio_flag_kind_valid", id="flag kind"),
        pytest.param(DigestDeliveryFactory, "kind", "portfolio_digestdelivery_kind_valid", id="digest kind"),
    ],
)
def test_a_value_outside_the_choices_is_refused(make: Callable[[], models.Model], field: str, constraint: str):
    obj = make()
    with rejected_by_database(constraint):
        update(obj, **{field: "bogus"})
    obj.refresh_from_db()
    assert getattr(obj, field) != "bogus"
