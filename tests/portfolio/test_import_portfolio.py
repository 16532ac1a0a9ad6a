"""`manage.py import_portfolio FILE`: all of the document or, on any error, nothing."""

from __future__ import annotations

import copy
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command, execute_from_command_line
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gates.models import Attestation, GateReview, GateReviewItem
from portfolio.exchange import ImportRejected, export_document, import_document
from portfolio.models import CheckIn, KillCriterion, Kpi, KpiReading, Pilot
from tests.factories import GateReviewItemFactory
from tests.portfolio.exchange_samples import (
    FORMAT,
    day,
    minimal_pilot,
    person,
    sample_document,
    weekly_readings,
)

User = get_user_model()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factory users hash a password each; PBKDF2 would make these tests take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(path: Path | str) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_portfolio", str(path), stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.fixture
def write(tmp_path: Path):
    def write(document: Any, name: str = "portfolio.json") -> Path:
        path = tmp_path / name
        path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
        return path

    return write


def pilot_of(document: dict[str, Any], key: str) -> dict[str, Any]:
    return next(pilot for pilot in document["pilots"] if pilot["key"] == key)


# -- a successful import --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_imports_a_document_and_prints_a_summary(write):
    stdout, stderr = run(write(sample_document()))

    assert stdout == "Imported 3 pilots (3 new, 0 updated), 4 KPIs, 72 readings, 6 people.\n"
    assert stderr == ""
    assert Pilot.objects.count() == 3
    assert Kpi.objects.count() == 4
    assert KpiReading.objects.count() == 72
    assert set(KpiReading.objects.values_list("source", flat=True)) == {"import"}
    assert KillCriterion.objects.count() == 3
    assert CheckIn.objects.count() == 3
    assert Attestation.objects.count() == 3
    assert GateReview.objects.count() == 5


@pytest.mark.django_db
def test_it_writes_what_the_document_says(write):
    run(write(sample_document()))

    pilot = Pilot.objects.select_related("business_unit", "owner", "sponsor").get(key="invoice-matching")
    assert (pilot.name, pilot.business_unit.name, pilot.phase, pilot.status) == (
        "Invoice matching",
        "Finance",
        "pilot",
        "active",
    )
    assert (pilot.owner.username, pilot.sponsor.username) == ("olivia", "sam")
    assert str(pilot.budget) == "120000.00"
    assert str(pilot.spent) == "45250.50"
    criterion = pilot.kill_criteria.get(key="accuracy-floor")
    assert (criterion.kpi.key, criterion.comparator, criterion.threshold) == ("match-rate", "below", 65.0)
    review = GateReview.objects.get(pilot__key="ticket-triage", from_phase="pilot")
    assert review.decided_by.username == "erin"
    assert review.override_justification.startswith("Governance review booked")


@pytest.mark.django_db
def test_imported_gate_reviews_have_no_snapshot(write):
    run(write(sample_document()))

    assert not GateReviewItem.objects.exists()


@pytest.mark.django_db
def test_it_reads_standard_input(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(sample_document())))

    stdout, _ = run("-")

    assert stdout.startswith("Imported 3 pilots (3 new, 0 updated)")
    assert Pilot.objects.count() == 3


@pytest.mark.django_db
def test_it_counts_thousands_with_separators():
    document = {
        "format": FORMAT,
        "pilots": [minimal_pilot(kpis=[{"key": "k", "name": "K", "direction": "increase", "target": 1.0}])],
    }
    document["pilots"][0]["kpis"][0]["readings"] = weekly_readings(weeks=1200, first=0.0, step=0.0)

    assert str(import_document(document)) == "Imported 1 pilot (1 new, 0 updated), 1 KPI, 1,200 readings, 0 people."


# -- rejection ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rejected_import_lists_every_error_and_writes_nothing(write):
    run(write(sample_document()))
    before = export_document()
    users_before = User.objects.count()
    document = sample_document()
    # Valid changes everywhere (a new person, a new pilot, an edited pilot) ...
    document["people"].append(person("newcomer", "New Comer"))
    document["pilots"].append(minimal_pilot("brand-new", owner="newcomer"))
    pilot_of(document, "invoice-matching")["name"] = "Renamed"
    pilot_of(document, "invoice-matching")["kpis"][0]["readings"] = []
    # ... and two mistakes.
    pilot_of(document, "ticket-triage")["kpis"][0]["target"] = "ten"
    pilot_of(document, "churn-prediction")["owner"] = "bob"

    stderr = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_portfolio", str(write(document)), stdout=io.StringIO(), stderr=stderr)

    assert str(raised.value) == "Import rejected: 2 errors; nothing was written."
    assert stderr.getvalue().splitlines() == [
        "pilots[0].owner: unknown user 'bob'",
        "pilots[2].kpis[0].target: must be a number",
    ]
    assert export_document() == before
    assert User.objects.count() == users_before


