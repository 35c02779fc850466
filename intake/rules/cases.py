"""Rule test cases: example patients with the flags a question-set version must raise for them.

A cases file is a JSON list of
`{"name", "submitted_on": "YYYY-MM-DD", "treatment_date": "YYYY-MM-DD" (optional),
"answers": {question key: value}, "expect": [flag codes]}`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from intake.rules.answers import check_answers
from intake.rules.definition import Definition
from intake.rules.engine import evaluate
from intake.rules.problems import Problem


class CaseFileError(ValueError):
    """The cases file is not a list of well-formed cases; the message says where."""


@dataclass(frozen=True)
class Case:
    name: str
    submitted_on: datetime.date
    treatment_date: datetime.date | None
    answers: dict[str, Any]
    expect: frozenset[str]


@dataclass(frozen=True)
class CaseResult:
    case: Case
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def passed(self) -> bool:
        return not (self.missing or self.unexpected or self.problems)

    def describe(self) -> str:
        """One line: PASS, or what was missing, unexpected or wrong in the answers."""
        if self.passed:
            return f"PASS  {self.case.name}"
        details = []
        if self.problems:
            details.append("invalid answers: " + "; ".join(p.message for p in self.problems))
        if self.missing:
            details.append("missing: " + ", ".join(self.missing))
        if self.unexpected:
            details.append("unexpected: " + ", ".join(self.unexpected))
        return f"FAIL  {self.case.name} — " + " | ".join(details)


def _date(value: Any, where: str) -> datetime.date:
    if not isinstance(value, str):
        raise CaseFileError(f"{where} must be a date written YYYY-MM-DD.")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CaseFileError(f"{where} is not a valid date: {value!r}.") from None


def parse_cases(data: Any) -> list[Case]:
    """Read cases from parsed JSON; raises CaseFileError naming the first malformed case."""
    if not isinstance(data, list):
        raise CaseFileError("A cases file must be a JSON list of cases.")
    cases = []
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise CaseFileError(f"Case {index} must be a JSON object.")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise CaseFileError(f"Case {index} needs a name.")
        where = f"Case {name!r}"
        unknown = set(item) - {"name", "submitted_on", "treatment_date", "answers", "expect"}
        if unknown:
            raise CaseFileError(f"{where} has unknown fields: {', '.join(sorted(unknown))}.")
        submitted_on = _date(item.get("submitted_on"), f"{where}: submitted_on")
        treatment = item.get("treatment_date")
        treatment_date = None if treatment is None else _date(treatment, f"{where}: treatment_date")
        answers = item.get("answers", {})
        if not isinstance(answers, dict):
            raise CaseFileError(f"{where}: answers must be an object of question key to answer.")
        expect = item.get("expect")
        if not isinstance(expect, list) or not all(isinstance(code, str) for code in expect):
            raise CaseFileError(f"{where}: expect must be a list of flag codes.")
        cases.append(Case(name, submitted_on, treatment_date, answers, frozenset(expect)))
    return cases


def run_case(definition: Definition, case: Case) -> CaseResult:
    """Evaluate one case and compare the flags raised with the ones expected."""
    problems = check_answers(definition, case.answers, submitted_on=case.submitted_on)
    evaluation = evaluate(
        definition,
        case.answers,
        submitted_on=case.submitted_on,
        reference_date=case.treatment_date,
    )
    raised = {flag.code for flag in evaluation.flags}
    return CaseResult(
        case=case,
        missing=tuple(sorted(case.expect - raised)),
        unexpected=tuple(sorted(raised - case.expect)),
        problems=tuple(problems),
    )
