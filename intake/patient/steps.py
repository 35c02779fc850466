"""Taking one posted page of a questionnaire: the one place that moves a patient on by a step.

The patient's pages keep the result in their draft; "Preview as patient" keeps it in the page it
sends back. Both call `take_step` and show the page it says.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from intake.patient.forms import PatientDetailsForm, StepForm
from intake.questionnaire import DETAILS, Questionnaire, Step
from intake.rules import DATE_OF_BIRTH, RaisedFlag, check_eligibility, evaluate, visible_questions


@dataclass(frozen=True)
class Progress:
    """How far a patient has got: their details, their answers and their appointment date."""

    # As a draft stores them: PatientDetails.stored(), or only what an invitation already gave.
    details: Mapping[str, str]
    answers: Mapping[str, Any]
    treatment_date: datetime.date | None
    # The clinic booked the appointment with an invitation: the patient cannot change its date.
    treatment_date_fixed: bool = False


@dataclass(frozen=True)
class StepTaken:
    """What a posted page comes to."""

    form: PatientDetailsForm | StepForm
    # The progress to keep, or None when the page gave nothing that can be kept.
    progress: Progress | None
    # Whether the page was answered in full, so that the patient may go past it.
    complete: bool
    # The step to show next: None to show this page again with its errors, or its own number to
    # stay (after "Save and continue later").
    go_to: int | None
    # The question set's eligibility rules that stop the patient at the details step (under 18,
    # say), before any health question: nothing of theirs is to be kept.
    stopped: tuple[RaisedFlag, ...] = ()


def step_form(
    questionnaire: Questionnaire,
    step: Step,
    progress: Progress,
    data: Mapping[str, Any] | None,
    *,
    today: datetime.date,
) -> PatientDetailsForm | StepForm:
    """The form of a step (not the check step), bound to `data` when a page was posted."""
    if step.kind == DETAILS:
        return PatientDetailsForm(
            data,
            initial={**progress.details, "treatment_date": progress.treatment_date},
            definition=questionnaire.definition,
            today=today,
            treatment_date_fixed=progress.treatment_date_fixed,
        )
    return StepForm(
        questionnaire,
        step.section_key,
        submitted_on=today,
        reference_date=progress.treatment_date,
        answers=progress.answers,
        data=data,
        exclude={DATE_OF_BIRTH},
    )


def take_step(
    questionnaire: Questionnaire,
    step: Step,
    progress: Progress,
    data: Mapping[str, Any],
    *,
    action: str,
    today: datetime.date,
    changing: bool = False,
) -> StepTaken:
    """Check a posted page and say what to keep and which step comes next.

    `action` is the button pressed: "back", "save" (continue later) or anything else to go on.
    A page with mistakes keeps its valid answers when the patient goes back or saves it, but
    does not count as done, so the patient cannot skip past it. `changing`: the patient came
    from the check page to change this step, so going on leads back there, by way of any step
    the change left with a question to answer.
    """
    form = step_form(questionnaire, step, progress, data, today=today)
    valid = form.is_valid()
    back = step.number - 1 if step.number > 1 else None
    if isinstance(form, PatientDetailsForm):
        if not valid:
            return StepTaken(form, None, complete=False, go_to=back if action == "back" else None)
        details = form.details()
        treatment_date = progress.treatment_date
        if "treatment_date" in form.fields:
            treatment_date = form.cleaned_data["treatment_date"]
        answers: dict[str, Any] = {}
        if DATE_OF_BIRTH in questionnaire.definition.questions:
            answers[DATE_OF_BIRTH] = details.date_of_birth.isoformat()
        stopped = check_eligibility(
            questionnaire.definition, answers, submitted_on=today, reference_date=treatment_date
        )
        if stopped:
            return StepTaken(form, None, complete=False, go_to=None, stopped=stopped)
        kept = Progress(
            details.stored(),
            _merge(
                questionnaire, progress.answers, {DATE_OF_BIRTH}, answers, treatment_date, today
            ),
            treatment_date,
            progress.treatment_date_fixed,
        )
    else:
        if not valid and action not in ("back", "save"):
            return StepTaken(form, None, complete=False, go_to=None)
        answers = form.answers() if valid else form.partial_answers()
        kept = Progress(
            progress.details,
            _merge(
                questionnaire,
                progress.answers,
                form.questions.keys(),
                answers,
                progress.treatment_date,
                today,
            ),
            progress.treatment_date,
            progress.treatment_date_fixed,
        )
    if action == "back" and changing:
        go_to = questionnaire.steps[-1].number
    elif action == "back":
        go_to = back if back is not None else step.number
    elif action == "save":
        go_to = step.number
    elif changing and valid:
        go_to = _next_to_answer(questionnaire, kept, today) or questionnaire.steps[-1].number
    else:
        go_to = step.number + 1
    return StepTaken(form, kept, complete=valid, go_to=go_to)


def _next_to_answer(
    questionnaire: Questionnaire, progress: Progress, today: datetime.date
) -> int | None:
    """The first step with a question that is now asked and has no answer, if any."""
    evaluation = evaluate(
        questionnaire.definition,
        progress.answers,
        submitted_on=today,
        reference_date=progress.treatment_date,
    )
    for key in evaluation.unanswered:
        return questionnaire.step_of_question(key).number
    return None


def _merge(
    questionnaire: Questionnaire,
    before: Mapping[str, Any],
    replaced: Collection[str],
    answers: Mapping[str, Any],
    treatment_date: datetime.date | None,
    today: datetime.date,
) -> dict[str, Any]:
    """The answers after a page: its own replace those of its questions, and a changed answer
    drops what the follow-ups it now hides held, on any step."""
    merged = {key: value for key, value in before.items() if key not in replaced} | dict(answers)
    shown = visible_questions(
        questionnaire.definition, merged, submitted_on=today, reference_date=treatment_date
    )
    return {key: value for key, value in merged.items() if key in shown}
