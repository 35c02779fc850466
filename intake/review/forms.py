"""The forms practitioners fill in on a submission's review page."""

from __future__ import annotations

import calendar
import datetime
import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.text import refuse_bidi_controls
from intake.models import FlagDecision, ReviewStatus
from intake.rules import CHOICE_TYPES, DEFAULT_MAX_LENGTH, NOT_SURE, QuestionSpec

YES_NO = [("yes", "Yes"), ("no", "No")]
# The drugs an antiviral plan names (screening specification §4.3); any other is named in full.
OTHER_DRUG = "other"
DRUGS = [
    ("aciclovir", "Aciclovir"),
    ("valaciclovir", "Valaciclovir"),
    ("famciclovir", "Famciclovir"),
    (OTHER_DRUG, "Other (name it)"),
]
# The UK regulators of prescribers.
PROFESSIONAL_BODIES = [
    ("GMC", "GMC (doctors)"),
    ("NMC", "NMC (nurses and midwives)"),
    ("GPhC", "GPhC (pharmacists)"),
    ("PSNI", "PSNI (pharmacists, Northern Ireland)"),
    ("GDC", "GDC (dentists)"),
    ("HCPC", "HCPC (allied health professionals)"),
]
# How far from the treatment day a course may start or end, in days either way.
COURSE_DAYS = 60
# The plan's text fields and confirmations, stored under these names.
PLAN_TEXT = (
    "drug",
    "drug_other",
    "strength",
    "dose",
    "route",
    "frequency",
    "quantity",
    "prescriber",
    "prescriber_body",
    "prescriber_registration",
    "issued_by",
)
PLAN_CHECKS = ("interactions_checked", "kidney_checked", "allergy_checked", "patient_told")


