"""Benchmark section: the weekly digests for every recipient (DESIGN 9: at most 30 s), beside their bare SQL.

Each run plans, renders and sends every digest of the week to Django's in-memory mail
backend, claims and marks included, inside a transaction that is rolled back: the
benchmark database keeps no digest, so every run sends them all. The floor replays,
with a raw cursor, every statement one run sent (also rolled back); what the run takes
beyond it is Python: building the content, rendering the templates, the chart and the mail.
"""

from __future__ import annotations

import time

from django.core import mail
from django.db import transaction

from portfolio.benchmarks import BenchContext, Measurement, median_seconds
from portfolio.benchmarks.floor import capturing_queries, replay, statements_sent
from portfolio.digests.delivery import SENT, RunReport, send_week
from portfolio.digests.plan import plan_week
from portfolio.models import DigestKind, Flag
from portfolio.scan import scan_portfolio

DIGESTS_BUDGET_SECONDS = 30.0
# A run takes seconds: a few give a stable median.
MOST_RUNS = 3
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


def measure(context: BenchContext) -> list[Measurement]:
    if not Flag.objects.filter(resolved_at__isnull=True).exists():
        # Digests are about open flags; a portfolio never scanned would have none.
        scan_portfolio(as_of=context.as_of)
    runs = max(1, min(context.repeat, MOST_RUNS))

    started = time.perf_counter()
    with capturing_queries() as captured:
        report = send_and_roll_back(context)
    first_seconds = time.perf_counter() - started
    statements = statements_sent(captured)

    seconds = median_seconds(lambda: send_and_roll_back(context), runs)
    floor = median_seconds(lambda: replay(statements), runs)
    planning = median_seconds(lambda: plan_week(as_of=context.as_of), runs)

    sent = [outcome for outcome in report.outcomes if outcome.status == SENT]
    owners = sum(outcome.kind == DigestKind.OWNER for outcome in sent)
    executives = sum(outcome.kind == DigestKind.EXECUTIVE for outcome in sent)
    not_sent = len(report.outcomes) - len(sent)
    return [
        Measurement(
            what="weekly digests, every recipient",
            seconds=seconds,
            floor_seconds=floor,
            budget_seconds=DIGESTS_BUDGET_SECONDS,
            queries=len(captured.captured_queries),
            note=(
                f"median of {runs} runs (first {first_seconds:.1f} s); {owners} owner + {executives} executive "
                f"digests built, claimed, sent to the in-memory backend and marked"
                + (f", {not_sent} not sent" if not_sent else "")
                + f"; floor = its {len(statements)} statements replayed bare"
            ),
        ),
        Measurement(
            what="weekly digests, content and rendering only",
            seconds=planning,
            budget_seconds=DIGESTS_BUDGET_SECONDS,
            note=f"median of {runs} runs of the dry run's plan (no claims, no mail)",
        ),
    ]


def send_and_roll_back(context: BenchContext) -> RunReport:
    """One full run of the week's digests to the in-memory backend, leaving the database as it was."""
    backend = mail.get_connection(LOCMEM)
    try:
        with transaction.atomic():
            report = send_week(as_of=context.as_of, connection=backend)
            transaction.set_rollback(True)
    finally:
        mail.outbox = []
    return report
