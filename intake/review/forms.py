"""The forms practitioners fill in on a submission's review page."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.models import FlagDecision, ReviewStatus

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
