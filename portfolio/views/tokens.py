"""Settings pages for integrations: personal API tokens, and the portfolio office's webhook log."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from portfolio import selectors_integrations, services
from portfolio.models import ApiToken, TokenScope
from portfolio.roles import is_portfolio_office
from portfolio.tokens import can_manage_token


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What the token is for, such as the system that will use it.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Ticketing system feed"}),
    )
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
        help_text="Give a token only what its system needs: most only read.",
    )


def _context(request: HttpRequest, form: TokenForm, created: tuple[ApiToken, str] | None = None) -> dict:
    office = is_portfolio_office(request.user)
    return {
        "form": form,
        "created": created,
        "tokens": selectors_integrations.tokens_of(request.user),
        "others": selectors_integrations.tokens_of_others(request.user) if office else None,
    }


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's API tokens; a POST creates one and shows its secret, this once."""
    if request.method != "POST":
        return render(request, "portfolio/settings/tokens.html", _context(request, TokenForm()))
    form = TokenForm(request.POST)
    if not form.is_valid():
        return render(request, "portfolio/settings/tokens.html", _context(request, form))
    # Rendered rather than redirected: the secret must not wait in a session or a
    # message store, and never_cache keeps it out of every cache on the way.
    created = services.api_token_create(user=request.user, **form.cleaned_data)
    return render(request, "portfolio/settings/tokens.html", _context(request, TokenForm(), created))


@require_POST
@vary_on_headers("HX-Request")
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke a token: its owner's, or any for the portfolio office. htmx gets the updated row."""
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk)
    if not can_manage_token(request.user, token):
        raise PermissionDenied("Only the token's owner or the portfolio office may revoke it.")
    services.api_token_revoke(token=token, revoked_by=request.user)
    if request.htmx:
        context = {"token": token, "show_owner": token.user_id != request.user.pk}
        return render(request, "portfolio/settings/tokens.html#token-row", context)
    messages.success(request, f"The token “{token.name}” is revoked: requests with it are refused from now on.")
    return redirect("token_list")


@require_safe
def webhook_list(request: HttpRequest) -> HttpResponse:
    """The portfolio office's view of webhook endpoints and their latest deliveries."""
    if not is_portfolio_office(request.user):
        raise PermissionDenied("Webhooks are the portfolio office's.")
    context = {
        "endpoints": selectors_integrations.webhook_endpoints(),
        "deliveries": selectors_integrations.webhook_deliveries(),
    }
    return render(request, "portfolio/settings/webhooks.html", context)
