"""The steps a patient goes through for one question-set version.

Step 1 is the patient's details (with the date of birth question), then one step per section,
then a last step to check the answers and give consent.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.patient.forms import DATE_OF_BIRTH
from intake.rules import Definition, Question

DETAILS = "details"
SECTION = "section"
CHECK = "check"


@dataclass(frozen=True)
class Step:
    number: int
    kind: str
    title: str
    section_key: str = ""


def steps_for(definition: Definition) -> tuple[Step, ...]:
    """Every step of the questionnaire, numbered from 1."""
    steps = [Step(1, DETAILS, "Your details")]
    for section in definition.sections:
        keys = [question.key for question in section.questions if question.key != DATE_OF_BIRTH]
        if keys:
            steps.append(Step(len(steps) + 1, SECTION, section.title, section.key))
    steps.append(Step(len(steps) + 1, CHECK, "Check your answers"))
    return tuple(steps)


def step_of_question(definition: Definition, key: str) -> Step:
    """The step on which a question is asked."""
    steps = steps_for(definition)
    if key == DATE_OF_BIRTH:
        return steps[0]
    section_key = definition.questions[key].section_key
    return next(step for step in steps if step.section_key == section_key)


@dataclass(frozen=True)
class AnsweredSection:
    step: Step
    rows: tuple[tuple[Question, str], ...]


def answer_summary(
    definition: Definition, answers: Mapping[str, Any], steps: tuple[Step, ...]
) -> list[AnsweredSection]:
    """The answers of each section step, as the patient would read them, in order."""
    summary = []
    for step in steps:
        if step.kind != SECTION:
            continue
        section = next(s for s in definition.sections if s.key == step.section_key)
        rows = tuple(
            (question, display_answer(question, answers[question.key]))
            for question in section.questions
            if question.key in answers and question.key != DATE_OF_BIRTH
        )
        summary.append(AnsweredSection(step, rows))
    return summary


def display_answer(question: Question, value: Any) -> str:
    """An answer in words: choice labels, dates written out, "Not sure" as the question puts it."""
    labels = {choice.code: choice.label for choice in question.choices}
    if question.type == "multiple_choice" and isinstance(value, list):
        return ", ".join(labels.get(code, str(code)) for code in value)
    if question.type == "date" and isinstance(value, str):
        return display_date(value, not_sure_label=question.not_sure_label)
    if labels and isinstance(value, str):
        return labels.get(value, value)
    return str(value)


def display_date(value: str, *, not_sure_label: str = "") -> str:
    """ "2024-03-14" → "14 March 2024", "2024-03" → "March 2024", "not_sure" → "Not sure"."""
    if value == "not_sure":
        return not_sure_label or "Not sure"
    try:
        if len(value) == 7:
            return datetime.date.fromisoformat(value + "-01").strftime("%B %Y")
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {day:%B %Y}"