@pytest.mark.django_db
def test_a_rejected_import_exits_non_zero(write, monkeypatch, capsys):
    # The command-line entry point closes connections when it is done; the test's
    # transaction has to stay open for the assertions after it.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    document = {"format": FORMAT, "pilots": [minimal_pilot(phase="beta")]}

    with pytest.raises(SystemExit) as raised:
        execute_from_command_line(["manage.py", "import_portfolio", str(write(document))])

    assert raised.value.code != 0
    err = capsys.readouterr().err
    assert "pilots[0].phase: must be one of poc, pilot, production, scaled (got 'beta')" in err
    assert "Import rejected: 1 error; nothing was written." in err
    assert not Pilot.objects.exists()


@pytest.mark.django_db
def test_import_document_raises_before_writing_anything():
    document = {"format": FORMAT, "people": [person("bob", "Bob")], "pilots": [minimal_pilot(status="paused")]}

    with pytest.raises(ImportRejected) as raised:
        import_document(document)

    assert raised.value.errors == ["pilots[0].status: must be one of active, on_hold, killed (got 'paused')"]
    assert not User.objects.filter(username="bob").exists()


@pytest.mark.django_db
def test_invalid_json_is_reported_on_one_line_with_its_position(write):
    path = write('{"format": "pilot-portfolio/v1",\n  "pilots": [,]}')

    with pytest.raises(CommandError) as raised:
        run(path)

    assert str(raised.value) == f"{path}: not valid JSON: Expecting value at line 2, column 14"


@pytest.mark.django_db
def test_a_document_that_is_not_an_object_is_rejected(write):
    with pytest.raises(CommandError, match=r"Import rejected: 1 error; nothing was written\."):
        run(write("[]"))


@pytest.mark.django_db
def test_a_missing_file_is_reported_on_one_line(tmp_path: Path):
    path = tmp_path / "nowhere.json"

    with pytest.raises(CommandError) as raised:
        run(path)

    assert str(raised.value) == f"{path}: no such file"


# -- updating what exists -------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_updates_an_existing_pilot_to_match_the_document(write):
    run(write(sample_document()))
    document = sample_document()
    pilot = pilot_of(document, "invoice-matching")
    pilot["name"] = "Invoice matching (EMEA)"
    pilot["spent"] = 61000
    del pilot["kpis"][0]  # cycle-time goes, with its readings
    match_rate = pilot["kpis"][0]
    match_rate["target"] = 92.5
    match_rate["readings"][-1]["value"] = 99.0  # changed
    del match_rate["readings"][0]  # removed
    match_rate["readings"].append({"on": day(-7), "value": 91.0, "note": "Projected"})  # added
    pilot["kill_criteria"] = [dict(pilot["kill_criteria"][0], threshold=60.0)]
    pilot["checkins"] = [{"on": day(1), "sponsor": "sam", "confidence": "low", "note": "Worried."}]

    stdout, _ = run(write(document))

    assert stdout == "Imported 3 pilots (0 new, 3 updated), 3 KPIs, 64 readings, 6 people.\n"
    saved = Pilot.objects.get(key="invoice-matching")
    assert saved.name == "Invoice matching (EMEA)"
    assert saved.version == 2
    assert list(saved.kpis.values_list("key", flat=True)) == ["match-rate"]
    assert saved.kpis.get().target == 92.5
    assert list(saved.kill_criteria.values_list("key", "threshold")) == [("accuracy-floor", 60.0)]
    assert list(saved.checkins.values_list("confidence", flat=True)) == ["low"]
    assert pilot_of(export_document(), "invoice-matching") == pilot
    assert Pilot.objects.get(key="ticket-triage").version == 1


@pytest.mark.django_db
def test_an_unchanged_import_changes_nothing(write):
    path = write(sample_document())
    run(path)
    review_ids = set(GateReview.objects.values_list("id", flat=True))
    checkin_ids = set(CheckIn.objects.values_list("id", flat=True))
    attestation_ids = set(Attestation.objects.values_list("id", flat=True))
    history = (Pilot.history.count(), Kpi.history.count(), KpiReading.history.count(), KillCriterion.history.count())

    run(path)

    assert set(Pilot.objects.values_list("version", flat=True)) == {1}
    assert set(GateReview.objects.values_list("id", flat=True)) == review_ids
    assert set(CheckIn.objects.values_list("id", flat=True)) == checkin_ids
    assert set(Attestation.objects.values_list("id", flat=True)) == attestation_ids
    assert (Pilot.history.count(), Kpi.history.count(), KpiReading.history.count(), KillCriterion.history.count()) == (
        history
    )


