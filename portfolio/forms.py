"""The forms owners, sponsors and the portfolio office fill in: readings, check-ins and edits.

Accessible by construction: Django 5.2 ties each field's errors and help to it
(``aria-describedby``, ``aria-invalid``); ``AccessibleForm`` also puts ``autofocus`` on
the first field with an error, so a keyboard or screen-reader user lands on it
without any script. Numbers are read by ``portfolio.readings.parse_number`` so every
form accepts and refuses the same input.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.urls import reverse

from portfolio.models import BusinessUnit, Comparator, Confidence, Direction, Kpi, Pilot
from portfolio.readings import ReadingProblem, check_reading_date, parse_number

DATE_HELP = "Enter the date as YYYY-MM-DD, such as 2026-11-16."
REASON_HELP = (
    "Needed when a baseline, target, their dates, the direction or a kill criterion changes; shown on the pilot page."
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: str, *, required: bool = True, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        error_messages={"required": f"{label} is required. {DATE_HELP}", "invalid": DATE_HELP},
        **kwargs,
    )


class NumberField(forms.CharField):
    """A typed number: "12.5" and "1,234.5" are read, anything else is refused with an example."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, float):
            return f"{value:.10g}"
        return value

    def clean(self, value: Any) -> float | None:
        # Not CharField's "This field is required.": parse_number says what to type.
        text = self.to_python(value)
        if not text and not self.required:
            return None
        try:
            return parse_number(text)
        except ReadingProblem as problem:
            raise ValidationError(str(problem), code="invalid") from None


class PersonField(forms.CharField):
    """An active user, typed by username with a searchable list of people beside it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"list": "people-options", "autocomplete": "off", "autocapitalize": "none"}),
        )
        kwargs.setdefault("help_text", "Type a name or username and pick the person from the list.")
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, AbstractBaseUser):
            return value.get_username()
        return value

    def clean(self, value: Any) -> AbstractBaseUser | None:
        username = (super().clean(value) or "").strip()
        if not username:
            return None
        user = get_user_model().objects.filter(username__iexact=username, is_active=True).first()
        if user is None:
            raise ValidationError(f'Nobody active has the username "{username}". Pick a person from the list.')
        return user


class AccessibleForm(forms.Form):
    """A form whose first invalid field takes the focus when the page or fragment loads."""

    def full_clean(self) -> None:
        super().full_clean()
        self.focus_first_error()

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        self.focus_first_error()

    def focus_first_error(self) -> None:
        for field in self.fields.values():
            field.widget.attrs.pop("autofocus", None)
        for name, field in self.fields.items():
            if name in self.errors and not field.widget.is_hidden:
                field.widget.attrs["autofocus"] = True
                return

    @property
    def visible_error_fields(self) -> list[str]:
        return [name for name in self.fields if name in self.errors and not self.fields[name].widget.is_hidden]


class ReadingForm(AccessibleForm):
    """One KPI reading, inline in the KPI's row."""

    measured_on = date_field("Date")
    value = NumberField(label="Value")
    note = forms.CharField(label="Note", required=False, max_length=2000)
    # The date whose existing reading the user saw and agreed to replace.
    replace = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, kpi: Kpi, started_on: dt.date, today: dt.date, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"kpi-{kpi.pk}")
        kwargs.setdefault("initial", {"measured_on": today})
        super().__init__(*args, **kwargs)
        self.kpi, self.started_on, self.today = kpi, started_on, today
        self.fields["value"].label = f"Value ({kpi.unit})" if kpi.unit else "Value"
        self.fields["measured_on"].widget.attrs.update({"max": today.isoformat(), "min": started_on.isoformat()})
        self.fields["note"].widget.attrs["placeholder"] = "Optional"

    def clean_measured_on(self) -> dt.date:
        measured_on = self.cleaned_data["measured_on"]
        try:
            check_reading_date(measured_on, started_on=self.started_on, today=self.today)
        except ReadingProblem as problem:
            raise ValidationError(str(problem)) from None
        return measured_on

    @property
    def replace_confirmed(self) -> bool:
        """The user confirmed replacing the reading of exactly this date."""
        measured_on = self.cleaned_data.get("measured_on")
        return measured_on is not None and self.cleaned_data.get("replace") == measured_on.isoformat()


class CheckInForm(AccessibleForm):
    """A sponsor's check-in: how confident they are, and a note."""

    on = date_field("Date")
    confidence = forms.ChoiceField(
        label="Confidence",
        choices=Confidence.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how confident you are: high, medium or low."},
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you saw, what worries you, what you asked for.",
    )

    def __init__(self, *args: Any, pilot: Pilot, today: dt.date, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"checkin-{pilot.key}")
        kwargs.setdefault("initial", {"on": today})
        super().__init__(*args, **kwargs)
        self.pilot, self.today = pilot, today
        self.fields["on"].widget.attrs.update({"max": today.isoformat()})

    def clean_on(self) -> dt.date:
        on = self.cleaned_data["on"]
        if on > self.today:
            raise ValidationError(f"The date {on:%d %b %Y} is in the future; a check-in is of what you know now.")
        if on < self.pilot.started_on:
            raise ValidationError(
                f"The date {on:%d %b %Y} is before the pilot started ({self.pilot.started_on:%d %b %Y})."
            )
        return on


