"""Hostile user text is shown as text everywhere: pages, forms that echo input, digests, charts and the API.

Every piece of user text of ``hostile_world`` holds a script, an attribute break-out and
a template expression (``markup.payload``). Each page is read the way a browser's parser
reads it: the text must be there, as text, and nothing of it may have become a script,
an event handler or a ``javascript:`` link.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from portfolio.models import DigestDelivery
from tests.security.markup import payload, read, shown

# (who, address, the fields whose text it shows): where each piece of user text appears.
PAGES = [
    ("office", "/", {"pilot-name", "unit-name", "owner-name", "sponsor-name"}),
    ("executive", "/", {"pilot-name", "unit-name", "owner-name", "sponsor-name", "executive-name"}),
    ("office", "/pilots/", {"pilot-name", "killed-pilot-name", "unit-name", "owner-name", "sponsor-name", "kpi-name"}),
    (
        "office",
        "/pilots/invoice-matching/",
        {"pilot-name", "problem", "outcome", "unit-name", "owner-name", "sponsor-name", "kpi-name", "kpi-2-name"}
        | {"unit", "kill-criterion", "checkin-note", "rationale", "override"},
    ),
    ("owner", "/pilots/invoice-matching/", {"pilot-name", "kpi-name", "kpi-2-name", "unit"}),
    ("sponsor", "/pilots/invoice-matching/", {"pilot-name", "checkin-note"}),
    (
        "owner",
        "/pilots/invoice-matching/gate/",
        {"pilot-name", "criterion-label", "criterion-help", "evidence", "rationale", "override"},
    ),
    ("office", "/pilots/old-matching/", {"killed-pilot-name", "kill-rationale", "lessons"}),
    ("office", "/lessons/similar/?problem=Invoices+wait+for+manual+matching", {"killed-pilot-name", "lessons"}),
    ("owner", "/me/", {"pilot-name", "owner-name", "kpi-name", "kpi-2-name", "killed-pilot-name"}),
    ("sponsor", "/me/", {"pilot-name", "sponsor-name", "kpi-name"}),
    ("office", "/digests/", {"pilot-name", "owner-name", "sponsor-name", "executive-name"}),
    ("owner", "/settings/tokens/", {"token-name", "owner-name"}),
    ("office", "/settings/tokens/", {"token-name", "owner-name"}),
    ("office", "/settings/webhooks/", {"webhook-description"}),
    ("office", "/office/units/", {"unit-name"}),
    ("office", "/office/people/?q=oli", {"owner-name"}),
    ("office", "/pilots/invoice-matching/edit/", {"pilot-name", "problem", "outcome", "unit-name", "owner-name"}),
    ("owner", "/pilots/invoice-matching/kpis/match-rate/edit/", {"kpi-name", "unit"}),
    ("owner", "/pilots/invoice-matching/kill-criteria/floor/edit/", {"kill-criterion", "kpi-name"}),
    ("owner", "/pilots/invoice-matching/kpis/match-rate/readings/", {"pilot-name", "kpi-name"}),
]


def _browser(world: dict[str, Any], who: str) -> Client:
    client = Client()
    client.force_login(world["people"][who])
    return client


def _page_problems(html: str, where: str, expected: frozenset[str] | set[str] = frozenset()) -> list[str]:
    page = read(html)
    problems = [f"{where}: {danger}" for danger in page.dangers()]
    problems += [
        f"{where}: does not show the {tag} (so this check proves nothing)"
        for tag in sorted(expected)
        if not page.shows(tag)
    ]
    return problems


def test_pages_show_hostile_text_as_text_and_never_as_markup(hostile_world):
    problems = []
    for who, address, expected in PAGES:
        response = _browser(hostile_world, who).get(address)
        assert response.status_code == 200, f"{address} as {who}: {response.status_code}"
        problems += _page_problems(response.content.decode(), f"{address} as {who}", expected)
    assert not problems, "\n".join(problems)


def test_the_whole_name_reads_as_typed_and_no_template_expression_is_evaluated(hostile_world):
    page = read(_browser(hostile_world, "office").get("/pilots/invoice-matching/").content.decode())

    assert payload("pilot-name") in page.text
    assert payload("problem") in page.text
    assert "{{7*7}}" in page.text


def test_input_echoed_back_by_a_form_or_a_search_is_escaped(hostile_world):
    """Reflected text: a search, a filter, a form with an error, an upload preview, a ``next`` address."""
    kpi = hostile_world["kpi"]
    owner = _browser(hostile_world, "owner")
    office = _browser(hostile_world, "office")
    lines = io.StringIO()
    csv.writer(lines).writerows(
        [["kpi", "date", "value", "note"], ["match-rate", "2026-11-10", "51", payload("upload-note")]]
    )
    upload = io.BytesIO(lines.getvalue().encode())
    upload.name = "readings.csv"
    answers = {
        "search": (office.get("/pilots/", {"q": payload("search")}), {"search"}),
        "dashboard filter": (office.get("/", {"unit": payload("filter")}), set()),
        "similar lessons": (office.get("/lessons/similar/", {"problem": payload("typed-problem")}), set()),
        "people picker": (office.get("/office/people/", {"q": payload("picker")}), set()),
        "new pilot (htmx)": (
            office.get("/office/pilots/new/", {"problem": payload("new-problem")}, headers={"HX-Request": "true"}),
            set(),
        ),
        "reading with an error": (
            owner.post(
                f"/pilots/invoice-matching/kpis/{kpi.key}/readings/",
                {
                    f"kpi-{kpi.pk}-measured_on": "2026-11-10",
                    f"kpi-{kpi.pk}-value": "lots",
                    f"kpi-{kpi.pk}-note": payload("typed-note"),
                },
            ),
            {"typed-note"},
        ),
        "check-in with an error": (
            _browser(hostile_world, "sponsor").post(
                "/pilots/invoice-matching/checkins/",
                {
                    "checkin-invoice-matching-on": "2099-01-01",
                    "checkin-invoice-matching-note": payload("typed-checkin"),
                },
            ),
            {"typed-checkin"},
        ),
        "upload preview": (owner.post("/pilots/invoice-matching/readings/upload/", {"file": upload}), {"upload-note"}),
        "next address": (
            owner.get(f"/pilots/invoice-matching/kpis/{kpi.key}/readings/", {"next": "javascript:alert(1)"}),
            set(),
        ),
        "sign-in next address": (Client().get("/accounts/login/", {"next": payload("next")}), set()),
    }
    problems = []
    for where, (response, expected) in answers.items():
        assert response.status_code == 200, f"{where}: {response.status_code}"
        problems += _page_problems(response.content.decode(), where, expected)
    assert not problems, "\n".join(problems)


def test_a_write_never_sends_the_browser_to_another_site(hostile_world):
    kpi = hostile_world["kpi"]
    body = {f"kpi-{kpi.pk}-measured_on": "2026-11-10", f"kpi-{kpi.pk}-value": "51"}

    response = _browser(hostile_world, "owner").post(
        f"/pilots/invoice-matching/kpis/{kpi.key}/readings/", {**body, "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/pilots/invoice-matching/")


def test_digests_escape_user_text_in_html_and_keep_it_plain_in_text(hostile_world):
    deliveries = list(DigestDelivery.objects.select_related("recipient"))
    assert {(d.recipient.username, d.kind) for d in deliveries} >= {("olivia", "owner"), ("erin", "executive")}
    problems = []
    for delivery in deliveries:
        where = f"{delivery.kind} digest of {delivery.recipient.username}"
        problems += _page_problems(delivery.html_body, f"{where} (HTML)", {"pilot-name", "kpi-name"})
        if shown("pilot-name") not in delivery.text_body or "&lt;" in delivery.text_body:
            problems.append(f"{where} (text): the name is not there as typed")
        if "\n" in delivery.subject or "\r" in delivery.subject:
            problems.append(f"{where}: a line break in the subject")
    for message in mail.outbox:
        (html, _), *_ = message.alternatives
        problems += _page_problems(html, f"mail to {message.to}", {"pilot-name"})
    assert not problems, "\n".join(problems)


def test_the_digest_archive_shows_the_mail_in_a_frame_that_runs_no_script(hostile_world):
    office = _browser(hostile_world, "office")
    problems = []
    for delivery in DigestDelivery.objects.all():
        address = reverse("digest_detail", args=[delivery.pk])
        page = read(office.get(address).content.decode())
        frames = [attributes for name, attributes in page.elements if name == "iframe"]
        assert len(frames) == 1, address
        assert "allow-scripts" not in (frames[0].get("sandbox") or "allow-scripts"), f"{address}: frame may run script"
        assert frames[0]["srcdoc"] == delivery.html_body, f"{address}: the frame does not hold the mail as sent"
        problems += _page_problems(office.get(address).content.decode(), address)
        problems += _page_problems(frames[0]["srcdoc"], f"{address} (frame)", {"pilot-name"})
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("kpi_key", "unit"), [("match-rate", "unit"), ("cycle-time", None)])
def test_kpi_chart_labels_are_text_in_the_svg(hostile_world, kpi_key, unit):
    response = _browser(hostile_world, "executive").get(f"/pilots/invoice-matching/kpis/{kpi_key}/chart.svg")

    assert response["Content-Type"].startswith("image/svg+xml")
    svg = ET.fromstring(response.content)  # well-formed: nothing broke out of a text element
    elements = list(svg.iter())
    names = {element.tag.rsplit("}", 1)[-1] for element in elements}
    assert "script" not in names and "foreignObject" not in names
    assert not [key for element in elements for key in element.attrib if key.lower().startswith("on")]
    text = " ".join("".join(element.itertext()) for element in elements if element.tag.endswith("}text"))
    assert shown("kpi-name" if kpi_key == "match-rate" else "kpi-2-name") in text
    if unit:
        assert shown(unit) in text


def test_the_api_returns_user_text_as_json_strings_that_no_browser_renders(hostile_world):
    client = Client(headers={"Authorization": f"Bearer {hostile_world['secret']}"})

    for address in ("/api/pilots/invoice-matching", "/api/pilots", "/api/flags"):
        response = client.get(address)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/json"), address
        assert response["X-Content-Type-Options"] == "nosniff", address

    detail = client.get("/api/pilots/invoice-matching").json()
    # As typed: JSON needs no HTML escaping, and a client that shows it must escape it itself.
    assert detail["name"] == payload("pilot-name")
    assert payload("kpi-name") in _strings(detail)


def _strings(value: Any) -> list[str]:
    """Every string in a decoded JSON document."""
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [text for item in items for text in _strings(item)]


def test_no_template_marks_user_text_safe():
    """The only ``|safe`` or ``autoescape off`` are in plain-text mail templates, which no browser reads."""
    offenders = []
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for template in Path(folder).rglob("*.html"):
            text = template.read_text()
            if re.search(r"\|\s*safe\b|autoescape\s+off|\|\s*safeseq\b", text):
                offenders.append(str(template))
    assert not offenders, offenders
