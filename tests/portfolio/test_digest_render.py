"""Both bodies of both digests, from the templates: escaped user text, inline styles, no external assets."""

from __future__ import annotations

import base64
import re

import pytest

from portfolio.digests.chart import phase_chart_png
from portfolio.digests.content import PhaseBar
from portfolio.digests.plan import plan_week
from portfolio.digests.render import inline_images, png_data_uri
from portfolio.models import DigestKind
from tests.factories import TODAY, FlagFactory, KillCriterionFactory, KpiFactory, PilotFactory

pytestmark = pytest.mark.usefixtures("frozen_today")

NASTY = "<script>alert(1)</script>"


@pytest.fixture
def nasty_pilot(owner, sponsor):
    pilot = PilotFactory(key="nasty", name=NASTY, owner=owner, sponsor=sponsor)
    kpi = KpiFactory(pilot=pilot, name='<img src=x onerror="alert(2)">')
    FlagFactory(pilot=pilot, kind="drifting", kpi=kpi, detail=f"Last two readings of {kpi.name} are worse")
    criterion = KillCriterionFactory(pilot=pilot, description="<b>stop</b> & think")
    FlagFactory(pilot=pilot, kind="kill_criterion_met", severity="critical", kill_criterion=criterion, detail="met")
    FlagFactory(pilot=pilot, kind="stale", detail="No KPI reading for 30 days")
    return pilot


def rendered(kind: str):
    plan = plan_week(as_of=TODAY)
    return next(digest.rendered for digest in plan.digests if digest.kind == kind)


@pytest.mark.parametrize("kind", [DigestKind.OWNER, DigestKind.EXECUTIVE])
def test_a_pilot_named_like_a_script_is_escaped_in_the_html(nasty_pilot, executive, kind):
    html = rendered(kind).html

    assert NASTY not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "<b>stop</b>" not in html


@pytest.mark.parametrize("kind", [DigestKind.OWNER, DigestKind.EXECUTIVE])
def test_the_text_body_carries_the_name_as_plain_text(nasty_pilot, executive, kind):
    text = rendered(kind).text

    # Plain text is never interpreted: the name reads as typed, without HTML entities.
    assert NASTY in text
    assert "&lt;" not in text
    assert "<b>stop</b> & think" in text or kind == DigestKind.OWNER


@pytest.mark.parametrize("kind", [DigestKind.OWNER, DigestKind.EXECUTIVE])
def test_the_html_has_inline_styles_and_no_external_assets(nasty_pilot, executive, kind):
    html = rendered(kind).html

    assert "<link" not in html
    assert "<script" not in html
    assert "<style" not in html
    assert 'style="' in html
    assert not re.search(r'src="(?!data:image/png;base64,)', html)


def test_the_owner_digest_links_absolutely_to_the_pages_that_fix_each_flag(nasty_pilot, settings):
    settings.SITE_URL = "https://portfolio.example.com"
    digest = rendered(DigestKind.OWNER)

    assert 'href="https://portfolio.example.com/pilots/nasty/gate/"' in digest.html
    assert 'href="https://portfolio.example.com/pilots/nasty/#kpis"' in digest.html
    assert "https://portfolio.example.com/pilots/nasty/gate/" in digest.text
    assert "https://portfolio.example.com/digests/preferences/" in digest.text


def test_the_executive_digest_embeds_its_chart_and_describes_it(nasty_pilot, executive):
    html = rendered(DigestKind.EXECUTIVE).html

    match = re.search(r'<img src="data:image/png;base64,([^"]+)"[^>]*alt="([^"]+)"', html)
    assert match
    assert base64.b64decode(match.group(1)).startswith(b"\x89PNG")
    assert "Proof of concept 1 active, 0 on hold, 0 killed" in match.group(2)


def test_the_chart_is_a_small_png_drawn_the_same_for_the_same_data():
    bars = [PhaseBar("Proof of concept", 4, 1, 2), PhaseBar("Pilot", 3, 0, 1)]

    png = phase_chart_png(bars)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) < 60_000
    assert phase_chart_png(list(bars)) == png


def test_inline_images_become_content_ids():
    png = phase_chart_png([PhaseBar("Pilot", 1, 0, 0)])
    html = f'<p>Chart</p><img src="{png_data_uri(png)}" alt="x">'

    swapped, images = inline_images(html)

    assert swapped == '<p>Chart</p><img src="cid:image1@pilot-portfolio" alt="x">'
    assert images == [("image1@pilot-portfolio", png)]