@pytest.mark.django_db
def test_a_changed_attestation_or_check_in_is_replaced_and_the_unchanged_ones_kept():
    import_document(sample_document())
    pilot = Pilot.objects.get(key="invoice-matching")
    kept_attestation = pilot.attestations.get(criterion__code="monitoring").pk
    kept_checkin = pilot.checkins.get(confidence="medium").pk
    document = sample_document()
    pilot_of(document, "invoice-matching")["attestations"][0]["evidence"] = "Hourly extract."
    pilot_of(document, "invoice-matching")["checkins"][1]["note"] = "Well ahead of plan."

    import_document(document)

    attestations = dict(pilot.attestations.values_list("criterion__code", "id"))
    assert attestations["monitoring"] == kept_attestation
    assert pilot.attestations.get(pk=attestations["data_pipeline"]).evidence == "Hourly extract."
    checkins = dict(pilot.checkins.values_list("confidence", "id"))
    assert checkins["medium"] == kept_checkin
    assert pilot.checkins.get(pk=checkins["high"]).note == "Well ahead of plan."
    assert Attestation.objects.filter(pilot=pilot).count() == 2


@pytest.mark.django_db
def test_a_gate_review_still_in_the_document_keeps_its_snapshot(write):
    run(write(sample_document()))
    review = GateReview.objects.get(pilot__key="invoice-matching")
    GateReviewItemFactory(review=review)

    run(write(sample_document()))

    assert GateReview.objects.get(pilot__key="invoice-matching").items.count() == 1


@pytest.mark.django_db
def test_gate_reviews_left_out_of_the_document_are_removed(write):
    run(write(sample_document()))
    document = sample_document()
    pilot_of(document, "ticket-triage")["gate_reviews"].pop()

    run(write(document))

    assert list(GateReview.objects.filter(pilot__key="ticket-triage").values_list("decision", flat=True)) == [
        "advance",
        "advance",
    ]


@pytest.mark.django_db
def test_changed_readings_take_the_imports_source_and_unchanged_ones_keep_theirs():
    import_document(sample_document())
    KpiReading.objects.update(source="api")
    document = sample_document()
    readings = pilot_of(document, "invoice-matching")["kpis"][1]["readings"]
    readings[0]["value"] = 1.0
    readings[1]["note"] = "Corrected by finance."

    import_document(document, source="csv")

    sources = dict(
        KpiReading.objects.filter(kpi__key="match-rate").values_list("measured_on", "source").order_by("measured_on")
    )
    assert list(sources.values()) == ["csv", "csv"] + ["api"] * 10


@pytest.mark.django_db
def test_a_kill_criterion_can_move_to_a_new_kpi_while_the_old_one_goes():
    import_document(sample_document())
    document = sample_document()
    pilot = pilot_of(document, "invoice-matching")
    pilot["kpis"] = [
        {"key": "straight-through", "name": "Straight-through rate", "direction": "increase", "target": 80.0}
    ]
    pilot["kill_criteria"][0].update(kpi="straight-through", threshold=20.0)

    import_document(document)

    criterion = KillCriterion.objects.get(pilot__key="invoice-matching", key="accuracy-floor")
    assert criterion.kpi.key == "straight-through"
    assert not Kpi.objects.filter(key="match-rate").exists()


@pytest.mark.django_db
def test_pilots_left_out_of_the_document_are_left_alone():
    import_document(sample_document())

    import_document({"format": FORMAT, "pilots": [minimal_pilot("another")]})

    assert Pilot.objects.count() == 4


# -- people ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_people_get_their_roles_and_no_usable_password():
    import_document(sample_document())

    olivia = User.objects.get(username="olivia")
    assert (olivia.first_name, olivia.last_name, olivia.email) == ("Olivia", "Owner", "olivia@example.com")
    assert not olivia.has_usable_password()
    assert list(User.objects.get(username="erin").groups.values_list("name", flat=True)) == ["Executives"]
    assert list(User.objects.get(username="paula").groups.values_list("name", flat=True)) == ["Portfolio office"]
    assert not User.objects.get(username="dave").is_active
    zoe = User.objects.get(username="zoe")
    assert (zoe.first_name, zoe.last_name) == ("Zoë", "van der Berg")


