"""Recording a KPI reading in its row: htmx swaps the row, plain POST redirects, mistakes keep the input."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
from django.test import Client
from django.urls import reverse

from portfolio.models import Flag, FlagKind, KpiReading, Source
from portfolio.tasks import rescan_pilot
from tests.factories import TODAY, KpiFactory, KpiReadingFactory, PilotFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

NUMBER_HELP = 'Enter a number such as 12.5 (thousands may be separated by commas: "1,234.5").'


@pytest.fixture
def kpi(pilot):
    return KpiFactory(pilot=pilot, key="match-rate", name="Match rate", unit="%", baseline=50.0, target=80.0)


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def url(kpi) -> str:
    return reverse("kpi_reading", args=[kpi.pilot.key, kpi.key])


def data(kpi, *, on: str = "2026-11-16", value: str = "61.5", note: str = "", **extra: str) -> dict[str, str]:
    fields = {"measured_on": on, "value": value, "note": note, **extra}
    return {f"kpi-{kpi.pk}-{name}": text for name, text in fields.items()}


def post(client, kpi, htmx: bool = True, next: str = "", **fields):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url(kpi), {**data(kpi, **fields), "next": next}, headers=headers)


def focused_input(body: str) -> str:
    """The opening tag of the one input with autofocus."""
    tags = [chunk.split(">")[0] for chunk in body.split("<input")[1:]]
    focused = [tag for tag in tags if "autofocus" in tag]
    assert len(focused) == 1, focused
    return focused[0]


def text(response) -> str:
    return html_lib.unescape(response.content.decode())


def test_an_owner_records_a_reading_and_gets_the_updated_row(signed_in, kpi, owner):
    KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=7), value=58.0)

    response = post(signed_in, kpi, value="61.5", note="week 47")

    assert response.status_code == 200
    body = text(response)
    assert body.lstrip().startswith(f'<tbody id="kpi-{kpi.pk}"')
    assert "<html" not in body
    assert "61.5 %" in body
    assert "Recorded 61.5 % for Match rate on 16 Nov 2026." in body
    assert "trend--better" in body and "up from the previous reading, better" in body
    assert response["HX-Trigger"] == '{"readingRecorded": {"kpi": "match-rate"}}'
    reading = KpiReading.objects.get(kpi=kpi, measured_on=TODAY)
    assert (reading.value, reading.note, reading.source, reading.recorded_by) == (61.5, "week 47", Source.FORM, owner)


def test_the_fresh_form_after_a_reading_defaults_to_today(signed_in, kpi):
    body = text(post(signed_in, kpi, on="2026-11-09"))

    assert f'name="kpi-{kpi.pk}-measured_on" value="2026-11-16"' in body


def test_without_javascript_it_redirects_back_to_the_page_the_form_was_on(signed_in, kpi):
    response = post(signed_in, kpi, htmx=False, next="/me/")

    assert response.status_code == 302
    assert response["Location"] == f"/me/#kpi-{kpi.pk}"
    assert KpiReading.objects.filter(kpi=kpi).count() == 1


def test_it_never_redirects_off_the_site(signed_in, kpi):
    response = post(signed_in, kpi, htmx=False, next="https://evil.example/")

    assert response["Location"] == f"/pilots/{kpi.pilot.key}/#kpi-{kpi.pk}"


def test_thousands_separators_are_read(signed_in, kpi):
    post(signed_in, kpi, value="1,234.5")

    assert KpiReading.objects.get().value == 1234.5


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"value": ""}, "value", "A value is required. " + NUMBER_HELP),
        ({"value": "12,5"}, "value", '"12,5" is not a number. ' + NUMBER_HELP),
        ({"value": "about 60"}, "value", '"about 60" is not a number. ' + NUMBER_HELP),
        (
            {"on": "2026-11-17"},
            "measured_on",
            "The date 17 Nov 2026 is in the future; readings are of what was measured.",
        ),
        ({"on": "2026-10-16"}, "measured_on", "The date 16 Oct 2026 is before the pilot started (17 Oct 2026)."),
        ({"on": ""}, "measured_on", "Date is required. Enter the date as YYYY-MM-DD, such as 2026-11-16."),
        ({"on": "16/11/2026"}, "measured_on", "Enter the date as YYYY-MM-DD, such as 2026-11-16."),
    ],
)
def test_each_mistake_is_explained_beside_its_field_and_the_input_is_kept(signed_in, kpi, fields, field, message):
    response = post(signed_in, kpi, note="keep me", **fields)

    assert response.status_code == 200
    body = text(response)
    field_id = f"id_kpi-{kpi.pk}-{field}"
    assert f'<p class="field__error" id="{field_id}_error">{message}</p>' in body
    assert f'aria-describedby="{field_id}_error"' in body
    assert 'aria-invalid="true"' in body
    assert 'value="keep me"' in body
    assert f'id="{field_id}"' in focused_input(body)
    assert not KpiReading.objects.exists()


def test_the_first_invalid_field_takes_the_focus(signed_in, kpi):
    body = text(post(signed_in, kpi, on="2026-11-17", value="x"))

    assert f'id="id_kpi-{kpi.pk}-measured_on"' in focused_input(body)


def test_a_second_value_for_a_date_asks_to_confirm_and_shows_the_old_value(signed_in, kpi):
    KpiReadingFactory(kpi=kpi, measured_on=TODAY, value=55.0)

    response = post(signed_in, kpi, value="61.5")

    body = text(response)
    assert response.status_code == 200
    assert "Match rate already has a reading for 16 Nov 2026: 55 %." in body
    assert "Replace it with 61.5 %?" in body
    assert f'name="kpi-{kpi.pk}-replace" value="2026-11-16"' in body
    assert 'value="61.5"' in body
    assert ">Replace</button>" in body
    assert KpiReading.objects.get().value == 55.0


def test_confirming_replaces_the_reading_and_the_history_keeps_both(signed_in, kpi):
    KpiReadingFactory(kpi=kpi, measured_on=TODAY, value=55.0)

    response = post(signed_in, kpi, value="61.5", replace="2026-11-16")

    assert "Recorded 61.5 %" in text(response)
    reading = KpiReading.objects.get()
    assert reading.value == 61.5
    assert [h.value for h in reading.history.order_by("history_date", "history_id")] == [55.0, 61.5]


def test_a_confirmation_given_for_another_date_asks_again(signed_in, kpi):
    KpiReadingFactory(kpi=kpi, measured_on=TODAY, value=55.0)

    body = text(post(signed_in, kpi, value="61.5", replace="2026-11-15"))

    assert "already has a reading for 16 Nov 2026" in body
    assert KpiReading.objects.get().value == 55.0


def test_a_double_submit_records_one_reading(signed_in, kpi):
    first = post(signed_in, kpi, value="61.5")
    second = post(signed_in, kpi, value="61.5")

    assert first.status_code == second.status_code == 200
    assert "Recorded 61.5 %" in text(second)
    assert KpiReading.objects.count() == 1
    assert KpiReading.history.count() == 1


def test_the_row_shows_the_flags_re_evaluated_after_a_drifting_reading(
    signed_in, kpi, django_capture_on_commit_callbacks
):
    KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=7), value=48.0)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(signed_in, kpi, value="45")
    rescan_pilot(kpi.pilot_id)

    assert len(callbacks) == 1
    assert "Last two readings of Match rate (48 %, 45 %) are worse than its baseline of 50 %" in text(response)
    flag = Flag.objects.get(kind=FlagKind.DRIFTING, resolved_at__isnull=True)
    assert flag.kpi == kpi
    page = text(signed_in.get(kpi.pilot.get_absolute_url()))
    row = page.split(f'<tbody id="kpi-{kpi.pk}"')[1].split("</tbody>")[0]
    assert "Drifting" in row


def test_a_better_reading_clears_the_drift_in_the_row(signed_in, kpi):
    KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=14), value=48.0)
    KpiReadingFactory(kpi=kpi, measured_on=TODAY - dt.timedelta(days=7), value=45.0)
    rescan_pilot(kpi.pilot_id)
    assert Flag.objects.filter(kind=FlagKind.DRIFTING, resolved_at__isnull=True).exists()

    body = text(post(signed_in, kpi, value="70"))

    row = body.split("</th>")[0]
    assert "Drifting" not in row


def test_htmx_get_gives_the_row_and_a_plain_get_the_form_page(signed_in, kpi):
    row = signed_in.get(url(kpi), headers={"HX-Request": "true"})
    page = signed_in.get(url(kpi))

    assert text(row).lstrip().startswith(f'<tbody id="kpi-{kpi.pk}"')
    assert "<h1>Record a reading of Match rate</h1>" in text(page)
    assert row["Vary"] and "HX-Request" in row["Vary"]


def test_without_javascript_a_mistake_shows_the_form_page_with_the_input(signed_in, kpi):
    response = post(signed_in, kpi, htmx=False, value="lots")

    body = text(response)
    assert response.status_code == 200
    assert "<h1>Record a reading of Match rate</h1>" in body
    assert '"lots" is not a number.' in body
    assert 'value="lots"' in body


def test_the_portfolio_office_may_record_a_reading(client, kpi, pmo):
    client.force_login(pmo)

    assert post(client, kpi).status_code == 200
    assert KpiReading.objects.get().recorded_by == pmo


@pytest.mark.parametrize("who", ["outsider", "executive", "sponsor", "other_owner"])
def test_nobody_else_may_record_or_open_the_form(client, kpi, who, request):
    user = UserFactory(username="ben") if who == "other_owner" else request.getfixturevalue(who)
    if who == "other_owner":
        PilotFactory(owner=user)
    client.force_login(user)

    assert post(client, kpi).status_code == 403
    assert client.get(url(kpi), headers={"HX-Request": "true"}).status_code == 403
    assert not KpiReading.objects.exists()


def test_a_kpi_of_another_pilot_is_not_found_under_this_pilots_address(signed_in, kpi, owner):
    other = KpiFactory(pilot=PilotFactory(owner=owner), key="elsewhere")

    response = signed_in.post(reverse("kpi_reading", args=[kpi.pilot.key, other.key]), data(other))

    assert response.status_code == 404
    assert not KpiReading.objects.exists()


def test_recording_a_reading_takes_a_bounded_number_of_queries(signed_in, kpi, django_assert_max_num_queries):
    with django_assert_max_num_queries(30):
        post(signed_in, kpi)


def test_htmx_posts_carry_the_csrf_token_in_a_header_and_need_it(kpi, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    page = client.get(kpi.pilot.get_absolute_url()).content.decode()
    token = re.search(r"hx-headers='\{\"x-csrftoken\": \"([^\"]+)\"\}'", page).group(1)

    refused = client.post(url(kpi), data(kpi), headers={"HX-Request": "true"})
    accepted = client.post(url(kpi), data(kpi), headers={"HX-Request": "true", "X-CSRFToken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert KpiReading.objects.count() == 1
