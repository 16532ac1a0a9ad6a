"""Benchmark section: the dashboard and a pilot page, server time beside the bare SQL they send.

Each page is requested through Django's test client, signed in as an executive, so the
figure is the server's whole answer (middleware, queries, Python, templates, the charts
drawn inline) without a network. Its floor replays the page's reads on a raw cursor. Each
page is measured cached (the steady state: the dashboard's figures and every chart come
from the cache until the data under them changes) and cold, with no cache at all.
"""

from __future__ import annotations

import re
from html import unescape

from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from portfolio.benchmarks import BenchContext, Measurement, median_seconds
from portfolio.benchmarks.floor import READS, capturing_queries, replay_reads, statements_sent
from portfolio.models import Kpi, Pilot

PAGE_BUDGET_SECONDS = 0.100
NO_CACHE = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
# A cold page draws every chart (a tenth of a second or more each): three runs give a median.
MOST_COLD_RUNS = 3
# Charts drawn inline, and charts the page left to an image (not drawn yet: templates/portfolio/_chart.html).
INLINE_CHART = re.compile(r'<svg role="img"')
IMAGE_CHART = re.compile(r'<img class="chart__img" src="([^"]+)"')


def measure(context: BenchContext) -> list[Measurement]:
    client = Client()
    client.force_login(get_user_model().objects.get(username=context.executive_username))
    dashboard_url = reverse("dashboard")
    pilot_url = reverse("pilot_detail", args=[_busiest_pilot(context)])
    repeat = context.repeat
    cold_runs = max(1, min(repeat, MOST_COLD_RUNS))

    measurements = []
    for what, url, note in (
        ("dashboard (/)", dashboard_url, f"{context.pilot_count} pilots; its three charts inline"),
        ("pilot page with its KPI charts", pilot_url, "the sample pilot with the most KPIs; one chart per KPI inline"),
    ):
        html, statements, queries = _request(client, url)
        charts = len(INLINE_CHART.findall(html)) + len(IMAGE_CHART.findall(html))
        measurements.append(
            Measurement(
                what=f"{what}, cached",
                seconds=median_seconds(lambda url=url: _get(client, url), repeat),
                floor_seconds=median_seconds(lambda statements=statements: replay_reads(statements), repeat),
                budget_seconds=PAGE_BUDGET_SECONDS,
                queries=queries,
                note=f"median of {repeat}; {note} ({charts} charts); floor = its {len(statements)} reads bare",
            )
        )
        with override_settings(CACHES=NO_CACHE):
            cold_html, cold_statements, cold_queries = _request(client, url)
            cold = median_seconds(lambda url=url: _get(client, url), cold_runs)
            images = IMAGE_CHART.findall(cold_html)
            with_images = median_seconds(lambda url=url: _get_with_images(client, url), cold_runs) if images else None
        measurements.append(
            Measurement(
                what=f"{what}, cold",
                seconds=cold,
                floor_seconds=median_seconds(lambda statements=cold_statements: replay_reads(statements), cold_runs),
                queries=cold_queries,
                note=f"median of {cold_runs}; nothing cached: every figure computed and every chart drawn anew"
                + (f" ({len(images)} charts left to their own image requests)" if images else ""),
            )
        )
        if with_images is not None:
            measurements.append(
                Measurement(
                    what=f"{what}, cold, with its chart images",
                    seconds=with_images,
                    note=f"median of {cold_runs}; the page, then each of its {len(images)} chart images drawn "
                    "in its own request, one after the other (the server's whole work for a browser)",
                )
            )
    return measurements


def _busiest_pilot(context: BenchContext) -> str:
    """Of the sample pilots, the one with the most KPIs: the pilot page at its heaviest."""
    keys = context.sample_pilot_keys or list(Pilot.objects.order_by("key").values_list("key", flat=True)[:20])
    counts = {key: Kpi.objects.filter(pilot__key=key).count() for key in keys}
    return max(keys, key=lambda key: (counts[key], key))


def _get_with_images(client: Client, url: str) -> str:
    """The page, then every chart it left to an image, as a browser would fetch them."""
    html = _get(client, url)
    for image_url in IMAGE_CHART.findall(html):
        _get(client, unescape(image_url))
    return html


def _get(client: Client, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response.content.decode()


def _request(client: Client, url: str) -> tuple[str, list[str], int]:
    """The page's HTML, the reads it sent (after a warm-up request) and how many queries it sent in all.

    The warm-up fetches the page's chart images as a browser would, so a cache holds them after.
    """
    _get_with_images(client, url)
    with capturing_queries() as captured:
        html = _get(client, url)
    # The reads are the page's floor; bookkeeping such as savepoints would not replay alone.
    statements = statements_sent(captured, READS)
    return html, statements, len(captured.captured_queries)
