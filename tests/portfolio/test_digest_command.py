"""``manage.py send_digests [--as-of DATE] [--dry-run]``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from portfolio.models import DigestDelivery
from tests.factories import FlagFactory


@pytest.fixture
def week(owner, sponsor, executive, pilot, frozen_today):
    FlagFactory(pilot=pilot, kind="stale")


def run(*args: str) -> str:
    out = StringIO()
    call_command("send_digests", *args, stdout=out)
    return out.getvalue()


def test_the_dry_run_lists_recipients_and_subjects_and_sends_nothing(week):
    output = run("--dry-run", "--as-of", "2026-11-16")

    assert output.splitlines()[0] == "Would send for 2026-W47 (as of 2026-11-16):"
    assert "owner      olivia@example.com  would send  Week 47: Invoice matching needs you" in output
    assert "executive  erin@example.com" in output
    assert output.splitlines()[-1] == "Dry run: nothing sent, 3 digests to send."
    assert mail.outbox == []
    assert not DigestDelivery.objects.exists()


def test_it_sends_the_weeks_digests_and_a_second_run_sends_nothing(week):
    first = run()
    second = run()

    assert first.splitlines()[-1] == "Sent 3 digests; 0 already sent, 0 being sent by another run, 0 failed."
    assert second.splitlines()[-1] == "Sent 0 digests; 3 already sent, 0 being sent by another run, 0 failed."
    assert len(mail.outbox) == 3


def test_the_as_of_date_chooses_the_week(week):
    output = run("--as-of", "2026-01-01")

    assert "for 2026-W01" in output.splitlines()[0]
    assert set(DigestDelivery.objects.values_list("period", flat=True)) == {"2026-W01"}


def test_a_bad_date_is_one_readable_line():
    with pytest.raises(CommandError, match=r"^--as-of must be a date as YYYY-MM-DD, not '16/11/2026'$"):
        run("--as-of", "16/11/2026")


def test_failures_are_listed_and_make_the_command_fail(week, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1

    out = StringIO()
    with pytest.raises(CommandError, match=r"3 failed\. The failed ones are recorded and will be retried\.$"):
        call_command("send_digests", stdout=out)

    assert "failed" in out.getvalue()
    assert "Connection refused" in out.getvalue() or "Errno" in out.getvalue()
