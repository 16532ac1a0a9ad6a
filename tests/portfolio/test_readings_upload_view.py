"""Uploading a CSV of readings: a preview with every problem by line number, then one all-or-nothing commit."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from unittest import mock

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse

from portfolio.models import KpiReading, Source
from portfolio.reading_upload import MAX_ROWS
from portfolio.views.readings import UPLOAD_SALT
from tests.factories import TODAY, KpiFactory, KpiReadingFactory, PilotFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


@pytest.fixture
def kpis(pilot):
    return [
        KpiFactory(pilot=pilot, key="match-rate", name="Match rate"),
        KpiFactory(pilot=pilot, key="handling-time", name="Handling time", direction="decrease", baseline=9, target=3),
    ]


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def twenty_rows() -> str:
    lines = ["kpi,date,value,note"]
    for day in range(10):
        on = TODAY - dt.timedelta(days=day)
        lines += [f"match-rate,{on},{60 + day},week note", f'handling-time,{on},"1,{day:03d}.5",']
    return "\n".join(lines) + "\n"


def upload(client, pilot, text: str | bytes, name: str = "readings.csv"):
    content = text.encode() if isinstance(text, str) else text
    return client.post(reverse("readings_upload", args=[pilot.key]), {"file": SimpleUploadedFile(name, content)})


def payload_of(response) -> str:
    return re.search(r'name="payload" value="([^"]+)"', response.content.decode()).group(1)


def commit(client, pilot, payload: str):
    return client.post(reverse("readings_upload_commit", args=[pilot.key]), {"payload": payload})


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def test_the_upload_page_explains_the_format(signed_in, pilot, kpis):
    body = text(signed_in.get(reverse("readings_upload", args=[pilot.key])))

    assert "kpi,date,value,note" in body
    assert "match-rate, handling-time" in body
    assert 'type="file"' in body


def test_a_good_file_is_previewed_and_nothing_is_recorded_yet(signed_in, pilot, kpis):
    response = upload(signed_in, pilot, twenty_rows())

    body = text(response)
    assert response.status_code == 200
    assert "Nothing is recorded yet" in body
    assert "20 new readings" in body
    assert "Record 20 readings" in body
    assert "1,009.5" in body
    assert not KpiReading.objects.exists()


def test_committing_the_preview_records_every_reading_at_once(signed_in, pilot, kpis, owner):
    preview = upload(signed_in, pilot, twenty_rows())

    response = commit(signed_in, pilot, payload_of(preview))

    assert response.status_code == 302
    assert response["Location"] == f"/pilots/{pilot.key}/#kpis"
    assert KpiReading.objects.count() == 20
    assert set(KpiReading.objects.values_list("source", "recorded_by")) == {(Source.CSV, owner.pk)}
    assert KpiReading.objects.get(kpi=kpis[1], measured_on=TODAY - dt.timedelta(days=3)).value == 1003.5
    assert "Recorded the upload: 20 new." in text(signed_in.get(response["Location"]))


def test_every_problem_is_listed_with_its_line_and_nothing_can_be_committed(signed_in, pilot, kpis):
    other_pilots_kpi = KpiFactory(pilot=PilotFactory(owner=None), key="not-yours")
    text_in = "\n".join(
        [
            "kpi,date,value,note",
            "match-rate,2026-11-09,61.5,",
            f"{other_pilots_kpi.key},2026-11-09,1,",
            "match-rate,2026-11-17,1,",
            "handling-time,2026-11-09,abc,",
        ]
    )

    response = upload(signed_in, pilot, text_in)

    body = text(response)
    assert "3 problems: nothing was recorded" in body
    assert 'Line 3: "not-yours" is not a KPI of this pilot; its KPIs are handling-time, match-rate.' in body
    assert "Line 4: The date 17 Nov 2026 is in the future" in body
    assert 'Line 5: "abc" is not a number.' in body
    assert 'name="payload"' not in body
    assert not KpiReading.objects.exists()


def test_a_file_too_large_is_refused_with_the_limit(signed_in, pilot, kpis):
    response = upload(signed_in, pilot, "kpi,date,value\n" + "x" * 1_100_000)

    assert "The file is 1.1 MB; an upload may be at most 1 MB. Split it into smaller files." in text(response)


def test_a_file_with_too_many_rows_is_refused_with_the_limit(signed_in, pilot, kpis):
    rows = "".join("match-rate,2026-11-09,1\n" for _ in range(MAX_ROWS + 1))

    body = text(upload(signed_in, pilot, "kpi,date,value\n" + rows))

    assert "one upload takes at most 5,000. Split it into smaller files." in body


def test_a_file_not_in_utf8_is_refused(signed_in, pilot, kpis):
    body = text(upload(signed_in, pilot, "kpi,date,value,note\nmatch-rate,2026-11-09,1,caf\xe9\n".encode("latin-1")))

    assert "The file is not UTF-8 text." in body


def test_no_file_is_explained(signed_in, pilot, kpis):
    response = signed_in.post(reverse("readings_upload", args=[pilot.key]), {})

    assert "Choose a CSV file to upload." in text(response)


def test_a_tampered_preview_is_refused(signed_in, pilot, kpis):
    payload = payload_of(upload(signed_in, pilot, twenty_rows()))

    response = commit(signed_in, pilot, payload[:-2] + "xx")

    assert response.status_code == 400
    assert "Upload the file again." in text(response)
    assert not KpiReading.objects.exists()


def test_a_preview_of_one_pilot_cannot_be_committed_to_another(signed_in, pilot, kpis, owner):
    other = PilotFactory(owner=owner)
    KpiFactory(pilot=other, key="match-rate")
    payload = payload_of(upload(signed_in, pilot, "kpi,date,value\nmatch-rate,2026-11-09,1\n"))

    assert commit(signed_in, other, payload).status_code == 400
    assert not KpiReading.objects.exists()


def test_a_preview_is_only_good_for_the_person_who_made_it(signed_in, client, pilot, kpis, pmo):
    payload = payload_of(upload(signed_in, pilot, twenty_rows()))
    client.force_login(pmo)

    assert commit(client, pilot, payload).status_code == 400


def test_a_preview_expires_after_an_hour(signed_in, pilot, kpis, frozen_today):
    payload = payload_of(upload(signed_in, pilot, twenty_rows()))
    frozen_today.shift(dt.timedelta(hours=1, minutes=1))

    assert commit(signed_in, pilot, payload).status_code == 400


def test_readings_recorded_since_the_preview_make_it_ask_again(signed_in, pilot, kpis):
    payload = payload_of(upload(signed_in, pilot, twenty_rows()))
    KpiReadingFactory(kpi=kpis[0], measured_on=TODAY, value=1.0)

    response = commit(signed_in, pilot, payload)

    body = text(response)
    assert "Readings of this pilot changed since your preview." in body
    assert "Replaces 1" in body
    assert KpiReading.objects.count() == 1


def test_a_conflict_while_writing_saves_nothing_and_says_so(signed_in, pilot, kpis):
    payload = payload_of(upload(signed_in, pilot, twenty_rows()))

    with mock.patch("portfolio.services.bulk_create_with_history", side_effect=IntegrityError("duplicate")):
        response = commit(signed_in, pilot, payload)

    assert "nothing was saved" in text(response)
    assert not KpiReading.objects.exists()


def test_the_payload_is_signed_for_the_pilot_and_the_person(signed_in, pilot, kpis, owner):
    payload = signing.loads(payload_of(upload(signed_in, pilot, twenty_rows())), salt=UPLOAD_SALT)

    assert (payload["pilot"], payload["user"]) == (pilot.pk, owner.pk)


@pytest.mark.parametrize("who", ["outsider", "executive", "sponsor"])
def test_nobody_but_the_owner_and_the_office_may_upload(client, pilot, kpis, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("readings_upload", args=[pilot.key])).status_code == 403
    assert upload(client, pilot, twenty_rows()).status_code == 403
    assert commit(client, pilot, "anything").status_code == 403
