"""`manage.py export_portfolio [-o FILE]`: the whole portfolio, in a form that imports back as it was."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from gates.models import Attestation, GateCriterion, GateReview
from portfolio.exchange import export_document, import_document
from portfolio.exchange.validate import (
    CHECKIN_FIELDS,
    GATE_REVIEW_FIELDS,
    KILL_CRITERION_FIELDS,
    KPI_FIELDS,
    PERSON_FIELDS,
    PILOT_FIELDS,
    READING_FIELDS,
    ROOT_FIELDS,
)
from portfolio.models import BusinessUnit, CheckIn, Pilot
from tests.factories import (
    TODAY,
    AttestationFactory,
    CheckInFactory,
    GateReviewFactory,
    GateReviewItemFactory,
    KillCriterionFactory,
    KpiFactory,
    KpiReadingFactory,
    PilotFactory,
    UserFactory,
)
from tests.portfolio.exchange_samples import sample_document

User = get_user_model()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factory users hash a password each; PBKDF2 would make these tests take minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def export_text() -> str:
    stdout = io.StringIO()
    call_command("export_portfolio", stdout=stdout)
    return stdout.getvalue()


def import_text(text: str, tmp_path: Path) -> None:
    path = tmp_path / "round-trip.json"
    path.write_text(text, encoding="utf-8")
    call_command("import_portfolio", str(path), stdout=io.StringIO())


def empty_the_database() -> None:
    """Remove every pilot, business unit and user (gate criteria and role groups stay, as after migrate)."""
    GateReview.objects.all().delete()
    Attestation.objects.all().delete()
    CheckIn.objects.all().delete()
    Pilot.objects.all().delete()
    BusinessUnit.objects.all().delete()
    User.objects.all().delete()


def a_portfolio_built_by_hand() -> None:
    """Pilots made through the models (not an import), with the awkward cases the format must carry."""
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Owner")
    sponsor = UserFactory(username="sam", first_name="Sam", last_name="Sponsor", roles=["executive"])
    UserFactory(username="paula", first_name="Paula", last_name="Office", roles=["portfolio_office", "executive"])
    UserFactory(username="ines", first_name="Inès", last_name="", is_active=False)
    admin = UserFactory(username="root", first_name="", last_name="", is_superuser=True, is_staff=True)

    pilot = PilotFactory(
        key="invoice-matching",
        owner=owner,
        sponsor=sponsor,
        phase="pilot",
        budget=Decimal("1500.00"),
        spent=Decimal("99.95"),
        next_review_on=TODAY + dt.timedelta(days=14),
    )
    accuracy = KpiFactory(pilot=pilot, key="accuracy", baseline=0.5, target=0.875)
    KpiFactory(pilot=pilot, key="backlog", direction="decrease", baseline=120, target=30, baseline_on=None)
    for weeks_ago, value, source in [(3, 0.55, "api"), (2, 0.6, "form"), (1, 0.625, "csv"), (0, 1 / 3, "api")]:
        KpiReadingFactory(kpi=accuracy, measured_on=TODAY - dt.timedelta(weeks=weeks_ago), value=value, source=source)
    KillCriterionFactory(pilot=pilot, key="floor", kpi=accuracy, comparator="below", threshold=0.4, evaluate_on=TODAY)
    KillCriterionFactory(pilot=pilot, key="adoption", description="Nobody uses it — «stop».")
    CheckInFactory(pilot=pilot, on=TODAY, confidence="medium", note="")
    CheckInFactory(pilot=pilot, on=TODAY - dt.timedelta(days=40), confidence="high")
    AttestationFactory(pilot=pilot, criterion=GateCriterion.objects.get(code="monitoring"))
    AttestationFactory(pilot=pilot, criterion=GateCriterion.objects.get(code="data_pipeline"), attested_by=admin)
    review = GateReviewFactory(
        pilot=pilot, decided_on=TODAY - dt.timedelta(days=60), override_justification="Board asked for it."
    )
    GateReviewItemFactory(review=review)

    killed = PilotFactory(key="churn", owner=None, sponsor=None, status="killed", phase="poc", budget=None)
    GateReviewFactory(pilot=killed, decision="kill", decided_by=None, rationale="No data.")


# -- round trips ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_imported_sample_exports_as_it_was_written():
    document = sample_document()
    import_document(document)

    assert export_document() == document


@pytest.mark.django_db
def test_export_then_empty_then_import_gives_the_same_document(tmp_path: Path):
    a_portfolio_built_by_hand()
    before = export_text()

    empty_the_database()
    assert json.loads(export_text())["pilots"] == []
    import_text(before, tmp_path)

    assert export_text() == before


@pytest.mark.django_db
def test_the_sample_survives_two_round_trips(tmp_path: Path):
    import_document(sample_document())
    first = export_text()
    empty_the_database()
    import_text(first, tmp_path)
    second = export_text()
    empty_the_database()
    import_text(second, tmp_path)

    assert export_text() == first


@pytest.mark.django_db
def test_an_export_imported_over_itself_changes_nothing(tmp_path: Path):
    a_portfolio_built_by_hand()
    before = export_text()

    import_text(before, tmp_path)

    assert export_text() == before
    assert Pilot.objects.get(key="invoice-matching").version == 1


# -- what it looks like ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_object_has_its_keys_in_the_documented_order():
    a_portfolio_built_by_hand()

    document = export_document()

    assert tuple(document) == ROOT_FIELDS
    assert {tuple(person) for person in document["people"]} == {PERSON_FIELDS}
    pilot = next(p for p in document["pilots"] if p["key"] == "invoice-matching")
    assert tuple(pilot) == PILOT_FIELDS
    assert tuple(pilot["kpis"][0]) == KPI_FIELDS
    assert tuple(pilot["kpis"][0]["readings"][0]) == READING_FIELDS
    assert tuple(pilot["kill_criteria"][0]) == KILL_CRITERION_FIELDS
    assert tuple(pilot["checkins"][0]) == CHECKIN_FIELDS
    assert tuple(pilot["attestations"][0]) == ("criterion", "by", "on", "evidence")
    assert tuple(pilot["gate_reviews"][0]) == GATE_REVIEW_FIELDS


@pytest.mark.django_db
def test_lists_are_in_a_stable_order():
    a_portfolio_built_by_hand()

    document = export_document()

    assert [p["key"] for p in document["pilots"]] == ["churn", "invoice-matching"]
    assert [p["username"] for p in document["people"]] == ["ines", "olivia", "paula", "root", "sam"]
    pilot = document["pilots"][1]
    assert [k["key"] for k in pilot["kpis"]] == ["accuracy", "backlog"]
    assert [r["on"] for r in pilot["kpis"][0]["readings"]] == sorted(r["on"] for r in pilot["kpis"][0]["readings"])
    assert [c["key"] for c in pilot["kill_criteria"]] == ["adoption", "floor"]
    assert [c["on"] for c in pilot["checkins"]] == [(TODAY - dt.timedelta(days=40)).isoformat(), TODAY.isoformat()]
    assert [a["criterion"] for a in pilot["attestations"]] == ["data_pipeline", "monitoring"]


@pytest.mark.django_db
def test_values_have_their_json_types():
    a_portfolio_built_by_hand()

    pilots = {p["key"]: p for p in export_document()["pilots"]}

    pilot = pilots["invoice-matching"]
    assert pilot["budget"] == 1500 and isinstance(pilot["budget"], int)
    assert pilot["spent"] == 99.95
    assert pilots["churn"]["budget"] is None
    assert pilot["kpis"][1]["baseline"] == 120.0 and isinstance(pilot["kpis"][1]["baseline"], float)
    assert pilot["kpis"][0]["readings"][-1]["value"] == 1 / 3
    assert pilot["kill_criteria"][1] == {
        "key": "floor",
        "description": "Stop if accuracy stays below 40% after three months.",
        "kpi": "accuracy",
        "comparator": "below",
        "threshold": 0.4,
        "evaluate_on": TODAY.isoformat(),
    }
    assert pilot["kill_criteria"][0]["kpi"] is None
    assert pilot["gate_reviews"][0]["override"] == "Board asked for it."
    assert pilots["churn"]["gate_reviews"][0]["by"] is None
    assert pilots["churn"]["gate_reviews"][0]["override"] is None


@pytest.mark.django_db
def test_people_carry_their_name_activity_and_roles():
    a_portfolio_built_by_hand()

    people = {p["username"]: p for p in export_document()["people"]}

    assert people["paula"] == {
        "username": "paula",
        "email": "paula@example.com",
        "name": "Paula Office",
        "active": True,
        "roles": ["executive", "portfolio_office"],
    }
    assert (people["ines"]["name"], people["ines"]["active"]) == ("Inès", False)


@pytest.mark.django_db
def test_superusers_are_left_out_unless_the_portfolio_names_them():
    UserFactory(username="admin", is_superuser=True)
    UserFactory(username="olivia")

    assert [p["username"] for p in export_document()["people"]] == ["olivia"]

    AttestationFactory(attested_by=User.objects.get(username="admin"))

    assert "admin" in [p["username"] for p in export_document()["people"]]


# -- the command ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_prints_indented_utf8_json_with_a_trailing_newline():
    import_document(sample_document())

    text = export_text()

    assert text.endswith("}\n")
    assert text.startswith('{\n  "format": "pilot-portfolio/v1",\n  "people": [\n    {\n      "username": "dave"')
    assert '"name": "Zoë van der Berg"' in text
    assert json.loads(text) == sample_document()


@pytest.mark.django_db
def test_dash_o_writes_the_same_document_to_a_file(tmp_path: Path):
    import_document(sample_document())
    path = tmp_path / "portfolio.json"
    stdout, stderr = io.StringIO(), io.StringIO()

    call_command("export_portfolio", "-o", str(path), stdout=stdout, stderr=stderr)

    assert path.read_text(encoding="utf-8") == export_text()
    assert stdout.getvalue() == ""
    assert stderr.getvalue() == f"Exported 3 pilots and 6 people to {path}.\n"
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.django_db
def test_an_empty_portfolio_exports_an_empty_document():
    assert export_document() == {"format": "pilot-portfolio/v1", "people": [], "pilots": []}
