"""A draft as a save would leave it, checked as a whole before anything is written.

A draft is edited on pages that post several forms at once: the version's own fields with inline
rows of parameters, sections, questions and rules, or a question with its choices. A condition
may name a question, choice or parameter added on the same page, so the publishing checks run
on the whole draft as the save would leave it: the rows saved so far, with this page's rows in
place of theirs. A mistake in what was written refuses the save; what is merely unfinished (a
choice question with no choices yet) is saved and listed as still to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from intake.models import Choice, Parameter, Question, QuestionSetVersion, Rule, Section
from intake.rules import Problem, validate

# Findings that mean a draft is not finished yet, rather than a mistake in what was written.
_UNFINISHED = frozenset(("missing_field",))


@dataclass(frozen=True)
class DraftCheck:
    """The publishing checks' findings on a draft as a save would leave it."""

    # Mistakes in what was written: the save is refused, each shown at its row.
    mistakes: list[Problem]
    # What is still to do before publishing: the save goes ahead and lists them.
    unfinished: list[Problem]


def check_draft(
    version: QuestionSetVersion,
    *,
    parameters: Iterable[Parameter] | None = None,
    sections: Iterable[Section] | None = None,
    questions: Iterable[Question] | None = None,
    rules: Iterable[Rule] | None = None,
    question: Question | None = None,
    choices: Iterable[Choice] | None = None,
) -> DraftCheck:
    """Check the draft with the given rows in place of the saved ones.

    `question` is one question as its own page would leave it, and `choices` its choices.
    """
    rows = version.saved_rows()
    if parameters is not None:
        rows = replace(rows, parameters=list(parameters))
    if sections is not None:
        rows = replace(rows, sections=list(sections))
    if questions is not None:
        rows = replace(rows, questions=list(questions))
    if rules is not None:
        rows = replace(rows, rules=list(rules))
    if question is not None:
        others = [saved for saved in rows.questions if saved.pk != question.pk]
        rows = replace(rows, questions=[*others, question])
        if choices is not None:
            rows = replace(rows, choices={**rows.choices, question.pk: list(choices)})
    problems = validate(version.document_from(rows))
    return DraftCheck(
        mistakes=[problem for problem in problems if _is_mistake(problem)],
        unfinished=[problem for problem in problems if not _is_mistake(problem)],
    )


def _is_mistake(problem: Problem) -> bool:
    # A document-wide finding (an empty sections list) is where every new draft starts.
    return problem.code not in _UNFINISHED and problem.kind != "document"
