"""What the patient's pages and the staff's pages share about a question-set version.

A patient goes through a version in steps: step 1 is their details (with the date of birth
question), then one step per section, then a last step to check the answers and give consent.
This module says what the steps are, what the patient's details are, and how an answer (or a
change in a submission's history) reads in words. It imports no forms, so the write path, the
review pages and the exports use it too.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.models import ChangeKind, FlagDecision, ReviewStatus, SubmissionChange
from intake.rules import DATE_OF_BIRTH, NOT_SURE, Definition, QuestionSpec, load_definition

# The question-set question asked with the patient's details rather than in its own section.

DETAILS = "details"
SECTION = "section"
CHECK = "check"


@dataclass(frozen=True)
class Step:
    number: int
    kind: str
    title: str
    section_key: str = ""


@dataclass(frozen=True)
class PatientDetails:
    """Who the patient is and how to reach them, as stored with a submission."""

    full_name: str
    date_of_birth: datetime.date
    email: str
    phone: str

    def stored(self) -> dict[str, str]:
        """The details as a draft keeps them (JSON)."""
        return {
            "full_name": self.full_name,
            DATE_OF_BIRTH: self.date_of_birth.isoformat(),
            "email": self.email,
            "phone": self.phone,
        }

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> PatientDetails | None:
        """The details a draft keeps, or None while any of them is missing."""
        values = [data.get(name) for name in ("full_name", DATE_OF_BIRTH, "email", "phone")]
        texts = [value for value in values if isinstance(value, str) and value]
        if len(texts) != len(values):
            return None
        full_name, birth, email, phone = texts
        try:
            date_of_birth = datetime.date.fromisoformat(birth)
        except ValueError:
            return None
        return cls(full_name, date_of_birth, email, phone)


@dataclass(frozen=True, eq=False)
class Questionnaire:
    """A version as patients go through it: its definition, its steps, and what the page script
    needs to show follow-ups as the patient answers."""

    definition: Definition
    steps: tuple[Step, ...]
    # Each follow-up's show_if as the document writes it (JSON), by question key: what the
    # step pages say reveals a follow-up ("If you answered ‘Yes’").
    show_if: Mapping[str, Any]
    # Date questions whose answer is a date of birth: its own key and those an age rule reads.
    birth_date_keys: frozenset[str]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Questionnaire:
        """Read a version's document; raises DefinitionError listing every problem found."""
        show_if = {
            item["key"]: item["show_if"]
            for section in document["sections"]
            for item in section["questions"]
            if item.get("show_if") is not None
        }
        return cls.from_definition(load_definition(document), show_if)

    @classmethod
    def from_definition(
        cls, definition: Definition, show_if: Mapping[str, Any] | None = None
    ) -> Questionnaire:
        """A definition's questionnaire; without `show_if`, follow-ups are left to the server."""
        return cls(definition, steps_for(definition), show_if or {}, _birth_date_keys(definition))

    def step_of_question(self, key: str) -> Step:
        """The step on which a question is asked."""
        if key == DATE_OF_BIRTH:
            return self.steps[0]
        section_key = self.definition.questions[key].section_key
        return next(step for step in self.steps if step.section_key == section_key)


def steps_for(definition: Definition) -> tuple[Step, ...]:
    """Every step of the questionnaire, numbered from 1."""
    steps = [Step(1, DETAILS, "Your details")]
    for section in definition.sections:
        if any(question.key != DATE_OF_BIRTH for question in section.questions):
            steps.append(Step(len(steps) + 1, SECTION, section.title, section.key))
    steps.append(Step(len(steps) + 1, CHECK, "Check your answers"))
    return tuple(steps)


def _birth_date_keys(definition: Definition) -> frozenset[str]:
    """Date questions that ask for a date of birth: this one, and those an `age_under` reads."""
    question = definition.questions.get(DATE_OF_BIRTH)
    own = {DATE_OF_BIRTH} if question is not None and question.type == "date" else set()
    return definition.birth_dates | own


@dataclass(frozen=True)
class AnsweredSection:
    step: Step
    rows: tuple[tuple[QuestionSpec, str], ...]


