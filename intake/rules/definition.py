"""The parsed form of a question-set definition (see docs/question-sets.md), and the terms it uses.

Every fixed term of the document format is defined here once: its format name, the question
types, the tiers in order of severity, the implicit choices of yes/no questions and the default
length of a text answer. The classes are the parsed, frozen parts of a definition; their names end
in `Spec` so that they are never mistaken for the models a draft is edited as.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from intake.rules.conditions import AgeUnder, And, Condition, Not, Or

# The format documents are written in. Format 2 added "declarations"; a document of format 1
# (written before them) is still read, as it was published.
DOCUMENT_FORMAT = "consultation-intake/question-set/2"
FORMAT_WITHOUT_DECLARATIONS = "consultation-intake/question-set/1"
READABLE_FORMATS = (DOCUMENT_FORMAT, FORMAT_WITHOUT_DECLARATIONS)

# The kinds of plan a question set may require on a flag before its submission is cleared. Each
# has its form and its checks in the review code; a question set names them but cannot add one.
ANTIVIRAL_PLAN = "antiviral"
PLAN_KINDS = {ANTIVIRAL_PLAN: "antiviral plan"}


class Tier(StrEnum):
    """How serious a flag is, in the clinic's own words; members run from most to least severe."""

    NOT_POSSIBLE = "not_possible"
    NEED_TO_KNOW = "need_to_know"
    MANAGEABLE = "manageable"

    @property
    def label(self) -> str:
        """The tier as staff read it: "Not possible", "Need to know", "Manageable"."""
        return _TIER_LABELS[self]

    @property
    def severity(self) -> int:
        """0 for the most severe tier; lower sorts first."""
        return _SEVERITY[self]


_TIER_LABELS = {
    Tier.NOT_POSSIBLE: "Not possible",
    Tier.NEED_TO_KNOW: "Need to know",
    Tier.MANAGEABLE: "Manageable",
}
_SEVERITY = {tier: rank for rank, tier in enumerate(Tier)}

# Questions answered with one code: yes/no, yes/no/not sure, and a choice from a list.
CHOICE_TYPES = frozenset(("yes_no", "yes_no_not_sure", "single_choice"))
# Questions whose choices the question set lists (yes/no questions have theirs built in).
LISTED_CHOICE_TYPES = frozenset(("single_choice", "multiple_choice"))
TEXT_TYPES = frozenset(("short_text", "long_text"))
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
# The longest answer a text question takes when its definition does not say.
DEFAULT_MAX_LENGTH = {"short_text": 200, "long_text": 2000}
# Choices a question of these types has without listing them.
IMPLICIT_CHOICES = {
    "yes_no": (("yes", "Yes"), ("no", "No")),
    "yes_no_not_sure": (("yes", "Yes"), ("no", "No"), ("not_sure", "Not sure")),
}
# The answer "not sure", to a yes/no/not sure question or to a date question that allows it.
NOT_SURE = "not_sure"
# The key of the date-of-birth question: the app asks it with the patient's details, before any
# other question, so it is the one answer the question set's eligibility rules may read.
DATE_OF_BIRTH = "date_of_birth"
# Questions answered by picking: their error messages say "Select …"; the others say "Enter …".
PICKED_TYPES = frozenset(("yes_no", "yes_no_not_sure", "single_choice", "multiple_choice"))
# The longest short name a question may have, as patients read it.
SHORT_NAME_MAX_LENGTH = 120


@dataclass(frozen=True, slots=True)
class ChoiceSpec:
    code: str
    label: str


@dataclass(frozen=True, slots=True)
class QuestionSpec:
    key: str
    text: str
    type: str
    section_key: str
    position: int
    help_text: str = ""
    required: bool = True
    choices: tuple[ChoiceSpec, ...] = ()
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
    # The words that complete an error message about the question ("Select …", "Enter …"),
    # with its parameters written in; "" if the question set gives none.
    short_name: str = ""

    @property
    def name_in_errors(self) -> str:
        """What an error message names the question by: its short name ("whether you smoke"),
        or else its text in quotes ("an answer to ‘Do you smoke?’")."""
        return self.short_name or f"an answer to ‘{self.text.strip()}’"

    @property
    def missing_answer_message(self) -> str:
        """The error for a required question left unanswered: "Select whether you smoke" for a
        question answered by picking, "Enter your date of birth" for a date, number or text."""
        verb = "Select" if self.type in PICKED_TYPES else "Enter"
        return f"{verb} {self.name_in_errors}"


@dataclass(frozen=True, slots=True)
class SectionSpec:
    key: str
    title: str
    intro: str
    questions: tuple[QuestionSpec, ...]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: str
    flag: str
    tier: Tier
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


