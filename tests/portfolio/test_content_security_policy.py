from __future__ import annotations

import re

import pytest


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d for d in (part.strip() for part in header.split(";")) if d}


def test_pages_allow_scripts_only_from_our_own_origin(signed_in, pilot):
    policy = _policy(signed_in.get(f"/pilots/{pilot.key}/"))
    assert policy["script-src"] == "script-src 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"


@pytest.mark.parametrize("path", ["/", "/pilots/", "/accounts/login/"])
def test_no_page_has_an_inline_script_or_a_foreign_one(signed_in, pilot, path):
    html = signed_in.get(path).content.decode()
    for attributes, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
        if "application/json" in attributes:
            continue  # data, never executed
        assert re.search(r'\bsrc="/static/', attributes), f"foreign script: {attributes}"
        assert not body.strip(), f"inline script: {body[:80]}"
    assert not re.search(r'\son[a-z]+="', html), "inline event handler"
