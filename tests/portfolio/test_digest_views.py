"""The digest archive (/digests/) and the choice of digests (/digests/preferences/)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from portfolio.models import DigestPreference
from tests.factories import DigestDeliveryFactory

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

LIST = reverse("digest_list")
PREFERENCES = reverse("digest_preferences")


def sent(recipient, **extra):
    values = {"sent_at": timezone.now(), "subject": f"Digest for {recipient.username}", "html_body": "<p>Hi</p>"}
    return DigestDeliveryFactory(recipient=recipient, **{**values, **extra})


# --- The archive ----------------------------------------------------------------------


def test_each_user_sees_only_their_own_sent_digests(client, owner, sponsor):
    mine = sent(owner)
    sent(sponsor)
    DigestDeliveryFactory(recipient=owner, period="2026-W48", subject="Not sent yet", sent_at=None)
    client.force_login(owner)

    response = client.get(LIST)

    assert list(response.context["digests"]) == [mine]
    assert b"Digest for olivia" in response.content
    assert b"Digest for sam" not in response.content
    assert b"Not sent yet" not in response.content


def test_the_portfolio_office_sees_every_digest_and_which_failed(client, pmo, owner, sponsor):
    sent(owner)
    DigestDeliveryFactory(
        recipient=sponsor, period="2026-W48", subject="Refused", sent_at=None, attempts=2, last_error="550 no such user"
    )
    client.force_login(pmo)

    response = client.get(LIST)

    assert len(response.context["digests"]) == 2
    assert b"Failed, 2 attempts" in response.content
    assert b"550 no such user" in response.content


def test_a_user_reads_their_digest_in_a_sandboxed_frame(client, owner):
    digest = sent(owner, html_body='<p style="color:red">Your pilots</p>', text_body="Your pilots\n")
    client.force_login(owner)

    response = client.get(reverse("digest_detail", args=[digest.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in html
    assert 'srcdoc="&lt;p style=&quot;color:red&quot;&gt;Your pilots&lt;/p&gt;"' in html
    assert "<pre>Your pilots\n</pre>" in html


def test_a_script_in_a_stored_digest_never_reaches_the_page_as_markup(client, owner):
    digest = sent(owner, subject="<script>alert(1)</script>", html_body="<script>alert(2)</script>")
    client.force_login(owner)

    html = client.get(reverse("digest_detail", args=[digest.pk])).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_another_users_digest_is_refused(client, owner, sponsor):
    theirs = sent(sponsor)
    client.force_login(owner)

    assert client.get(reverse("digest_detail", args=[theirs.pk])).status_code == 404


def test_an_unsent_digest_of_ones_own_is_not_in_the_archive(client, owner):
    waiting = DigestDeliveryFactory(recipient=owner, sent_at=None, subject="Waiting")
    client.force_login(owner)

    assert client.get(reverse("digest_detail", args=[waiting.pk])).status_code == 404


def test_the_portfolio_office_reads_anyones_digest(client, pmo, owner):
    digest = sent(owner)
    client.force_login(pmo)

    assert client.get(reverse("digest_detail", args=[digest.pk])).status_code == 200


def test_the_archive_needs_a_login(client, owner):
    digest = sent(owner)

    for url in (LIST, reverse("digest_detail", args=[digest.pk]), PREFERENCES):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_the_archive_runs_in_a_fixed_number_of_queries(client, pmo, owner, django_assert_max_num_queries):
    for week in range(30, 45):
        sent(owner, period=f"2026-W{week}", sent_at=timezone.now() - dt.timedelta(weeks=50 - week))
    client.force_login(pmo)

    with django_assert_max_num_queries(8):
        client.get(LIST)


# --- The preferences -------------------------------------------------------------------


def test_both_digests_are_on_by_default(client, executive):
    client.force_login(executive)

    form = client.get(PREFERENCES).context["form"]

    assert form.initial == {"owner_digest": True, "executive_digest": True}


def test_an_owner_switches_the_owner_digest_off(client, owner):
    client.force_login(owner)

    response = client.post(PREFERENCES, {}, follow=True)

    assert DigestPreference.objects.get(user=owner).owner_digest is False
    assert b"Your digest settings are saved." in response.content
    assert response.context["form"].initial["owner_digest"] is False


def test_an_executive_switches_the_executive_digest_off_and_keeps_the_owner_digest(client, executive):
    client.force_login(executive)

    client.post(PREFERENCES, {"owner_digest": "on"})

    preference = DigestPreference.objects.get(user=executive)
    assert (preference.owner_digest, preference.executive_digest) == (True, False)


def test_a_non_executive_is_not_offered_the_executive_digest_and_cannot_set_it(client, owner):
    DigestPreference.objects.create(user=owner, executive_digest=True)
    client.force_login(owner)

    page = client.get(PREFERENCES)
    client.post(PREFERENCES, {"owner_digest": "on"})

    assert "executive_digest" not in page.context["form"].fields
    assert DigestPreference.objects.get(user=owner).executive_digest is True
