"""The rules engine: question-set definitions, publishing checks and evaluation of answers.

Pure Python with no Django imports, so it can be tested and reasoned about on its own. The
document format and the condition language are described in docs/question-sets.md.
"""

from intake.rules.answers import check_answers, is_number, is_unanswered, is_whole_number
from intake.rules.calendar import add_months, add_years, age_on
from intake.rules.definition import (
    ANTIVIRAL_PLAN,
    CHOICE_TYPES,
    DATE_OF_BIRTH,
    DEFAULT_MAX_LENGTH,
    DOCUMENT_FORMAT,
    IMPLICIT_CHOICES,
    LISTED_CHOICE_TYPES,
    NOT_SURE,
    PLAN_KINDS,
    QUESTION_TYPES,
    Advice,
    ChoiceSpec,
    Declarations,
    Definition,
    FlagDeclaration,
    QuestionSpec,
    RuleSpec,
    SectionSpec,
    Tier,
)
from intake.rules.engine import Evaluation, check_eligibility, evaluate, visible_questions
from intake.rules.expressions import condition_text
from intake.rules.problems import DefinitionError, Problem
from intake.rules.residual import Residual, page_conditions, residual_truth, shown_on_page
from intake.rules.results import Evidence, RaisedFlag
from intake.rules.validation import load_definition, validate
from intake.rules.wording import parameter_values, render, worded

__all__ = [
    "ANTIVIRAL_PLAN",
    "CHOICE_TYPES",
    "DATE_OF_BIRTH",
    "DEFAULT_MAX_LENGTH",
    "DOCUMENT_FORMAT",
    "IMPLICIT_CHOICES",
    "LISTED_CHOICE_TYPES",
    "NOT_SURE",
    "PLAN_KINDS",
    "QUESTION_TYPES",
    "Advice",
    "ChoiceSpec",
    "Declarations",
    "Definition",
    "DefinitionError",
    "Evaluation",
    "Evidence",
    "FlagDeclaration",
    "Problem",
    "QuestionSpec",
    "RaisedFlag",
    "Residual",
    "RuleSpec",
    "SectionSpec",
    "Tier",
    "add_months",
    "add_years",
    "age_on",
    "check_answers",
    "check_eligibility",
    "condition_text",
    "evaluate",
    "is_number",
    "is_unanswered",
    "is_whole_number",
    "load_definition",
    "page_conditions",
    "parameter_values",
    "render",
    "residual_truth",
    "shown_on_page",
    "validate",
    "visible_questions",
    "worded",
]
