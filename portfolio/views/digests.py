"""The digest archive (every digest sent, readable in the app) and the choice of which digests to get."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from portfolio.digests.archive import readable_digest, readable_digests
from portfolio.digests.services import digest_preference_update
from portfolio.models import DigestDelivery, DigestPreference
from portfolio.roles import is_executive, is_portfolio_office

DIGESTS_PER_PAGE = 50


@require_safe
def digest_list(request: HttpRequest) -> HttpResponse:
    """Digests sent to me, newest first; the portfolio office sees every digest and whether it went out."""
    digests = readable_digests(request.user).defer("html_body", "text_body")
    page = Paginator(digests, DIGESTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "digests": page.object_list, "sees_all": is_portfolio_office(request.user)}
    return render(request, "digests/digest_list.html", context)


@require_safe
def digest_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One digest as it was mailed: its HTML in a sandboxed frame (no scripts, no same-origin), and its text."""
    try:
        delivery = readable_digest(request.user, pk)
    except DigestDelivery.DoesNotExist:
        raise Http404("No digest of yours has this number.") from None
    return render(request, "digests/digest_detail.html", {"delivery": delivery})


class DigestPreferenceForm(forms.Form):
    owner_digest = forms.BooleanField(
        label="Weekly digest of my pilots",
        help_text="Monday morning: the pilots you own or sponsor that have open flags, and what to do about each. "
        "Nothing is sent in a week when none of your pilots needs you.",
        required=False,
    )
    executive_digest = forms.BooleanField(
        label="Weekly portfolio digest",
        help_text="For executives: pilots per phase, what changed, ownerless, stale and stuck pilots, "
        "kill criteria met and the week's gate decisions.",
        required=False,
    )

    def __init__(self, *args: object, executive: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if not executive:
            del self.fields["executive_digest"]


@require_http_methods(["GET", "HEAD", "POST"])
def digest_preferences(request: HttpRequest) -> HttpResponse:
    """Switch my owner digest (and, for executives, the executive digest) on or off; both are on by default."""
    executive = is_executive(request.user)
    preference = DigestPreference.objects.filter(user=request.user).first() or DigestPreference(user=request.user)
    if request.method == "POST":
        form = DigestPreferenceForm(request.POST, executive=executive)
        if form.is_valid():
            digest_preference_update(
                user=request.user,
                owner_digest=form.cleaned_data["owner_digest"],
                executive_digest=form.cleaned_data.get("executive_digest") if executive else None,
            )
            messages.success(request, "Your digest settings are saved.")
            return redirect("digest_preferences")
    else:
        form = DigestPreferenceForm(
            initial={"owner_digest": preference.owner_digest, "executive_digest": preference.executive_digest},
            executive=executive,
        )
    return render(request, "digests/preferences.html", {"form": form})
