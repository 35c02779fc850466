"""The parsed, compiled form of a question-set definition (see docs/question-sets.md)."""

from __future__ import annotations

from dataclasses import dataclass

from intake.rules.conditions import Condition

TIERS = ("not_possible", "need_to_know", "manageable")
QUESTION_TYPES = (
    "yes_no",
    "yes_no_not_sure",
    "single_choice",
    "multiple_choice",
    "date",
    "number",
    "short_text",
    "long_text",
)
DATE_RANGES = ("past", "future", "any")
DEFAULT_MAX_LENGTH = {"short_text": 200, "long_text": 2000}
IMPLICIT_CHOICES = {
    "yes_no": (("yes", "Yes"), ("no", "No")),
    "yes_no_not_sure": (("yes", "Yes"), ("no", "No"), ("not_sure", "Not sure")),
}


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    text: str
    type: str
    section_key: str
    position: int
    help_text: str = ""
    required: bool = True
    choices: tuple[Choice, ...] = ()
    date_range: str = "any"
    allow_month_year: bool = False
    allow_not_sure: bool = False
    not_sure_label: str = ""
    min: int | float | None = None
    max: int | float | None = None
    max_length: int | None = None
    show_if: Condition | None = None
    # Derived from `choices` once, because every answer to the question is checked against it.
    choice_codes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    title: str
    intro: str
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    flag: str
    tier: str
    temporary: bool
    when: Condition
    practitioner_message: str
    patient_guidance: str
    sources: tuple[str, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Advice:
    title: str
    items: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Definition:
    """A validated question-set version, ready to evaluate many times."""

    slug: str
    title: str
    description: str
    version_label: str
    version_notes: str
    sections: tuple[Section, ...]
    questions: dict[str, Question]
    rules: tuple[Rule, ...]
    parameters: dict[str, int]
    advice: tuple[Advice, ...]
    sources: dict[str, str]
