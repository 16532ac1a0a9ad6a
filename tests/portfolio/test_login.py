"""Signing in and out: a plain error that keeps the username, and sign-out by POST only."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture
def olivia(db):
    return UserFactory(username="olivia", first_name="Olivia", last_name="Owner")


def test_the_sign_in_page_needs_no_login(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_it_signs_in_with_the_right_password(client, olivia):
    response = client.post(reverse("login"), {"username": "olivia", "password": "pass"})

    assert response.status_code == 302
    # The landing view sends each person on to their page (tests/portfolio/test_my_pilots_view.py).
    assert response["Location"] == reverse("landing")
    assert client.session["_auth_user_id"] == str(olivia.pk)


def test_it_returns_to_the_page_asked_for(client, olivia):
    response = client.post(reverse("login"), {"username": "olivia", "password": "pass", "next": "/pilots/"})

    assert response["Location"] == "/pilots/"


def test_a_wrong_password_shows_a_plain_error_and_keeps_the_username(client, olivia):
    response = client.post(reverse("login"), {"username": "olivia", "password": "wrong"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    html = response.content.decode()
    assert "Please enter a correct username and password" in html
    assert 'role="alert"' in html
    assert 'value="olivia"' in html
    assert "Traceback" not in html


def test_an_unknown_user_gets_the_same_error(client, db):
    response = client.post(reverse("login"), {"username": "nobody", "password": "pass"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_the_signed_in_page_shows_the_name_and_a_sign_out_form(client, olivia):
    client.force_login(olivia)

    html = client.get(reverse("dashboard")).content.decode()

    assert "Olivia Owner" in html
    assert f'<form method="post" action="{reverse("logout")}">' in html
    assert "Sign out" in html


def test_the_layout_sends_the_csrf_token_with_htmx_and_loads_only_local_scripts(client, olivia):
    client.force_login(olivia)

    html = client.get(reverse("dashboard")).content.decode()

    token = re.search(r"""<body hx-headers='\{"x-csrftoken": "([^"]+)"\}'>""", html)
    assert token and len(token.group(1)) >= 32
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts == ['<script src="/static/js/htmx.min.js" defer>']


def test_sign_out_by_post_ends_the_session(client, olivia):
    client.force_login(olivia)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard")).status_code == 302


def test_sign_out_by_get_is_refused(client, olivia):
    client.force_login(olivia)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert client.session["_auth_user_id"] == str(olivia.pk)


def test_sign_out_needs_the_csrf_token(olivia):
    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)

    response = client.post(reverse("logout"))

    assert response.status_code == 403
    assert client.session["_auth_user_id"] == str(olivia.pk)


def test_the_admin_link_is_only_for_staff(client, olivia):
    staff = UserFactory(username="paula", is_staff=True)
    admin_link = f'href="{reverse("admin:index")}"'

    client.force_login(olivia)
    assert admin_link not in client.get(reverse("dashboard")).content.decode()

    client.force_login(staff)
    assert admin_link in client.get(reverse("dashboard")).content.decode()
