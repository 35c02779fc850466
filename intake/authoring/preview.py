"""A question-set version previewed as a patient sees it, step by step, without storing anything.

The pages are the patient's own templates and forms. Instead of a draft in the database, the
answers given so far travel in a signed hidden field of each page's form, so a preview leaves
no draft, submission or session data behind.
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
from intake.patient.forms import (
    DATE_OF_BIRTH,
    PatientDetailsForm,
    StepForm,
    conditions_from_document,
)
from intake.questionnaire import CHECK, DETAILS, answer_summary, steps_for
from intake.rules import Definition, DefinitionError, evaluate, load_definition, visible_questions

_SALT = "intake.authoring.preview"
# The state of a preview page is valid for a working day, then the preview starts again.
_MAX_AGE = 12 * 60 * 60


def _state(request: HttpRequest, version: QuestionSetVersion) -> dict[str, Any]:
    """The step, details and answers carried by the posted page, or a fresh start."""
    fresh: dict[str, Any] = {"version": version.pk, "step": 1, "details": {}, "answers": {}}
    if request.method != "POST":
        return fresh
    try:
        state = signing.loads(request.POST.get("preview_state", ""), salt=_SALT, max_age=_MAX_AGE)
    except signing.BadSignature:
        return fresh
    if not isinstance(state, dict) or state.get("version") != version.pk:
        return fresh
    return state


def _treatment_date(state: dict[str, Any]) -> datetime.date | None:
    value = state["details"].get("treatment_date")
    return datetime.date.fromisoformat(value) if value else None


def _visible_answers(
    definition: Definition, answers: dict[str, Any], state: dict[str, Any], today: datetime.date
) -> dict[str, Any]:
    # As Draft.record_step does: a changed answer drops the follow-ups it now hides.
    shown = visible_questions(
        definition, answers, submitted_on=today, reference_date=_treatment_date(state)
    )
    return {key: value for key, value in answers.items() if key in shown}


def preview_step(
    request: HttpRequest, version: QuestionSetVersion, *, admin_site: AdminSite
) -> HttpResponse:
    """Show the preview's current step, or take its posted answers and show the next one."""
    context: dict[str, Any] = {
        **admin_site.each_context(request),
        "version": version,
        "title": f"Preview of {version}",
    }
    document = version.to_document()
    try:
        definition = load_definition(document)
    except DefinitionError as error:
        context["problems"] = error.problems
        return TemplateResponse(
            request, "admin/intake/questionsetversion/preview_problems.html", context, status=400
        )
    steps = steps_for(definition)
    state = _state(request, version)
    today = timezone.localdate()
    number = state["step"] if 1 <= state["step"] <= len(steps) else 1
    action = request.POST.get("action", "")
    form: PatientDetailsForm | StepForm | None = None
    notice = ""
    if request.method == "POST" and action == "back":
        number = max(1, number - 1)
    elif request.method == "POST" and steps[number - 1].kind != CHECK:
        form = _form(definition, document, steps[number - 1], state, request.POST, today)
        if action == "save":
            notice = "This is a preview: nothing is saved, so there is no link to continue later."
        elif form.is_valid():
            _take(definition, form, state, today)
            number += 1
            form = None
    elif request.method == "POST":
        notice = "This is a preview: nothing was sent and nothing is stored."
    current = steps[number - 1]
    state["step"] = number
    context |= {
        "step": current,
        "steps": steps,
        "notice": notice,
        "preview_state": signing.dumps(state, salt=_SALT),
    }
    if current.kind == CHECK:
        reference = _treatment_date(state)
        evaluation = evaluate(
            definition, state["answers"], submitted_on=today, reference_date=reference
        )
        context |= {
            "summary": answer_summary(definition, state["answers"], steps),
            "details": state["details"],
            "flags": evaluation.flags,
        }
        return TemplateResponse(
            request, "admin/intake/questionsetversion/preview_check.html", context
        )
    if form is None:
        form = _form(definition, document, current, state, None, today)
    context["form"] = form
    status = 400 if form.is_bound and form.errors else 200
    return TemplateResponse(
        request, "admin/intake/questionsetversion/preview_step.html", context, status=status
    )


def _form(
    definition: Definition,
    document: dict[str, Any],
    step: Any,
    state: dict[str, Any],
    data: Any,
    today: datetime.date,
) -> PatientDetailsForm | StepForm:
    if step.kind == DETAILS:
        return PatientDetailsForm(
            data, initial=state["details"], definition=definition, today=today
        )
    return StepForm(
        definition,
        step.section_key,
        submitted_on=today,
        reference_date=_treatment_date(state),
        answers=state["answers"],
        data=data,
        conditions=conditions_from_document(document),
        exclude={DATE_OF_BIRTH},
    )


def _take(
    definition: Definition,
    form: PatientDetailsForm | StepForm,
    state: dict[str, Any],
    today: datetime.date,
) -> None:
    """Fold a valid page's answers into the carried state."""
    if isinstance(form, PatientDetailsForm):
        cleaned = form.cleaned_data
        treatment = cleaned.get("treatment_date")
        state["details"] = {
            "full_name": cleaned["full_name"],
            DATE_OF_BIRTH: cleaned[DATE_OF_BIRTH],
            "email": cleaned["email"],
            "phone": cleaned["phone"],
            "treatment_date": treatment.isoformat() if treatment else "",
        }
        answers = {k: v for k, v in state["answers"].items() if k != DATE_OF_BIRTH}
        if DATE_OF_BIRTH in definition.questions:
            answers[DATE_OF_BIRTH] = cleaned[DATE_OF_BIRTH]
    else:
        kept = {k: v for k, v in state["answers"].items() if k not in form.questions}
        answers = kept | form.answers()
    state["answers"] = _visible_answers(definition, answers, state, today)
