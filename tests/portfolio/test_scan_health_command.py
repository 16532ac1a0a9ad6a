"""``manage.py scan_health``: runs the scan now and prints what it did."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from portfolio.models import Flag, ScanRun
from tests.factories import TODAY, KpiFactory, KpiReadingFactory

pytestmark = pytest.mark.django_db


def scan_health(*args: str) -> str:
    out = StringIO()
    call_command("scan_health", *args, stdout=out)
    return out.getvalue()


def test_it_prints_what_the_scan_did_and_the_open_flags_by_kind(pilot, frozen_today):
    assert scan_health() == (
        "Scanned 1 pilot as of 2026-11-16: 2 flags raised, 0 resolved.\n"
        "Open flags by kind:\n"
        "  no_kpi      1\n"
        "  stale       1\n"
        "  total       2\n"
    )


def test_it_counts_the_flags_it_resolved(pilot, frozen_today):
    scan_health()
    KpiReadingFactory(kpi=KpiFactory(pilot=pilot), measured_on=TODAY)

    output = scan_health()

    assert output == "Scanned 1 pilot as of 2026-11-16: 0 flags raised, 2 resolved.\nNo open flags.\n"


def test_it_records_the_scan(pilot, frozen_today):
    scan_health()

    run = ScanRun.objects.get()
    assert (run.as_of, run.pilots_scanned, run.flags_raised, run.error) == (TODAY, 1, 2, "")


def test_it_scans_as_of_the_date_given(pilot, frozen_today):
    output = scan_health("--as-of", "2026-11-20")

    assert output.startswith("Scanned 1 pilot as of 2026-11-20:")
    assert ScanRun.objects.get().as_of == dt.date(2026, 11, 20)
    assert Flag.objects.get(kind="stale").detail == "No reading yet, 34 days after the start"


@pytest.mark.parametrize("bad", ["20-11-2026", "2026-02-30", "tomorrow"])
def test_it_refuses_a_bad_date_in_one_line(bad, pilot):
    with pytest.raises(CommandError) as refused:
        scan_health("--as-of", bad)

    assert str(refused.value) == f"--as-of must be a date as YYYY-MM-DD, not {bad!r}"
    assert not ScanRun.objects.exists()
