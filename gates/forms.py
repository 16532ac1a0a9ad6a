"""Forms of the gate review page: evidence for a criterion, and the decision.

They only read the input; what a decision needs (an override, a review date, lessons)
is decided by ``gates.decisions`` inside the decision service.
"""

from __future__ import annotations

from django import forms

from gates.models import Decision
from gates.services import EVIDENCE_MAX_LENGTH


class AttestationForm(forms.Form):
    evidence = forms.CharField(
        label="Evidence (text or link)",
        max_length=EVIDENCE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Describe the evidence or paste a link to it."},
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a decision: advance, hold or kill."},
    )
    rationale = forms.CharField(
        label="Rationale", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Why this decision."
    )
    override_justification = forms.CharField(
        label="Override justification",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only to advance with unmet criteria: at least 30 characters. It is shown on the pilot page.",
    )
    lessons = forms.CharField(
        label="What was learned",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to kill: shown to whoever starts a pilot with a similar problem.",
    )
    next_review_on = forms.DateField(
        label="Next review",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Required to hold; optional when advancing.",
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
    )
    # What the page showed when the form was read: a decision on a pilot that moved
    # on since (someone else decided, or edited it) is refused, not recorded twice.
    read_phase = forms.CharField(widget=forms.HiddenInput)
    read_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
