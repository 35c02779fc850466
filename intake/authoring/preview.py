"""A question-set version previewed as a patient sees it, step by step, without storing anything.

The pages are the patient's own: the same templates, forms and step logic (intake.patient.steps).
Instead of a draft in the database, the progress so far travels in a signed hidden field of each
page's form, so a preview leaves no draft, submission or session data behind.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.admin import AdminSite
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from intake.models import QuestionSetVersion
from intake.patient.steps import Progress, step_form, take_step
from intake.questionnaire import CHECK, Questionnaire, answer_summary
from intake.rules import DefinitionError, evaluate

_SALT = "intake.preview"
# The state of a preview page is valid for a working day, then the preview starts again.
_MAX_AGE = 12 * 60 * 60
_TEMPLATES = "admin/intake/questionsetversion"


def preview_step(
    request: HttpRequest, version: QuestionSetVersion, *, admin_site: AdminSite
) -> HttpResponse:
    """Show the preview's current step, or take its posted page and show the one that follows."""
    context: dict[str, Any] = {
        **admin_site.each_context(request),
        "version": version,
        "title": f"Preview of {version}",
    }
    try:
        questionnaire = Questionnaire.from_document(version.to_document())
    except DefinitionError as error:
        context["problems"] = error.problems
        return TemplateResponse(request, f"{_TEMPLATES}/preview_problems.html", context, status=400)
    steps = questionnaire.steps
    number, progress = _state(request, version)
    number = number if 1 <= number <= len(steps) else 1
    today = timezone.localdate()
    action = request.POST.get("action", "")
    form = None
    notice = ""
    if request.method == "POST" and steps[number - 1].kind != CHECK:
        taken = take_step(
            questionnaire, steps[number - 1], progress, request.POST, action=action, today=today
        )
        if taken.stopped:
            reasons = " ".join(flag.patient_guidance for flag in taken.stopped)
            notice = (
                "A patient with these details would be stopped here, before any health "
                f"question, and nothing of theirs kept. They would read: {reasons}"
            )
        if taken.progress is not None:
            progress = taken.progress
        if taken.go_to is None:
            form = taken.form
        else:
            number = taken.go_to
        if action == "save":
            notice = "This is a preview: nothing is saved, so there is no link to continue later."
    elif request.method == "POST" and action == "back":
        number -= 1
    elif request.method == "POST":
        notice = "This is a preview: nothing was sent and nothing is stored."
    current = steps[number - 1]
    context |= {
        "step": current,
        "steps": steps,
        "notice": notice,
        "preview_state": _signed(version, number, progress),
    }
    if current.kind == CHECK:
        evaluation = evaluate(
            questionnaire.definition,
            progress.answers,
            submitted_on=today,
            reference_date=progress.treatment_date,
        )
        context |= {
            "summary": answer_summary(questionnaire.definition, progress.answers, steps),
            "details": progress.details,
            "flags": evaluation.flags,
            # Never "no flag" for what was not answered: the page says which are missing.
            "unanswered": [
                questionnaire.definition.questions[key] for key in evaluation.unanswered
            ],
        }
        return TemplateResponse(request, f"{_TEMPLATES}/preview_check.html", context)
    if form is None:
        form = step_form(questionnaire, current, progress, None, today=today)
    context["form"] = form
    status = 400 if form.is_bound and form.errors else 200
    return TemplateResponse(request, f"{_TEMPLATES}/preview_step.html", context, status=status)


def _state(request: HttpRequest, version: QuestionSetVersion) -> tuple[int, Progress]:
    """The step and progress carried by the posted page, or a fresh start."""
    fresh = (1, Progress(details={}, answers={}, treatment_date=None))
    if request.method != "POST":
        return fresh
    try:
        state = signing.loads(request.POST.get("preview_state", ""), salt=_SALT, max_age=_MAX_AGE)
    except signing.BadSignature:
        return fresh
    if not isinstance(state, dict) or state.get("version") != version.pk:
        return fresh
    treatment = state["treatment_date"]
    progress = Progress(
        details=state["details"],
        answers=state["answers"],
        treatment_date=datetime.date.fromisoformat(treatment) if treatment else None,
    )
    return state["step"], progress


def _signed(version: QuestionSetVersion, number: int, progress: Progress) -> str:
    treatment = progress.treatment_date
    state = {
        "version": version.pk,
        "step": number,
        "details": dict(progress.details),
        "answers": dict(progress.answers),
        "treatment_date": treatment.isoformat() if treatment else "",
    }
    return signing.dumps(state, salt=_SALT)
