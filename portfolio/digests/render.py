"""A digest's subject, HTML and plain text, from the templates in templates/emails/.

The HTML uses inline styles and no external assets, so mail clients show it as meant.
User text is escaped by the HTML templates' autoescaping; the text templates switch
autoescaping off because plain text is never interpreted (an escaped ``&lt;`` would only
be noise there). The chart travels in the HTML as a data URI, which is what the archive
keeps; ``delivery`` swaps it for an inline CID image when it builds the mail.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from django.template.loader import render_to_string

from .content import ExecutiveDigest, OwnerDigest


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    text: str


def _tidy_text(text: str) -> str:
    # Template tags leave blank lines and trailing spaces behind; a reader should not see them.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_owner(digest: OwnerDigest) -> RenderedDigest:
    context = {"digest": digest, "subject": digest.subject}
    return RenderedDigest(
        subject=digest.subject,
        html=render_to_string("emails/owner_digest.html", context),
        text=_tidy_text(render_to_string("emails/owner_digest.txt", context)),
    )


def render_executive(digest: ExecutiveDigest, chart_png: bytes | None) -> RenderedDigest:
    context = {
        "digest": digest,
        "subject": digest.subject,
        "chart_src": png_data_uri(chart_png) if chart_png else "",
    }
    return RenderedDigest(
        subject=digest.subject,
        html=render_to_string("emails/executive_digest.html", context),
        text=_tidy_text(render_to_string("emails/executive_digest.txt", context)),
    )


# Only the templates write ``src="data:image/png;base64,…"``: user text is escaped, so its
# quotes can never form this pattern.
_DATA_URI_IMAGE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def inline_images(html: str, *, domain: str = "pilot-portfolio") -> tuple[str, list[tuple[str, bytes]]]:
    """The HTML with each embedded PNG replaced by a ``cid:`` reference, and the images with their content ids."""
    images: list[tuple[str, bytes]] = []

    def to_cid(match: re.Match[str]) -> str:
        content_id = f"image{len(images) + 1}@{domain}"
        images.append((content_id, base64.b64decode(match.group(1))))
        return f'src="cid:{content_id}"'

    return _DATA_URI_IMAGE.sub(to_cid, html), images