class ReviewStatusForm(forms.Form):
    # A review never goes back to "new"; "in review" reopens it.
    status = forms.ChoiceField(choices=[c for c in ReviewStatus.choices if c[0] != "new"])
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    rebook_after = forms.DateField(
        required=False,
        label="Earliest rebook date (if deferred)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # Clearing is signed. Never shown again once posted, nor kept anywhere.
    signature = forms.CharField(
        required=False,
        max_length=200,
        strip=False,
        label="Signature",
        help_text="To clear: your password, or a new code from your authenticator app.",
        widget=forms.PasswordInput(render_value=False),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def clean_rebook_after(self) -> datetime.date | None:
        value: datetime.date | None = self.cleaned_data["rebook_after"]
        if value is not None and value < timezone.localdate():
            raise ValidationError("The earliest rebook date cannot be in the past.")
        return value


class FlagDecisionForm(forms.Form):
    flag = forms.IntegerField(widget=forms.HiddenInput)
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    kind = forms.ChoiceField(choices=FlagDecision.KINDS, initial=FlagDecision.ACKNOWLEDGED)
    note = forms.CharField(
        label="Note (for an override, the reason)",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    # Cold-sore flags: the antiviral plan and its prescription (screening specification §4.4).
    # Recorded, never prescribed. Its course is held as days relative to the treatment day, so
    # that it moves with the appointment (intake.review.plans).
    offered = forms.ChoiceField(
        label="Antiviral cover offered?", choices=YES_NO, required=False, widget=forms.RadioSelect
    )
    accepted = forms.ChoiceField(
        label="Accepted?", choices=YES_NO, required=False, widget=forms.RadioSelect
    )
    risk_discussion = forms.CharField(
        label="If declined: the risk discussion and your decision",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    consultation_date = forms.DateField(
        label="Date of the face-to-face consultation", required=False
    )
    drug = forms.ChoiceField(label="Drug", choices=[("", "Choose"), *DRUGS], required=False)
    drug_other = forms.CharField(label="Name of the other drug", required=False, max_length=100)
    strength = forms.CharField(label="Strength", required=False, max_length=100)
    dose = forms.CharField(label="Dose", required=False, max_length=100)
    route = forms.CharField(label="Route", required=False, max_length=100)
    frequency = forms.CharField(label="Frequency", required=False, max_length=100)
    quantity = forms.CharField(label="Quantity", required=False, max_length=100)
    start_day = forms.IntegerField(
        label="First day", required=False, min_value=-COURSE_DAYS, max_value=COURSE_DAYS
    )
    end_day = forms.IntegerField(
        label="Last day", required=False, min_value=-COURSE_DAYS, max_value=COURSE_DAYS
    )
    interactions_checked = forms.BooleanField(label="Interaction check done", required=False)
    kidney_checked = forms.BooleanField(label="Kidney function checked", required=False)
    allergy_checked = forms.BooleanField(label="Antiviral allergy checked", required=False)
    prescriber = forms.CharField(label="Prescriber's name", required=False, max_length=200)
    prescriber_body = forms.ChoiceField(
        label="Professional body",
        choices=[("", "Choose"), *PROFESSIONAL_BODIES],
        required=False,
    )
    prescriber_registration = forms.CharField(
        label="Registration number", required=False, max_length=50
    )
    issued_on = forms.DateField(label="Date the prescription was issued", required=False)
    issued_by = forms.CharField(label="Issued by", required=False, max_length=200)
    patient_told = forms.BooleanField(label="The patient was told how to take it", required=False)

    def clean_consultation_date(self) -> datetime.date | None:
        return _not_in_future(self.cleaned_data["consultation_date"], "consultation")

    def clean_issued_on(self) -> datetime.date | None:
        return _not_in_future(self.cleaned_data["issued_on"], "prescription's issue")

    def antiviral_plan(self) -> dict[str, Any]:
        """The plan as stored: yes/no as booleans, dates as ISO text, days as whole numbers."""
        data = self.cleaned_data

        def yes_no(name: str) -> bool | None:
            return {"yes": True, "no": False}.get(data.get(name) or "")

        def iso(name: str) -> str:
            value = data.get(name)
            return value.isoformat() if value else ""

        plan: dict[str, Any] = {
            "offered": yes_no("offered"),
            "accepted": yes_no("accepted"),
            "risk_discussion": data.get("risk_discussion", ""),
            "consultation_date": iso("consultation_date"),
            "start_day": data.get("start_day"),
            "end_day": data.get("end_day"),
            "issued_on": iso("issued_on"),
        }
        for name in PLAN_TEXT:
            plan[name] = data.get(name, "")
        for name in PLAN_CHECKS:
            plan[name] = bool(data.get(name))
        return plan


def _not_in_future(value: datetime.date | None, what: str) -> datetime.date | None:
    if value is not None and value > timezone.localdate():
        raise ValidationError(f"The {what} date cannot be in the future.")
    return value


class TreatmentDateForm(forms.Form):
    treatment_date = forms.DateField(
        label="New treatment date",
        required=False,
        help_text="Leave empty if the appointment is cancelled and not yet rebooked.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def clean_treatment_date(self) -> datetime.date | None:
        value: datetime.date | None = self.cleaned_data["treatment_date"]
        today = timezone.localdate()
        earliest, latest = (
            today - datetime.timedelta(days=365),
            today + datetime.timedelta(days=730),
        )
        if value is not None and not earliest <= value <= latest:
            raise ValidationError("Enter a date within a year before or two years after today.")
        return value


class ReopenForm(forms.Form):
    """Reopen a signed and locked submission, with the reason."""

    reopen_reason = forms.CharField(
        label="Reason for reopening", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


# How a practitioner may type a corrected date: day month year, or month year where the question
# takes a month; the month as a number or a name ("14 3 2024", "14 March 2024", "2024-03-14").
_DATE_PARTS = re.compile(r"[\s/.,-]+")
_MONTH_NUMBERS = {
    name.lower(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
} | {"sept": 9}
EARLIEST_YEAR = 1900


def read_date(text: str, *, allow_month_year: bool) -> str:
    """A typed date in the engine's format ("YYYY-MM-DD", or "YYYY-MM" where a month will do)."""
    parts = [part for part in _DATE_PARTS.split(text.strip()) if part]
    if len(parts) >= 2 and len(parts[0]) == 4 and parts[0].isdigit():
        parts = parts[::-1]  # written year first, as 2024-03-14
    example = "for example 14 3 2024" + (
        " (or the month and year, 3 2024)" if allow_month_year else ""
    )
    if len(parts) == 2 and not allow_month_year:
        raise ValidationError(f"This question needs the day as well: {example}.", code="no_day")
    if len(parts) not in (2, 3):
        raise ValidationError(f"Enter a date, {example}.", code="invalid_date")
    day = parts[0] if len(parts) == 3 else None
    month_text, year_text = parts[-2], parts[-1]
    month = _MONTH_NUMBERS.get(month_text.lower().rstrip("."))
    if month is None and month_text.isdigit():
        month = int(month_text)
    if (
        month is None
        or not 1 <= month <= 12
        or not (year_text.isdigit() and len(year_text) == 4)
        or (day is not None and not (day.isdigit() and len(day) <= 2))
    ):
        raise ValidationError(f"Enter a real date, {example}.", code="invalid_date")
    year = int(year_text)
    if year < EARLIEST_YEAR:
        raise ValidationError(f"Enter a year from {EARLIEST_YEAR} on.", code="invalid_date")
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return datetime.date(year, month, int(day)).isoformat()
    except ValueError:
        raise ValidationError(f"Enter a real date, {example}.", code="invalid_date") from None


def answer_field(question: QuestionSpec) -> forms.Field:
    """A field for a corrected answer to `question`, cleaning to the engine's answer format.

    Whether the value fits the question as its version asks it (a date in the past, a number in
    range) is checked by the engine's `check_answers`, as at submission.
    """
    common: dict[str, Any] = {"label": "Corrected answer", "help_text": question.help_text}
    choices = [(choice.code, choice.label) for choice in question.choices]
    if question.type in CHOICE_TYPES:
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if question.type == "multiple_choice":
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if question.type == "date":
        month = question.allow_month_year
        common["help_text"] = "Day, month and year, for example 14 3 2024" + (
            "; or the month and year, 3 2024" if month else ""
        )
        return forms.CharField(
            required=not question.allow_not_sure,
            max_length=40,
            widget=forms.TextInput(attrs={"aria-describedby": "answer-help"}),
            **common,
        )
    if question.type == "number":
        return forms.DecimalField(max_digits=15, **common)
    limit = question.max_length or DEFAULT_MAX_LENGTH[question.type]
    if question.type == "long_text":
        return forms.CharField(max_length=limit, widget=forms.Textarea(attrs={"rows": 3}), **common)
    # As on the patient's form: no characters that reorder how the text around them reads.
    return forms.CharField(max_length=limit, validators=[refuse_bidi_controls], **common)


class AnswerCorrectionForm(forms.Form):
    """A correction of one of the patient's answers, as the patient confirmed it, with why.

    `questions`: those that may be corrected. The corrected answer's field follows the question
    chosen (posted, or `initial`); `value()` gives the answer in the engine's format.
    """

    answer_question = forms.ChoiceField(label="Question")
    answer_reason = forms.CharField(
        label="Reason for the correction", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args: Any, questions: list[QuestionSpec], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = {question.key: question for question in questions}
        chooser = self.fields["answer_question"]
        assert isinstance(chooser, forms.ChoiceField)  # noqa: S101 - declared above
        chooser.choices = [(q.key, q.text) for q in questions]
        chosen = self.data.get("answer_question") if self.is_bound else None
        if chosen is None:
            chosen = self.initial.get("answer_question")
        self.question = self.questions.get(chosen) if isinstance(chosen, str) else None
        if self.question is not None:
            self.fields["answer"] = answer_field(self.question)
            if self.question.type == "date" and self.question.allow_not_sure:
                self.fields["answer_not_sure"] = forms.BooleanField(
                    required=False, label=self.question.not_sure_label or "Not sure"
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        question = self.question
        if question is None or "answer" in self.errors:
            return data
        if question.type == "date":
            typed = data.get("answer", "")
            if data.get("answer_not_sure"):
                if typed:
                    self.add_error("answer", "Enter a date or tick “not sure”, not both.")
                else:
                    data["value"] = NOT_SURE
            elif not typed:
                self.add_error("answer", "Enter the date, or tick “not sure”.")
            else:
                try:
                    data["value"] = read_date(typed, allow_month_year=question.allow_month_year)
                except ValidationError as error:
                    self.add_error("answer", error)
        elif question.type == "number":
            number: Decimal = data["answer"]
            data["value"] = int(number) if number == number.to_integral_value() else float(number)
        elif question.type == "multiple_choice":
            ticked = set(data.get("answer") or ())
            data["value"] = [c.code for c in question.choices if c.code in ticked]
        else:
            data["value"] = data.get("answer")
        return data

    def value(self) -> Any:
        return self.cleaned_data.get("value")


class TreatedForm(forms.Form):
    """Mark a cleared patient as treated: the review's final status."""

    treated_reason = forms.CharField(
        label="Note",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Please give a note on the treatment."},
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
