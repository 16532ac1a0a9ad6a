"""The load scenario: executives reading the portfolio, owners recording readings, system feeds posting to the API.

Run by ``bin/loadtest`` (README "Load test"), or by hand against a running server:

    LOADTEST_SCENARIO=scenario.json .venv/bin/python -m locust -f loadtest/locustfile.py --host http://127.0.0.1:8001

(from the project folder, so ``loadtest`` is importable).

The scenario file (``loadtest/scenario.py``) names the people and their pilots. Users sign
in through the real form (CSRF token from the page), owners post readings as htmx does
(``HX-Request``, the CSRF header, the form's prefixed fields) and confirm a replacement when
the date already has another value, as a person would; feeds send a week of readings with a
bearer token. Request names (``loadtest/names.py``) are fixed, so the figures group by
what was done, and the budgets in ``loadtest/report.py`` refer to them.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import itertools
import json
import os
import random
import re
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task

from loadtest.names import (
    API_PILOT,
    API_READINGS,
    API_SUMMARY,
    CHART_IMAGE,
    DASHBOARD,
    DASHBOARD_FILTERED,
    LANDING,
    MY_PILOTS,
    MY_PILOTS_REFRESH,
    PILOT_LIST,
    PILOT_PAGE,
    READING_POST,
    READING_REPLACE,
    SIGN_IN,
    SIGN_IN_PAGE,
)
from loadtest.report import REQUEST_LOG_COLUMNS

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# The form asks to confirm when the date already has another value.
_ASKS_TO_REPLACE = "already has a reading for"
_RECORDED = "reading-form__done"
# Charts not drawn yet are left to an image the browser fetches (templates/portfolio/_chart.html).
_CHART_IMAGE = re.compile(r'<img class="chart__img" src="([^"]+)"')


def _scenario() -> dict[str, Any]:
    path = os.environ.get("LOADTEST_SCENARIO")
    if not path:
        raise RuntimeError("LOADTEST_SCENARIO must name the scenario file (python -m loadtest.prepare --out FILE)")
    return json.loads(Path(path).read_text())


class _RequestLog:
    """Every request as a row of ``LOADTEST_REQUEST_LOG`` (when set), for ``loadtest/report.py``."""

    def __init__(self) -> None:
        self.writer: Any = None

    def record(
        self, request_type: str, name: str, response_time: float, start_time: float | None = None, **kwargs: Any
    ) -> None:
        if self.writer is None:
            path = os.environ.get("LOADTEST_REQUEST_LOG")
            if not path:
                return
            self.writer = csv.writer(open(path, "w", newline="", buffering=1))  # noqa: SIM115 (open for the run)
            self.writer.writerow(REQUEST_LOG_COLUMNS)
        failed = kwargs.get("exception") is not None
        self.writer.writerow((f"{start_time:.3f}", name, request_type, f"{response_time:.1f}", int(failed)))


events.request.add_listener(_RequestLog().record)


SCENARIO = _scenario()
# Each user takes the next identity in turn, so 50 users spread over the people there are.
_executives = itertools.cycle(SCENARIO["executives"])
_owners = itertools.cycle(SCENARIO["owners"])
_feeds = itertools.cycle(SCENARIO["feeds"])


def reading_date(started_on: str, *, days_back: int = 120) -> dt.date:
    """A day the server accepts: from the pilot's start (or ``days_back`` ago) to yesterday.

    Yesterday in UTC is never in the future for the server's time zone (Europe/London by
    default), whatever this machine's clock zone is.
    """
    latest = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    earliest = max(dt.date.fromisoformat(started_on), latest - dt.timedelta(days=days_back))
    return earliest + dt.timedelta(days=random.randint(0, max(0, (latest - earliest).days)))


class SignedIn(HttpUser):
    """A person who signs in through the login form first."""

    abstract = True
    username = ""

    def sign_in(self) -> None:
        page = self.client.get("/accounts/login/", name=SIGN_IN_PAGE)
        token = _CSRF_INPUT.search(page.text)
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": SCENARIO["password"],
                "csrfmiddlewaretoken": token.group(1) if token else "",
            },
            headers={"Referer": page.url},
            name=SIGN_IN,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            # A good sign-in redirects to the landing page; a refused one shows the form again.
            landing = response.headers.get("Location", "")
            if response.status_code != 302 or "/accounts/login/" in landing:
                response.failure(f"{self.username} could not sign in")
                return
        self.client.get(landing, name=LANDING)

    def open_pilot(self, key: str) -> None:
        """The pilot page, then each chart image it left to the browser, as a browser fetches them."""
        page = self.client.get(f"/pilots/{key}/", name=PILOT_PAGE)
        for src in _CHART_IMAGE.findall(page.text):
            self.client.get(html.unescape(src), name=CHART_IMAGE)

    def htmx_headers(self, target: str, current_url: str) -> dict[str, str]:
        return {
            "HX-Request": "true",
            "HX-Target": target,
            "HX-Current-URL": f"{self.host}{current_url}",
            "X-CSRFToken": self.client.cookies.get("csrftoken", ""),
        }


class Executive(SignedIn):
    """Reads the dashboard before a board meeting, filters it, opens pilots."""

    weight = 50
    wait_time = between(1, 4)

    def on_start(self) -> None:
        self.username = next(_executives)
        self.sign_in()

    @task(4)
    def dashboard(self) -> None:
        self.client.get("/", name=DASHBOARD)

    @task(2)
    def filter_dashboard(self) -> None:
        unit, phase = random.choice(SCENARIO["units"]), random.choice(SCENARIO["phases"])
        choice = random.choice([{"unit": unit}, {"phase": phase}])
        self.client.get("/", params=choice, headers=self.htmx_headers("dashboard-body", "/"), name=DASHBOARD_FILTERED)

    @task(1)
    def pilot_list(self) -> None:
        self.client.get("/pilots/", params={"phase": random.choice(SCENARIO["phases"])}, name=PILOT_LIST)

    @task(4)
    def pilot_page(self) -> None:
        self.open_pilot(random.choice(SCENARIO["browsed_pilots"]))


class Owner(SignedIn):
    """Opens "My pilots", records readings in place, looks at a pilot."""

    weight = 35
    wait_time = between(1, 4)

    def pick_date(self, started_on: str) -> dt.date:
        return reading_date(started_on)

    def on_start(self) -> None:
        owner = next(_owners)
        self.username, self.pilots = owner["username"], owner["pilots"]
        self.sign_in()
        self.client.get("/me/", name=MY_PILOTS)

    @task(1)
    def my_pilots(self) -> None:
        self.client.get("/me/", name=MY_PILOTS)

    @task(1)
    def pilot_page(self) -> None:
        self.open_pilot(random.choice(self.pilots)["key"])

    @task(4)
    def record_reading(self) -> None:
        pilot = random.choice(self.pilots)
        kpi = random.choice(pilot["kpis"])
        prefix = f"kpi-{kpi['id']}"
        on = self.pick_date(pilot["started_on"]).isoformat()
        fields = {
            "next": "/me/",
            f"{prefix}-measured_on": on,
            f"{prefix}-value": f"{random.uniform(10, 90):.2f}",
            f"{prefix}-note": "load test",
            f"{prefix}-replace": "",
        }
        url = f"/pilots/{pilot['key']}/kpis/{kpi['key']}/readings/"
        headers = self.htmx_headers(f"kpi-{kpi['id']}", "/me/")
        with self.client.post(url, data=fields, headers=headers, name=READING_POST, catch_response=True) as answer:
            asks_to_replace = answer.ok and _ASKS_TO_REPLACE in answer.text
            if answer.ok and not asks_to_replace and _RECORDED not in answer.text:
                answer.failure("the form neither recorded the reading nor asked to replace one")
        if asks_to_replace:
            # The owner agrees: the hidden field carries the date being confirmed.
            fields[f"{prefix}-replace"] = on
            with self.client.post(
                url, data=fields, headers=headers, name=READING_REPLACE, catch_response=True
            ) as answer:
                if answer.ok and _RECORDED not in answer.text:
                    answer.failure("the confirmed replacement was not recorded")
        # htmx then refreshes the "needs you first" list (readingRecorded from:body).
        self.client.get("/me/", headers=self.htmx_headers("needs", "/me/"), name=MY_PILOTS_REFRESH)


class ApiFeed(HttpUser):
    """A system pushing the last week of a KPI's daily values, overwriting what it sent before."""

    weight = 15
    wait_time = between(1, 4)

    def on_start(self) -> None:
        feed = next(_feeds)
        self.pilots = feed["pilots"]
        self.client.headers["Authorization"] = f"Bearer {feed['token']}"

    @task(4)
    def post_readings(self) -> None:
        pilot = random.choice(self.pilots)
        kpi = random.choice(pilot["kpis"])
        yesterday = reading_date(pilot["started_on"], days_back=0)
        days = [yesterday - dt.timedelta(days=n) for n in range(7)]
        readings = [
            {"on": day.isoformat(), "value": round(random.uniform(10, 90), 2)}
            for day in days
            if day >= dt.date.fromisoformat(pilot["started_on"])
        ]
        url = f"/api/pilots/{pilot['key']}/kpis/{kpi['key']}/readings"
        with self.client.post(
            url, json={"readings": readings, "replace": True}, name=API_READINGS, catch_response=True
        ) as answer:
            if answer.ok:
                counts = answer.json()
                counted = sum(counts.get(kind, 0) for kind in ("created", "replaced", "unchanged"))
            if answer.ok and counted != len(readings):
                answer.failure(f"{counted} of {len(readings)} readings recorded: {answer.text[:200]}")

    @task(1)
    def read_pilot(self) -> None:
        self.client.get(f"/api/pilots/{random.choice(self.pilots)['key']}", params={"readings": 5}, name=API_PILOT)

    @task(1)
    def read_summary(self) -> None:
        self.client.get("/api/summary", name=API_SUMMARY)
