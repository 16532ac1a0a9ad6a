"""Hostile text, and what a browser would make of a page that shows it.

A payload carries a tag naming the field it was typed into, so a test can say both
"this field is on the page" (its text is there, as text) and "nothing in it became
markup" (no script, no event handler, no ``javascript:`` link).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Where a value may start a script when the page is opened.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcdoc", "data"}
OUR_SCRIPTS = re.compile(r"^/static/[\w./-]+\.js$")
DATA_SCRIPT = "application/json"
SCRIPT_URL = re.compile(r"\s*(javascript|vbscript|data:text/html)", re.I)


def payload(tag: str) -> str:
    """Script, an attribute break-out and a template expression, all in one field's text."""
    return f'<script>alert("{tag}")</script>"><img src=x onerror=alert(1)>{{{{7*7}}}}'


def shown(tag: str) -> str:
    """What a reader sees of ``payload(tag)``: the start of it, as text (pages may shorten long text)."""
    return f'<script>alert("{tag}")'


@dataclass
class Page:
    """The elements and the text of an HTML document, as a browser's parser finds them."""

    elements: list[tuple[str, dict[str, str | None]]] = field(default_factory=list)
    text: str = ""
    inline_scripts: list[tuple[str, str]] = field(default_factory=list)

    def shows(self, tag: str) -> bool:
        """The field's text is on the page: as text, or as the value of a form field."""
        return shown(tag) in self.text or any(
            shown(tag) in (value or "") for _, attributes in self.elements for value in attributes.values()
        )

    def dangers(self) -> list[str]:
        """Everything in the page that would run script: the page's own static scripts excepted."""
        found = [
            f"inline script: {body[:60]!r}"
            for kind, body in self.inline_scripts
            # json_script's data is never run, and it escapes "<" so that it cannot close its element.
            if kind != DATA_SCRIPT or "<" in body
        ]
        for name, attributes in self.elements:
            if (
                name == "script"
                and attributes.get("type") != DATA_SCRIPT
                and not OUR_SCRIPTS.match(attributes.get("src") or "")
            ):
                found.append(f"<script src={attributes.get('src')!r}>")
            for attribute, value in attributes.items():
                if attribute.startswith("on"):
                    found.append(f"<{name} {attribute}={value!r}>")
                if attribute in URL_ATTRIBUTES and re.match(
                    r"\s*(javascript|vbscript|data:text/html)", value or "", re.I
                ):
                    found.append(f"<{name} {attribute}={value!r}>")
        return found


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._text: list[str] = []
        self._script: str | None = None  # the type of the script element being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs).get("type") or "text/javascript"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.elements.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            if data.strip():
                self.page.inline_scripts.append((self._script, data))
        else:
            self._text.append(data)


def read(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    reader.page.text = "".join(reader._text)
    return reader.page
