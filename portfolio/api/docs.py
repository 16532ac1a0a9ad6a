"""Who may read the API's schema and docs page: a signed-in browser, or a client with a live token."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from ninja.errors import AuthenticationError

from portfolio.api.auth import token_find


def signed_in_or_token(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let a session or a bearer token through; send anyone else to sign in (a bad token gets 401 JSON)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return redirect_to_login(request.get_full_path())
        try:
            token_find(presented.strip())
        except AuthenticationError as refused:
            return JsonResponse({"detail": refused.message}, status=401, headers={"WWW-Authenticate": "Bearer"})
        return view(request, *args, **kwargs)

    return wrapper


@login_not_required
def api_index(request: HttpRequest, **kwargs: object) -> JsonResponse:
    """/api/ itself: where the schema and the docs are, and how to authenticate."""
    return JsonResponse(
        {
            "detail": "Pilot Portfolio API. Send a personal token from /settings/tokens/: Authorization: Bearer pp_…",
            "schema": reverse("api:openapi-json"),
            "docs": reverse("api:openapi-view"),
        }
    )
