"""Every page needs a login, except the views marked ``login_not_required`` (DESIGN 10).

Django's ``LoginRequiredMiddleware`` asks ``request.user.is_authenticated`` first, which
reads the session and the user from the database even for an exempt view. ``/healthz``
must answer 503 when the database is down, whoever asks; so exempt views are let through
before the user is looked at.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import HttpRequest, HttpResponseBase


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponseBase | None:
        if not getattr(view_func, "login_required", True):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