@pytest.mark.django_db
def test_existing_people_are_updated_and_keep_their_password(owner, executive):
    other_group = Group.objects.create(name="Finance analysts")
    executive.groups.add(other_group)
    people = [
        person("olivia", "Olivia Owen-Smith", roles=["portfolio_office"]),
        person("erin", "Erin Executive", roles=[], active=False),
    ]

    import_document({"format": FORMAT, "people": people, "pilots": []})

    owner.refresh_from_db()
    executive.refresh_from_db()
    assert owner.last_name == "Owen-Smith"
    assert owner.check_password("pass")
    assert list(owner.groups.values_list("name", flat=True)) == ["Portfolio office"]
    assert list(executive.groups.values_list("name", flat=True)) == ["Finance analysts"]
    assert not executive.is_active


@pytest.mark.django_db
def test_a_person_given_only_a_username_keeps_their_details(executive):
    import_document({"format": FORMAT, "people": [{"username": "erin"}], "pilots": []})

    executive.refresh_from_db()
    assert (executive.email, executive.get_full_name(), executive.is_active) == (
        "erin@example.com",
        "Erin Executive",
        True,
    )
    assert list(executive.groups.values_list("name", flat=True)) == ["Executives"]


@pytest.mark.django_db
def test_people_left_out_of_the_document_are_left_alone(outsider):
    import_document(sample_document())

    outsider.refresh_from_db()
    assert outsider.is_active
    assert outsider.check_password("pass")


@pytest.mark.django_db
def test_a_pilot_may_name_people_who_are_only_in_the_database(owner, sponsor):
    document = {"format": FORMAT, "pilots": [minimal_pilot(owner="olivia", sponsor="sam")]}

    import_document(document)

    assert Pilot.objects.get(key="minimal").owner == owner


# -- size -----------------------------------------------------------------------------------------


def large_document(*, pilots: int, kpis_per_pilot: int, weeks: int) -> dict[str, Any]:
    kpi = {"name": "Throughput", "unit": "items", "direction": "increase", "baseline": 10.0, "target": 20.0}
    return {
        "format": FORMAT,
        "people": [person("olivia", "Olivia Owner"), person("sam", "Sam Sponsor")],
        "pilots": [
            minimal_pilot(
                f"pilot-{number:03}",
                owner="olivia",
                sponsor="sam",
                kpis=[
                    dict(kpi, key=f"kpi-{index}", readings=weekly_readings(weeks=weeks, first=10.0, step=0.25))
                    for index in range(kpis_per_pilot)
                ],
            )
            for number in range(pilots)
        ],
    }


# Inserting readings and their history rows is batched by the database driver's
# parameter limit (about a hundred rows a statement on SQLite, a thousand on
# PostgreSQL); every other query must be a fixed handful, whatever the size.
BATCHED = (
    'INSERT INTO "portfolio_kpireading"',
    'INSERT INTO "portfolio_historicalkpireading"',
    'UPDATE "portfolio_kpireading"',
)


def query_counts(queries: list[dict[str, str]]) -> tuple[int, int]:
    batched = sum(1 for query in queries if query["sql"].startswith(BATCHED))
    return len(queries) - batched, batched


@pytest.mark.django_db
def test_a_year_of_weekly_readings_imports_in_seconds_with_few_queries():
    document = large_document(pilots=27, kpis_per_pilot=3, weeks=52)

    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        summary = import_document(document)
    elapsed = time.monotonic() - started

    assert summary.readings == 27 * 3 * 52 == KpiReading.objects.count() == 4212
    other, batched = query_counts(queries.captured_queries)
    assert other <= 30
    assert batched <= 4212 * 2 / 50
    assert elapsed < 20, f"took {elapsed:.1f}s"


@pytest.mark.django_db
def test_re_importing_a_large_document_costs_no_more_queries():
    document = large_document(pilots=27, kpis_per_pilot=3, weeks=52)
    import_document(document)
    changed = copy.deepcopy(document)
    for pilot in changed["pilots"]:
        pilot["kpis"][0]["readings"][-1]["value"] = 30.0

    with CaptureQueriesContext(connection) as queries:
        summary = import_document(changed)

    assert summary.pilots_updated == 27
    assert KpiReading.objects.filter(value=30.0).count() == 27
    other, batched = query_counts(queries.captured_queries)
    assert other <= 30
    assert batched <= 5
