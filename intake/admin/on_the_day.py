"""The on-the-day check: with the patient present, a practitioner asks the questions the version
asks again before treatment (as the patient's re-check does), and records them with what the
screening specification asks for on the day: the time of the first antiviral dose, and who
inspected the lips and face, and when. The rules run again as for the patient's re-check."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from intake import published
from intake.models import ReCheck, ReCheckKind, Submission, User
from intake.patient.forms import ReCheckForm
from intake.questionnaire import Questionnaire
from intake.review import rechecks
from intake.review.decisions import answers_now


class OnTheDayForm(ReCheckForm):
    """The re-check's questions, as the practitioner records them, and the day's own records."""

    def __init__(
        self,
        questionnaire: Questionnaire,
        *,
        keys: Collection[str],
        answers: Mapping[str, Any],
        reference_date: datetime.date | None,
        ask_antiviral: bool,
        inspector: str,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        today = timezone.localdate()
        super().__init__(
            questionnaire,
            keys=keys,
            answers=answers,
            submitted_on=today,
            reference_date=reference_date,
            ask_antiviral=ask_antiviral,
            data=data,
        )
        if ask_antiviral:
            self.fields[ReCheck.FIRST_DOSE_AT] = forms.DateTimeField(
                label="When was the first antiviral dose taken?",
                required=False,
                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                help_text="Date and time, if the tablets are started.",
            )
        self.fields[ReCheck.INSPECTED_BY] = forms.CharField(
            label="Who inspected the lips and face?",
            max_length=200,
            initial=inspector,
            error_messages={"required": "Enter who inspected the lips and face"},
        )
        self.fields[ReCheck.INSPECTED_AT] = forms.TimeField(
            label="At what time (today)?",
            initial=timezone.localtime().strftime("%H:%M"),
            widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            error_messages={
                "required": "Enter the time the lips and face were inspected",
                "invalid": "Enter the time as hours and minutes, like 09:30",
            },
        )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        started = cleaned.get(ReCheck.ANTIVIRAL_STARTED)
        if started == "yes" and not cleaned.get(ReCheck.FIRST_DOSE_AT):
            self.add_error(ReCheck.FIRST_DOSE_AT, "Enter when the first antiviral dose was taken")
        first = cleaned.get(ReCheck.FIRST_DOSE_AT)
        if first is not None and first > timezone.now():
            self.add_error(ReCheck.FIRST_DOSE_AT, "The first dose cannot be in the future")
        return cleaned

    def extra(self) -> dict[str, str]:
        recorded = super().extra()
        first = self.cleaned_data.get(ReCheck.FIRST_DOSE_AT)
        if first is not None:
            # Clinic time, as the inspection's.
            local = timezone.localtime(first).replace(tzinfo=None)
            recorded[ReCheck.FIRST_DOSE_AT] = local.isoformat(timespec="minutes")
        inspected = datetime.datetime.combine(
            timezone.localdate(), self.cleaned_data[ReCheck.INSPECTED_AT]
        )
        recorded[ReCheck.INSPECTED_BY] = self.cleaned_data[ReCheck.INSPECTED_BY]
        recorded[ReCheck.INSPECTED_AT] = inspected.isoformat(timespec="minutes")
        return recorded

    def day_fields(self) -> list[forms.BoundField]:
        names = (ReCheck.FIRST_DOSE_AT, ReCheck.INSPECTED_BY, ReCheck.INSPECTED_AT)
        return [self[name] for name in names if name in self.fields]


def on_the_day_view(
    request: HttpRequest, submission: Submission, *, each_context: dict[str, Any]
) -> HttpResponse:
    """The page: the form, or the check recorded and back to the submission page."""
    user = request.user
    if not isinstance(user, User) or not user.has_perm("intake.review_submission"):
        raise PermissionDenied
    questionnaire = published.questionnaire(submission.version)
    keys = questionnaire.definition.asked_again
    form = OnTheDayForm(
        questionnaire,
        keys=keys,
        answers=answers_now(submission, questionnaire.definition)[0],
        reference_date=submission.treatment_date,
        ask_antiviral=submission.accepted_antiviral_plan() is not None,
        inspector=user.get_full_name() or user.get_username(),
        data=request.POST if request.method == "POST" else None,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            rechecks.record(
                submission,
                kind=ReCheckKind.ON_THE_DAY,
                answers=form.answers(),
                extra=form.extra(),
                by=user,
            )
            return HttpResponseRedirect(
                reverse("admin:intake_submission_change", args=[submission.pk])
                + "#on-the-day-heading"
            )
        status = 400
    context = {
        **each_context,
        "title": f"On-the-day check – {submission.reference}",
        "submission": submission,
        "form": form,
        "asks_nothing": not keys,
    }
    return TemplateResponse(
        request, "admin/intake/submission/on_the_day.html", context, status=status
    )