def answer_summary(
    definition: Definition, answers: Mapping[str, Any], steps: tuple[Step, ...]
) -> list[AnsweredSection]:
    """The answers of each section step, as the patient would read them, in order."""
    summary = []
    for step in steps:
        if step.kind != SECTION:
            continue
        section = definition.section(step.section_key)
        rows = tuple(
            (question, display_answer(question, answers[question.key]))
            for question in section.questions
            if question.key in answers and question.key != DATE_OF_BIRTH
        )
        summary.append(AnsweredSection(step, rows))
    return summary


def display_answer(question: QuestionSpec, value: Any) -> str:
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
    if value == NOT_SURE:
        return not_sure_label or "Not sure"
    try:
        if len(value) == 7:
            return datetime.date.fromisoformat(value + "-01").strftime("%B %Y")
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class ChangeInWords:
    """One change in a submission's history as people read it: "Treatment date: 1 December 2026
    → 8 December 2026"."""

    what: str
    old: str
    new: str


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECISION_KINDS = dict(FlagDecision.KINDS)
# What a recorded plan's entries are called; an entry not listed reads as its key in words.
_PLAN_LABELS = {
    "offered": "offered",
    "accepted": "accepted",
    "risk_discussion": "risk discussion",
    "consultation_date": "face-to-face consultation",
    "drug": "drug",
    "drug_other": "other drug",
    "strength": "strength",
    "dose": "dose",
    "route": "route",
    "frequency": "frequency",
    "quantity": "quantity",
    "start_day": "first day (from the treatment day)",
    "end_day": "last day (from the treatment day)",
    "interactions_checked": "interactions checked",
    "kidney_checked": "kidney function checked",
    "allergy_checked": "antiviral allergies checked",
    "prescriber": "prescriber",
    "prescriber_body": "professional body",
    "prescriber_registration": "registration number",
    "issued_on": "issued on",
    "issued_by": "issued by",
    "patient_told": "patient told how to take it",
    "planned_for": "made for treatment on",
    # Plans recorded with dates, before the course was held in days around the treatment day.
    "start_date": "from",
    "end_date": "to",
}


def change_in_words(change: SubmissionChange, definition: Definition) -> ChangeInWords:
    """A change in words: status labels, dates written out, a corrected answer as the patient's
    answers read (with the question as its version asks it), a plan entry by entry."""
    kind = change.kind
    if kind == ChangeKind.ANSWER:
        question = definition.questions.get(change.subject)
        if question is None:
            return ChangeInWords(
                f"Answer to {change.subject}", _value(change.old), _value(change.new)
            )
        return ChangeInWords(
            f"Answer to “{question.text}”",
            "not answered" if change.old is None else display_answer(question, change.old),
            display_answer(question, change.new),
        )
    what = str(ChangeKind(kind).label) if kind in ChangeKind.values else kind
    if change.subject:
        what = f"{what} on {change.subject}"
    if kind == ChangeKind.STATUS:
        return ChangeInWords(what, _status(change.old), _status(change.new))
    if kind == ChangeKind.TREATMENT_DATE:
        return ChangeInWords(
            what, _value(change.old, empty="not booked"), _value(change.new, empty="not booked")
        )
    if kind in (ChangeKind.FLAG_DECISION, ChangeKind.OVERRIDE):
        return ChangeInWords(what, _decision(change.old), _decision(change.new))
    return ChangeInWords(what, _value(change.old), _value(change.new))


def _status(value: Any) -> str:
    return str(ReviewStatus(value).label) if value in ReviewStatus.values else _value(value)


def _decision(value: Any) -> str:
    if isinstance(value, dict):
        return _DECISION_KINDS.get(value.get("kind", ""), "") or _value(value)
    return _value(value)


def _value(value: Any, *, empty: str = "none") -> str:
    """Any stored value in words: yes/no, dates written out, a record entry by entry."""
    if value is None or value in ("", [], {}):
        return empty
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return display_date(value) if _ISO_DAY.fullmatch(value) else value
    if isinstance(value, dict):
        entries = [
            f"{_PLAN_LABELS.get(key, str(key).replace('_', ' '))}: {_value(item)}"
            for key, item in value.items()
            if item is not None and item not in ("", [], {})
        ]
        return "; ".join(entries) or empty
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    return str(value)
