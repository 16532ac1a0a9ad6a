"""Pre-registration: goalposts edit freely before the first gate; after it every change is listed with its reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portfolio import services
from portfolio.exchange import import_document
from portfolio.models import Kpi, Phase, Pilot
from portfolio.preregistration import ReasonRequired
from portfolio.selectors import changed_after_approval, changed_after_approval_counts
from tests.factories import TODAY, GateReviewFactory, KillCriterionFactory, KpiFactory, PilotFactory, UserFactory
from tests.portfolio.exchange_samples import FORMAT, invoice_matching_pilot, people

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

NOON = dt.datetime.combine(TODAY, dt.time(12, 0), tzinfo=dt.UTC)


@contextmanager
def at(minutes: int) -> Iterator[None]:
    """Act at noon on TODAY plus ``minutes``, so history records have an order."""
    with time_machine.travel(NOON + dt.timedelta(minutes=minutes), tick=False):
        yield


def save(obj: object, who: object = None, reason: str | None = None, **values: object) -> None:
    for name, value in values.items():
        setattr(obj, name, value)
    obj._history_user = who
    if reason is not None:
        obj._change_reason = reason
    obj.save()


def approve(pilot: Pilot) -> None:
    save(pilot, phase=Phase.PILOT, phase_entered_on=TODAY)


@pytest.fixture
def kpi(pilot: Pilot) -> Kpi:
    with at(0):
        return KpiFactory(pilot=pilot, key="match-rate", name="Match rate", baseline=40.0, target=80.0)


def test_before_the_first_gate_goalposts_edit_freely_and_nothing_is_listed(pilot, kpi, owner):
    with at(1):
        save(kpi, owner, target=90.0)
    changes = changed_after_approval(pilot)
    assert (changes.frozen, changes.changes) == (False, [])
    assert changed_after_approval_counts() == {}


def test_after_the_first_gate_a_change_is_listed_with_who_when_old_new_and_why(pilot, kpi, owner):
    with at(1):
        save(kpi, owner, target=70.0)  # before approval: not listed
    with at(2):
        approve(pilot)
    with at(3):
        save(kpi, owner, "Finance re-based the target on the new volumes.", target=75.0, baseline=45.0)

    changes = changed_after_approval(pilot)

    assert changes.frozen
    assert changes.approved_at == NOON + dt.timedelta(minutes=2)
    [entry] = changes.changes
    assert (entry.at, entry.who, entry.subject, entry.action, entry.reason) == (
        NOON + dt.timedelta(minutes=3),
        owner,
        "KPI “Match rate”",
        "changed",
        "Finance re-based the target on the new volumes.",
    )
    assert [(c.label, c.old, c.new) for c in entry.changes] == [("Baseline", 40.0, 45.0), ("Target", 70.0, 75.0)]
    assert changed_after_approval_counts() == {pilot.pk: 1}


def test_the_approval_day_is_the_first_gates_recorded_advance(pilot, kpi):
    GateReviewFactory(pilot=pilot, decided_on=TODAY - dt.timedelta(days=40))
    with at(2):
        approve(pilot)
    assert changed_after_approval(pilot).approved_on == TODAY - dt.timedelta(days=40)


def test_changing_a_kpis_name_or_unit_is_not_moving_a_goalpost(pilot, kpi, owner):
    with at(2):
        approve(pilot)
    with at(3):
        save(kpi, owner, name="Auto-match rate", unit="percent")
    assert changed_after_approval(pilot).changes == []


def test_kill_criteria_changes_and_deletions_are_listed_newest_first(pilot, kpi, owner):
    with at(0):
        criterion = KillCriterionFactory(pilot=pilot, key="floor", description="Stop below 50%.")
        other = KillCriterionFactory(pilot=pilot, key="adoption", description="Stop if nobody uses it.")
    with at(2):
        approve(pilot)
    with at(3):
        save(criterion, owner, "Tie it to the KPI.", kpi=kpi, comparator="below", threshold=50.0)
    with at(4):
        other._change_reason = "Adoption is measured by the KPI now."
        other.delete()

    entries = changed_after_approval(pilot).changes

    assert [(e.subject, e.action, e.reason) for e in entries] == [
        ("Kill criterion “adoption”", "deleted", "Adoption is measured by the KPI now."),
        ("Kill criterion “floor”", "changed", "Tie it to the KPI."),
    ]
    assert [(c.label, c.old, c.new) for c in entries[1].changes] == [
        ("KPI", None, "Match rate"),
        ("Comparator", None, "below"),
        ("Threshold", None, 50.0),
    ]


def test_a_change_without_a_reason_is_listed_all_the_same(pilot, kpi):
    with at(2):
        approve(pilot)
    with at(3):
        Kpi.objects.get(pk=kpi.pk).save()  # nothing changed: not listed
        save(Kpi.objects.get(pk=kpi.pk), target=85.0)
    [entry] = changed_after_approval(pilot).changes
    assert entry.reason == ""


def test_the_counts_take_the_same_queries_for_many_pilots_as_for_few():
    def pilots(count: int) -> list[int]:
        ids = []
        owner = UserFactory()
        for _ in range(count):
            with at(0):
                pilot = PilotFactory(owner=owner, sponsor=owner)
                kpi = KpiFactory(pilot=pilot)
            with at(1):
                approve(pilot)
            with at(2):
                save(kpi, reason="Moved.", target=95.0)
            ids.append(pilot.pk)
        return ids

    few, many = pilots(3), pilots(12)

    def queries(ids: list[int]) -> int:
        with CaptureQueriesContext(connection) as captured:
            counts = changed_after_approval_counts(ids)
        assert counts == dict.fromkeys(ids, 1)
        return len(captured.captured_queries)

    assert queries(few) == queries(few + many) == 3


def test_the_pilot_page_lists_the_changes_under_changed_after_approval(pilot, kpi, owner, outsider):
    with at(2):
        approve(pilot)
    with at(3):
        save(kpi, owner, "Finance re-based the target.", target=75.0)
    client = Client()
    client.force_login(outsider)
    page = client.get(pilot.get_absolute_url()).content.decode()
    section = page[page.index('id="approval-changes"') :]
    assert "KPI “Match rate”" in section
    assert "<del>80</del> → <ins>75</ins>" in section
    assert "Reason: Finance re-based the target." in section
    assert "Olivia Owner" in section


def test_the_pilot_page_says_goalposts_are_still_free_before_the_first_gate(pilot, outsider):
    client = Client()
    client.force_login(outsider)
    page = client.get(pilot.get_absolute_url()).content.decode()
    assert "may still change freely" in page


# -- goalposts added after approval ------------------------------------------------------------


def test_a_kpi_added_before_the_first_gate_is_not_listed(pilot, kpi, owner):
    with at(1):
        services.kpi_create(pilot=pilot, key="handling-time", name="Handling time", target=5.0, created_by=owner)
    with at(2):
        approve(pilot)
    assert changed_after_approval(pilot).changes == []
    assert changed_after_approval_counts() == {}


def test_a_kpi_added_after_the_first_gate_needs_a_reason_and_is_listed_with_what_it_set(pilot, kpi, owner):
    with at(2):
        approve(pilot)
    with at(3), pytest.raises(ReasonRequired):
        services.kpi_create(pilot=pilot, key="handling-time", name="Handling time", target=5.0, created_by=owner)
    with at(4):
        services.kpi_create(
            pilot=pilot,
            key="handling-time",
            name="Handling time",
            unit="min",
            direction="decrease",
            baseline=9.0,
            target=5.0,
            created_by=owner,
            reason="The clerks' time is what finance counts.",
        )

    [entry] = changed_after_approval(pilot).changes

    assert (entry.at, entry.who, entry.subject, entry.action, entry.reason) == (
        NOON + dt.timedelta(minutes=4),
        owner,
        "KPI “Handling time”",
        "added",
        "The clerks' time is what finance counts.",
    )
    assert [(c.label, c.old, c.new) for c in entry.changes] == [
        ("Direction", None, "Lower is better"),
        ("Baseline", None, 9.0),
        ("Target", None, 5.0),
    ]
    assert changed_after_approval_counts() == {pilot.pk: 1}


def test_a_kill_criterion_added_after_the_first_gate_is_listed_beside_the_changes(pilot, kpi, owner):
    with at(2):
        approve(pilot)
    with at(3):
        save(kpi, owner, "Re-based.", target=75.0)
    with at(4):
        services.kill_criterion_create(
            pilot=pilot,
            key="floor",
            description="Stop below 50%.",
            kpi=kpi,
            comparator="below",
            threshold=50.0,
            created_by=owner,
            reason="The board asked for a floor.",
        )

    entries = changed_after_approval(pilot).changes

    assert [(e.subject, e.action, e.reason) for e in entries] == [
        ("Kill criterion “floor”", "added", "The board asked for a floor."),
        ("KPI “Match rate”", "changed", "Re-based."),
    ]
    assert [(c.label, c.new) for c in entries[0].changes] == [
        ("Description", "Stop below 50%."),
        ("KPI", "Match rate"),
        ("Comparator", "below"),
        ("Threshold", 50.0),
    ]
    assert changed_after_approval_counts() == {pilot.pk: 2}


def test_goalposts_that_come_with_an_imported_approved_pilot_were_there_at_approval():
    document = {"format": FORMAT, "people": people(), "pilots": [invoice_matching_pilot()]}
    import_document(document)
    pilot = Pilot.objects.get(key="invoice-matching")

    assert changed_after_approval(pilot).changes == []
    assert changed_after_approval_counts() == {}


def test_a_goalpost_a_later_import_adds_to_an_approved_pilot_is_listed():
    document = {"format": FORMAT, "people": people(), "pilots": [invoice_matching_pilot()]}
    import_document(document)
    document["pilots"][0]["kill_criteria"].append(
        {"key": "cost-cap", "description": "Stop if it costs more than the clerks.", "kpi": None}
    )
    import_document(document)
    pilot = Pilot.objects.get(key="invoice-matching")

    [entry] = changed_after_approval(pilot).changes
    assert (entry.subject, entry.action, entry.reason) == (
        "Kill criterion “cost-cap”",
        "added",
        "Imported from a portfolio file",
    )


def test_the_pilot_page_lists_an_added_kpi_with_its_values_and_reason(pilot, kpi, owner, outsider):
    with at(2):
        approve(pilot)
    with at(3):
        services.kpi_create(
            pilot=pilot, key="nps", name="Clerk NPS", target=40.0, created_by=owner, reason="Adoption matters too."
        )
    client = Client()
    client.force_login(outsider)
    page = client.get(pilot.get_absolute_url()).content.decode()
    section = page[page.index('id="approval-changes"') : page.index("</section>", page.index('id="approval-changes"'))]
    assert "<strong>KPI “Clerk NPS”</strong> added" in section
    assert '<span class="changes__field">Target:</span> 40' in section
    assert "<del>" not in section
    assert "Reason: Adoption matters too." in section
