"""The gate review page: the next gate's readiness, live; evidence recorded inline; the decision.

Everyone signed in reads it. Evidence is the owner's (or the portfolio office's) to
record, decisions the portfolio office's or the pilot's sponsor's (portfolio.roles);
every endpoint checks, htmx ones included. Each form works without JavaScript too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from gates import readiness, selectors, services
from gates.forms import AttestationForm, DecisionForm
from gates.models import Decision, GateCriterion
from gates.services import AttestationProblem, DecisionRefused, PilotMovedOn
from portfolio import roles
from portfolio.models import Phase, Pilot

TEMPLATE = "gates/gate_review.html"
ATTEST_REFUSED = "Only the pilot's owner (or the portfolio office) records evidence for its gate."
DECIDE_REFUSED = "Gate decisions are the portfolio office's or the pilot's sponsor's."


@dataclass(frozen=True)
class CriterionRow:
    """One criterion on the page, with its evidence form when the reader may attest."""

    state: readiness.CriterionState
    form: AttestationForm | None


def _pilot(key: str) -> Pilot:
    try:
        return Pilot.objects.select_related("business_unit", "owner", "sponsor").get(key=key)
    except Pilot.DoesNotExist:
        raise Http404("No pilot has this key.") from None


def _rows(
    gate: selectors.GateReadiness | None, *, can_attest: bool, bound: dict[str, AttestationForm] | None = None
) -> list[CriterionRow]:
    if gate is None:
        return []
    bound = bound or {}
    return [
        CriterionRow(
            state=state,
            form=(bound.get(state.criterion.code) or AttestationForm(prefix=state.criterion.code))
            if can_attest and state.criterion.is_attested
            else None,
        )
        for state in gate.states
    ]


def _context(
    request: HttpRequest,
    pilot: Pilot,
    *,
    decision_form: DecisionForm | None = None,
    bound: dict[str, AttestationForm] | None = None,
) -> dict[str, Any]:
    gate = selectors.pilot_readiness(pilot)
    can_attest = gate is not None and roles.can_edit_pilot_data(request.user, pilot)
    can_decide = roles.can_decide_gate(request.user, pilot)
    if decision_form is None:
        decision_form = DecisionForm(initial={"read_phase": pilot.phase, "read_version": pilot.version})
    phases = dict(Phase.choices)
    return {
        "pilot": pilot,
        "gate": gate,
        "from_label": phases.get(gate.from_phase, "") if gate else "",
        "to_label": phases.get(gate.to_phase, "") if gate else "",
        "rows": _rows(gate, can_attest=can_attest, bound=bound),
        "can_attest": can_attest,
        "can_decide": can_decide,
        "decision_form": decision_form,
        "decisions": Decision,
        "reviews": selectors.pilot_reviews(pilot),
        "valid_days": settings.ATTESTATION_VALID_DAYS,
        "today": timezone.localdate(),
    }


@require_safe
def gate_review(request: HttpRequest, key: str) -> HttpResponse:
    """The next gate of a pilot: its criteria, live, and (for those who may) evidence and decision forms."""
    pilot = _pilot(key)
    return render(request, TEMPLATE, _context(request, pilot))


@require_POST
@vary_on_headers("HX-Request")
def attest(request: HttpRequest, key: str, code: str) -> HttpResponse:
    """Record evidence for one attested criterion; htmx gets the criterion back, updated in place."""
    pilot = _pilot(key)
    if not roles.can_edit_pilot_data(request.user, pilot):
        raise PermissionDenied(ATTEST_REFUSED)
    criterion = get_object_or_404(GateCriterion, code=code)
    form = AttestationForm(request.POST, prefix=code)
    if form.is_valid():
        try:
            services.attestation_record(
                pilot=pilot, criterion=criterion, attested_by=request.user, evidence=form.cleaned_data["evidence"]
            )
        except AttestationProblem as problem:
            form.add_error("evidence", str(problem))
    if form.errors:
        context = _context(request, pilot, bound={code: form})
        if request.htmx:
            row = next((row for row in context["rows"] if row.state.criterion.code == code), None)
            if row is None:
                # Not a criterion of the next gate: nothing on the page to swap, so say it plainly.
                return HttpResponse(format_html('<p class="field__error">{}</p>', form.errors["evidence"][0]))
            return render(request, f"{TEMPLATE}#criterion", {**context, "row": row})
        return render(request, TEMPLATE, context)

    if not request.htmx:
        messages.success(request, f"Evidence recorded for “{criterion.label}”.")
        return redirect(reverse("gate_review", args=[pilot.key]) + f"#criterion-{code}")
    context = _context(request, pilot)
    row = next(row for row in context["rows"] if row.state.criterion.code == code)
    # The criterion in place, plus the summary out of band: the count of met criteria changed.
    html = render_to_string(f"{TEMPLATE}#criterion", {**context, "row": row, "just_recorded": True}, request)
    html += render_to_string(f"{TEMPLATE}#summary", {**context, "oob": True}, request)
    return HttpResponse(html)


@require_POST
@vary_on_headers("HX-Request")
def decide(request: HttpRequest, key: str) -> HttpResponse:
    """Record advance, hold or kill; a refusal keeps what was typed and says what is missing."""
    pilot = _pilot(key)
    if not roles.can_decide_gate(request.user, pilot):
        raise PermissionDenied(DECIDE_REFUSED)
    form = DecisionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            review = services.gate_decide(
                pilot=pilot,
                decision=data["decision"],
                decided_by=request.user,
                read_phase=data["read_phase"],
                read_version=data["read_version"],
                rationale=data["rationale"],
                override_justification=data["override_justification"],
                lessons=data["lessons"],
                next_review_on=data["next_review_on"],
            )
        except DecisionRefused as refused:
            for field, problem in refused.problems.items():
                form.add_error(field if field in form.fields else None, problem)
        except PilotMovedOn as moved:
            form.add_error(None, f"{moved} Reload the page to see where it stands.")
        else:
            messages.success(request, _decided_message(review))
            url = pilot.get_absolute_url()
            return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    context = _context(request, pilot, decision_form=form)
    if request.htmx:
        return render(request, f"{TEMPLATE}#decision", context)
    return render(request, TEMPLATE, context)


def _decided_message(review: Any) -> str:
    phases = dict(Phase.choices)
    if review.decision == Decision.ADVANCE:
        text = f"Advanced to {phases[review.to_phase]}."
        return text + " Recorded as an override." if review.is_override else text
    if review.decision == Decision.HOLD:
        return f"Held in {phases[review.from_phase]} until the review on {review.next_review_on:%d %b %Y}."
    return "Killed. The rationale and lessons are on record."


@require_safe
@vary_on_headers("HX-Request")
def similar_lessons(request: HttpRequest) -> HttpResponse:
    """Killed pilots whose problem resembles ``?problem=…``, with their lessons (a partial for pilot creation)."""
    problem = request.GET.get("problem", "")[:2000]
    return render(request, "gates/_similar_lessons.html", {"problem": problem})