class VersionedForm(AccessibleForm):
    """An edit form that carries the version it was read at (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    # Fields the edit does not save on the object (the lock, the reason).
    bookkeeping = ("version", "reason")

    def changes(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name not in self.bookkeeping}


class PilotDescriptionForm(VersionedForm):
    """What the owner may change on their pilot: the problem and the outcome sought."""

    problem = forms.CharField(
        label="Problem",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The workflow bottleneck the pilot attacks.",
    )
    outcome = forms.CharField(
        label="Outcome sought",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The business outcome, in words an executive repeats.",
    )
    field_order = ["problem", "outcome"]


class PilotOfficeForm(PilotDescriptionForm):
    """The portfolio office's edit: names, people, review date and money too."""

    name = forms.CharField(label="Name", max_length=200)
    business_unit = forms.ModelChoiceField(
        label="Business unit",
        queryset=BusinessUnit.objects.order_by("name"),
        empty_label=None,
    )
    owner = PersonField(label="Owner", required=False)
    sponsor = PersonField(label="Sponsor", required=False)
    next_review_on = date_field("Next review", required=False)
    budget = forms.DecimalField(label="Budget", required=False, min_value=0, max_digits=14, decimal_places=2)
    spent = forms.DecimalField(label="Spent", required=False, min_value=0, max_digits=14, decimal_places=2)
    field_order = ["name", "business_unit", "problem", "outcome", "owner", "sponsor", "next_review_on", "budget"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("owner", "sponsor"):
            # As the name is typed, htmx refreshes the list of people it may mean.
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": reverse("people"),
                    "hx-trigger": "input changed delay:300ms",
                    "hx-target": "#people-options",
                    "hx-swap": "innerHTML",
                }
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        owner, sponsor = cleaned.get("owner"), cleaned.get("sponsor")
        if owner is not None and owner == sponsor:
            self.add_error("sponsor", "The sponsor answers for the owner, so they must be two different people.")
        return cleaned


class PilotCreateForm(PilotOfficeForm):
    """A new pilot, created by the portfolio office in proof of concept."""

    key = forms.SlugField(
        label="Key",
        max_length=64,
        help_text="Short and unique, used in addresses and uploads: letters, digits and hyphens.",
    )
    started_on = date_field("Started")
    field_order = ["name", "key", "business_unit", "problem", "outcome", "owner", "sponsor", "started_on"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["version"]


class ReasonMixin(forms.Form):
    reason = forms.CharField(
        label="Why the goalposts change",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=REASON_HELP,
    )
    # Needed only when a goalpost changes, so not labelled "optional".
    reason.show_optional = False


class KpiForm(ReasonMixin, VersionedForm):
    """A KPI: what is measured, its baseline and target."""

    key = forms.SlugField(label="Key", max_length=64, help_text="Short, unique in this pilot; used in CSV uploads.")
    name = forms.CharField(label="Name", max_length=200)
    unit = forms.CharField(label="Unit", max_length=40, required=False, help_text="Such as %, minutes or €.")
    direction = forms.ChoiceField(label="Which way is better", choices=Direction.choices, widget=forms.RadioSelect)
    baseline = NumberField(label="Baseline", required=False, help_text="The value before the pilot.")
    baseline_on = date_field("Baseline measured on", required=False)
    target = NumberField(label="Target")
    target_on = date_field("Target date", required=False)
    field_order = ["name", "key", "unit", "direction", "baseline", "baseline_on", "target", "target_on", "reason"]

    def __init__(self, *args: Any, frozen: bool, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not frozen:
            del self.fields["reason"]
        if creating:
            del self.fields["version"]
        else:
            del self.fields["key"]


class KillCriterionForm(ReasonMixin, VersionedForm):
    """A kill criterion: in words, and optionally as a measurable condition on a KPI."""

    key = forms.SlugField(label="Key", max_length=64, help_text="Short, unique in this pilot.")
    description = forms.CharField(label="Description", widget=forms.Textarea(attrs={"rows": 2}))
    kpi = forms.ModelChoiceField(label="KPI", queryset=Kpi.objects.none(), required=False, empty_label="No KPI")
    comparator = forms.ChoiceField(label="Stop if the KPI is", choices=[("", "—"), *Comparator.choices], required=False)
    threshold = NumberField(label="Threshold", required=False)
    evaluate_on = date_field("Judge from", required=False, help_text="Leave empty to judge from the start.")
    field_order = ["key", "description", "kpi", "comparator", "threshold", "evaluate_on", "reason"]

    def __init__(self, *args: Any, pilot: Pilot, frozen: bool, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = Kpi.objects.filter(pilot=pilot).order_by("id")
        if not frozen:
            del self.fields["reason"]
        if creating:
            del self.fields["version"]
        else:
            del self.fields["key"]

    def clean_comparator(self) -> str | None:
        return self.cleaned_data["comparator"] or None


class BusinessUnitForm(AccessibleForm):
    name = forms.CharField(label="Name", max_length=120)
    # Units carry no version: the name the form was read with is the lock.
    original_name = forms.CharField(required=False, widget=forms.HiddenInput)


class UploadForm(AccessibleForm):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns kpi, date, value, note; one reading a line; dates as YYYY-MM-DD.",
        error_messages={"required": "Choose a CSV file to upload.", "empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
