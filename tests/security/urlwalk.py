"""Every URL pattern of the site, read from the URL configuration, with its parameters filled from real objects.

The security walks use it so that a view added later is visited without anyone
remembering to list it: a pattern whose parameters cannot be filled fails loudly
(teach ``_value`` the new name) rather than being skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern


@dataclass(frozen=True)
class Route:
    """One URL pattern and the resolvers it sits under."""

    name: str
    parts: tuple[Any, ...]

    @property
    def text(self) -> str:
        return "".join(_pattern_text(part.pattern) for part in self.parts)

    @property
    def label(self) -> str:
        """The URL name, or the pattern itself for the few unnamed ones."""
        return self.name or self.text

    @property
    def in_admin(self) -> bool:
        return self.text.startswith("admin/")

    @property
    def in_api(self) -> bool:
        return self.text.replace("^", "").startswith("api/")

    @property
    def has_parameters(self) -> bool:
        return bool(re.search(r"<|\(", self.text))


def _pattern_text(pattern: Any) -> str:
    return pattern.regex.pattern if isinstance(pattern, RegexPattern) else str(pattern)


def _walk(resolver: URLResolver, parents: tuple, namespace: str) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, (*parents, entry), inner)
        elif isinstance(entry, URLPattern):
            yield Route(f"{namespace}{entry.name}" if entry.name else "", (*parents, entry))


def site_routes() -> list[Route]:
    """Every pattern of the URL configuration, the admin's and the API's included (static files excepted)."""
    static = settings.STATIC_URL.lstrip("/")
    return [route for route in _walk(get_resolver(), (), "") if not route.text.startswith(static)]


def path_for(route: Route, world: Mapping[str, Any]) -> str:
    """The route's address, each parameter naming a real object of ``world``."""
    path = "/"
    for part in route.parts:
        pattern = part.pattern
        if isinstance(pattern, RoutePattern):
            path += re.sub(r"<(?:\w+:)?(\w+)>", lambda m: _value(m.group(1), route, world), str(pattern))
        elif isinstance(pattern, RegexPattern):
            path += _regex_example(pattern.regex.pattern, route, world)
        else:
            raise AssertionError(f"unknown pattern type {type(pattern).__name__}: teach urlwalk to fill it")
    return path


def _regex_example(regex: str, route: Route, world: Mapping[str, Any]) -> str:
    """The regex with each group filled in order and its anchors dropped (the admin's and the API's patterns)."""
    unnamed = iter(("object_id", "history_id"))

    def fill(match: re.Match[str]) -> str:
        return _value(match.group(1) or next(unnamed), route, world)

    filled = re.sub(r"\((?:\?P<(\w+)>)?[^)]*\)", fill, regex)
    return filled.replace("^", "").replace("$", "").replace("\\", "")


def _admin_model(route: Route) -> type | None:
    """The model an admin address is about: admin/<app_label>/<model_name>/…."""
    match = re.match(r"admin/(\w+)/(\w+)/", route.text)
    if match is None:
        return None
    try:
        return apps.get_model(match.group(1), match.group(2))
    except LookupError:
        return None


def _value(name: str, route: Route, world: Mapping[str, Any]) -> str:
    """A value for a URL parameter that names a real object of the world."""
    by_name = {
        "key": world["pilot"].key,
        "kpi_key": world["kpi"].key,
        "criterion_key": world["criterion"].key,
        "code": world["gate_criterion"].code,
        "unit_id": world["pilot"].business_unit_id,
        "chart": "funnel",
        "app_label": "portfolio",
        "rest": "nothing-here",
        "url": "nothing-here/",
        "content_type_id": ContentType.objects.get_for_model(world["pilot"]).pk,
    }
    if name in by_name:
        return str(by_name[name])
    if name == "pk":
        for marker, thing in (("digests/", "digest"), ("tokens/", "token")):
            if marker in route.text:
                return str(world[thing].pk)
    model = _admin_model(route)
    if name in ("object_id", "id"):
        if model is None:  # admin/r/<content_type_id>/<object_id>/: "view on site" of the pilot
            return str(world["pilot"].pk)
        if "/history/(" in route.text:
            # One version of one object (simple_history): an object that has a recorded version.
            return str(_first_version(model, model._meta.pk.attname) or 1)
        return str(model._default_manager.order_by("pk").values_list("pk", flat=True).first() or 1)
    if name == "history_id" and model is not None:
        return str(_first_version(model, "history_id") or 1)
    raise AssertionError(f"{route.text}: teach urlwalk a value for the parameter <{name}>")


def _first_version(model: type, field: str) -> Any:
    return model.history.order_by("history_id").values_list(field, flat=True).first()