@dataclass(frozen=True, slots=True)
class FlagDeclaration:
    """What a question set declares about one flag code."""

    # A PLAN_KINDS key: the plan recorded before the submission can be cleared ("" for none).
    plan: str = ""
    # The keys of the review-queue filters that list submissions with this flag.
    filters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Declarations:
    """Behaviour a question set declares beside its questions and rules (format 2)."""

    # The treatment the questionnaire prepares for, as patients read it ("SkinPen").
    treatment: str = ""
    # Plan kind → the questions whose answers are shown beside the plan, for the checks it needs.
    plans: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Queue filter key → its label, as staff read it.
    filters: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, FlagDeclaration] = field(default_factory=dict)
    # The ids of the rules checked at the details step, before any health question: not-possible
    # rules that read only dates of birth (see `birth_date_keys`), such as a minimum age.
    eligibility: tuple[str, ...] = ()
    # The questions asked again before treatment (the re-check a couple of days before, and the
    # on-the-day check), as declared; their follow-ups are asked with them
    # (`Definition.asked_again`).
    asked_again: tuple[str, ...] = ()
    # Whether "treated" needs a completed on-the-day check (on unless the version switches it off).
    treated_needs_check: bool = True

    def for_flag(self, code: str) -> dict[str, Any]:
        """What is stored with a raised flag of this code, so that it keeps its version's
        behaviour: its plan kind and the answers shown beside it, and its filters."""
        declared = self.flags.get(code)
        stored: dict[str, Any] = {}
        if declared is None:
            return stored
        if declared.plan:
            stored["plan"] = declared.plan
            stored["plan_answers"] = list(self.plans.get(declared.plan, ()))
        if declared.filters:
            stored["filters"] = list(declared.filters)
        return stored


def birth_date_keys(
    questions: Mapping[str, QuestionSpec], rules: tuple[RuleSpec, ...]
) -> frozenset[str]:
    """Date questions an `age_under` condition (of a rule or a follow-up) reads: dates of birth."""
    found: set[str] = set()
    conditions: list[Condition] = [rule.when for rule in rules]
    conditions += [q.show_if for q in questions.values() if q.show_if is not None]
    while conditions:
        condition = conditions.pop()
        if isinstance(condition, AgeUnder):
            found.add(condition.q)
        elif isinstance(condition, And | Or):
            conditions.extend(condition.parts)
        elif isinstance(condition, Not):
            conditions.append(condition.part)
    return frozenset(key for key in found if key in questions and questions[key].type == "date")


def eligibility_questions(
    questions: Mapping[str, QuestionSpec], rules: tuple[RuleSpec, ...]
) -> frozenset[str]:
    """The questions an eligibility rule may read: the date of birth (`DATE_OF_BIRTH`, asked with
    the patient's details before any other question), when it is a date of birth the rules read
    and always asked (no follow-up condition)."""
    return frozenset(
        key
        for key in birth_date_keys(questions, rules)
        if key == DATE_OF_BIRTH and questions[key].show_if is None
    )


@dataclass(frozen=True, eq=False)
class Definition:
    """A validated question-set version, ready to evaluate many times."""

    slug: str
    title: str
    description: str
    version_label: str
    version_notes: str
    sections: tuple[SectionSpec, ...]
    questions: dict[str, QuestionSpec]
    rules: tuple[RuleSpec, ...]
    parameters: dict[str, int]
    advice: tuple[Advice, ...]
    sources: dict[str, str]
    declarations: Declarations = Declarations()

    @cached_property
    def birth_dates(self) -> frozenset[str]:
        """Date questions an `age_under` condition reads: dates of birth, not past events."""
        return birth_date_keys(self.questions, self.rules)

    @property
    def eligibility_rules(self) -> tuple[RuleSpec, ...]:
        """The rules checked before any health question (declared under `eligibility`)."""
        declared = set(self.declarations.eligibility)
        return tuple(rule for rule in self.rules if rule.id in declared)

    @cached_property
    def asked_again(self) -> tuple[str, ...]:
        """The questions asked again before treatment, in the order the patient first saw them:
        those declared, and the follow-ups of any of them (which a re-asked answer may reveal)."""
        keys = set(self.declarations.asked_again)
        ordered = [q for section in self.sections for q in section.questions]
        grown = True
        while grown:
            grown = False
            for question in ordered:
                if question.key in keys or question.show_if is None:
                    continue
                if question.show_if.question_keys() & keys:
                    keys.add(question.key)
                    grown = True
        return tuple(q.key for q in ordered if q.key in keys)

    def is_past_event(self, key: str) -> bool:
        """A date question about something that has happened (not a date of birth)."""
        question = self.questions[key]
        return (
            question.type == "date"
            and question.date_range == "past"
            and (key not in self.birth_dates)
        )

    @property
    def treatment(self) -> str:
        """The treatment's name as patients read it; the question set's title if not declared."""
        return self.declarations.treatment or self.title

    def section(self, key: str) -> SectionSpec:
        """The section with this key; an unknown key is a programming error, not a patient's."""
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(f"The question set has no section {key!r}.")
