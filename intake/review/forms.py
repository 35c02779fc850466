"""The forms practitioners fill in on a submission's review page."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.models import FlagDecision, ReviewStatus

YES_NO = [("yes", "Yes"), ("no", "No")]


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
    # Cold-sore flags: the antiviral plan (screening specification §4.4). Recorded, not prescribed.
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
    drug = forms.CharField(required=False, max_length=100)
    dose = forms.CharField(required=False, max_length=100, help_text="e.g. 500 mg twice daily")
    start_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    prescriber = forms.CharField(label="Prescriber's name", required=False, max_length=200)

    def antiviral_plan(self) -> dict[str, Any]:
        """The plan as stored: yes/no as booleans, dates as ISO text."""
        data = self.cleaned_data

        def yes_no(name: str) -> bool | None:
            return {"yes": True, "no": False}.get(data.get(name) or "")

        return {
            "offered": yes_no("offered"),
            "accepted": yes_no("accepted"),
            "risk_discussion": data.get("risk_discussion", ""),
            "drug": data.get("drug", ""),
            "dose": data.get("dose", ""),
            "start_date": data["start_date"].isoformat() if data.get("start_date") else "",
            "end_date": data["end_date"].isoformat() if data.get("end_date") else "",
            "prescriber": data.get("prescriber", ""),
        }


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
