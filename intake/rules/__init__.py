"""The rules engine: question-set definitions, publishing checks and evaluation of answers.

Pure Python with no Django imports, so it can be tested and reasoned about on its own. The
document format and the condition language are described in docs/question-sets.md.
"""

from intake.rules.answers import check_answers
from intake.rules.calendar import add_months, add_years, age_on
from intake.rules.definition import (
    QUESTION_TYPES,
    TIERS,
    Advice,
    Choice,
    Definition,
    Question,
    Rule,
    Section,
)
from intake.rules.engine import Evaluation, evaluate, visible_questions
from intake.rules.problems import DefinitionError, Problem
from intake.rules.results import Evidence, Flag
from intake.rules.validation import load_definition, validate

__all__ = [
    "QUESTION_TYPES",
    "TIERS",
    "Advice",
    "Choice",
    "Definition",
    "DefinitionError",
    "Evaluation",
    "Evidence",
    "Flag",
    "Problem",
    "Question",
    "Rule",
    "Section",
    "add_months",
    "add_years",
    "age_on",
    "check_answers",
    "evaluate",
    "load_definition",
    "validate",
    "visible_questions",
]
