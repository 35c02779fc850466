"""Rule test cases: example patients with the flags a question-set version must raise for them.

A cases file is a JSON list of
`{"name", "submitted_on": "YYYY-MM-DD", "treatment_date": "YYYY-MM-DD" (optional),
"answers": {question key: value}, "expect": [expected flags], "outcome": tier or "none"
(optional), "partial": true (optional)}`, each expected flag being
`{"code": flag code, "tier": tier, "provisional": true/false (optional), "temporary": true/false
(optional)}`.

A case passes only when every flag it expects is raised with the tier it states (and, where it
says so, as provisional or temporary), no other flag is raised, and the outcome is the one it
states. An expected flag written as a bare code is read, so that cases from before tiers were
stated can be opened and corrected, but such a case fails: a case that would still pass were
"not possible" to become "need to know" protects nothing.

A case answers every required question it is shown, as a patient must, or it fails naming the
questions left out: an unanswered question's flags cannot be known. A case that tests one rule
and answers only what that rule reads says so with `"partial": true`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from intake.rules.answers import check_answers
from intake.rules.definition import Definition, Tier
from intake.rules.engine import Evaluation, evaluate
from intake.rules.problems import Problem

# The outcome of a case that raises no flag.
NO_FLAGS = "none"
_CASE_FIELDS = {
    "name",
    "submitted_on",
    "treatment_date",
    "answers",
    "expect",
    "outcome",
    "partial",
}
_FLAG_FIELDS = {"code", "tier", "provisional", "temporary"}


class CaseFileError(ValueError):
    """The cases file is not a list of well-formed cases; the message says where."""


@dataclass(frozen=True)
class ExpectedFlag:
    code: str
    tier: Tier | None  # None: the case names the code only, and so fails
    provisional: bool | None = None  # None: either
    temporary: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        """The flag as a cases file writes it."""
        written: dict[str, Any] = {"code": self.code}
        if self.tier is not None:
            written["tier"] = str(self.tier)
        for name in ("provisional", "temporary"):
            if getattr(self, name) is not None:
                written[name] = getattr(self, name)
        return written


@dataclass(frozen=True)
class Case:
    name: str
    submitted_on: datetime.date
    treatment_date: datetime.date | None
    answers: dict[str, Any]
    expect: tuple[ExpectedFlag, ...]
    outcome: Tier | str | None = None  # a tier, NO_FLAGS, or None when the case does not say
    # Answers only what the rule under test reads; required questions may be left unanswered.
    partial: bool = False

    @property
    def codes(self) -> frozenset[str]:
        """The codes of the flags the case expects."""
        return frozenset(flag.code for flag in self.expect)


@dataclass(frozen=True)
class CaseResult:
    case: Case
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    problems: tuple[Problem, ...]
    # What differs in a flag raised as expected, or in the outcome, one sentence each.
    differences: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not (self.missing or self.unexpected or self.problems or self.differences)

    def describe(self) -> str:
        """One line: PASS, or what was missing, unexpected or wrong."""
        if self.passed:
            return f"PASS  {self.case.name}"
        return f"FAIL  {self.case.name} — " + " | ".join(self.details())

    def details(self) -> list[str]:
        """What went wrong, one phrase each."""
        details = []
        unanswered = [p.key for p in self.problems if p.code == "unanswered_required"]
        invalid = [p for p in self.problems if p.code != "unanswered_required"]
        if invalid:
            details.append("invalid answers: " + "; ".join(p.message for p in invalid))
        if unanswered:
            details.append(
                "required questions not answered: "
                + ", ".join(unanswered)
                + ' (a case that answers only what its rule reads says "partial": true)'
            )
        if self.missing:
            details.append("missing: " + ", ".join(self.missing))
        if self.unexpected:
            details.append("unexpected: " + ", ".join(self.unexpected))
        details.extend(self.differences)
        return details


def _date(value: Any, where: str) -> datetime.date:
    if not isinstance(value, str):
        raise CaseFileError(f"{where} must be a date written YYYY-MM-DD.")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CaseFileError(f"{where} is not a valid date: {value!r}.") from None


def _tier(value: Any, where: str) -> Tier:
    if value not in Tier:
        tiers = ", ".join(f'"{tier}"' for tier in Tier)
        raise CaseFileError(f"{where} must be one of {tiers}, not {value!r}.")
    return Tier(value)


def _expected_flag(item: Any, where: str) -> ExpectedFlag:
    if isinstance(item, str):
        return ExpectedFlag(item, None)
    if not isinstance(item, dict):
        raise CaseFileError(f'{where}: each expected flag must be {{"code": …, "tier": …}}.')
    code = item.get("code")
    if not isinstance(code, str) or not code:
        raise CaseFileError(f"{where}: an expected flag needs its code.")
    where = f"{where}: flag {code!r}"
    unknown = set(item) - _FLAG_FIELDS
    if unknown:
        raise CaseFileError(f"{where} has unknown fields: {', '.join(sorted(unknown))}.")
    if "tier" not in item:
        raise CaseFileError(f"{where} needs its tier.")
    marks = {}
    for name in ("provisional", "temporary"):
        value = item.get(name)
        if value is not None and not isinstance(value, bool):
            raise CaseFileError(f"{where}: {name} must be true or false.")
        marks[name] = value
    return ExpectedFlag(code, _tier(item["tier"], f"{where}: tier"), **marks)


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
        unknown = set(item) - _CASE_FIELDS
        if unknown:
            raise CaseFileError(f"{where} has unknown fields: {', '.join(sorted(unknown))}.")
        submitted_on = _date(item.get("submitted_on"), f"{where}: submitted_on")
        treatment = item.get("treatment_date")
        treatment_date = None if treatment is None else _date(treatment, f"{where}: treatment_date")
        answers = item.get("answers", {})
        if not isinstance(answers, dict):
            raise CaseFileError(f"{where}: answers must be an object of question key to answer.")
        expect = item.get("expect")
        if not isinstance(expect, list):
            raise CaseFileError(
                f'{where}: expect must be a list of expected flags, {{"code": …, "tier": …}}.'
            )
        flags = tuple(_expected_flag(flag, where) for flag in expect)
        repeated = sorted({f.code for f in flags if sum(g.code == f.code for g in flags) > 1})
        if repeated:
            raise CaseFileError(f"{where} expects {', '.join(repeated)} more than once.")
        outcome = item.get("outcome")
        if outcome is not None and outcome != NO_FLAGS:
            outcome = _tier(outcome, f'{where}: outcome (or "{NO_FLAGS}")')
        partial = item.get("partial", False)
        if not isinstance(partial, bool):
            raise CaseFileError(f"{where}: partial must be true or false.")
        cases.append(Case(name, submitted_on, treatment_date, answers, flags, outcome, partial))
    return cases


def _label(tier: Tier | str | None) -> str:
    return tier.label if isinstance(tier, Tier) else "no flags"


def _differences(case: Case, evaluation: Evaluation) -> list[str]:
    raised = {flag.code: flag for flag in evaluation.flags}
    differences = []
    for expected in case.expect:
        flag = raised.get(expected.code)
        if expected.tier is None:
            differences.append(
                f'{expected.code}: no tier stated (write {{"code": "{expected.code}", "tier": …}})'
            )
        elif flag is None:
            continue  # missing
        elif flag.tier != expected.tier:
            differences.append(
                f"{expected.code}: expected {expected.tier.label}, raised {flag.tier.label}"
            )
        for name in ("provisional", "temporary"):
            wanted = getattr(expected, name)
            if flag is not None and wanted is not None and getattr(flag, name) != wanted:
                differences.append(
                    f"{expected.code}: expected {'' if wanted else 'not '}{name}, "
                    f"raised {'' if getattr(flag, name) else 'not '}{name}"
                )
    outcome = evaluation.outcome or NO_FLAGS
    if case.outcome is not None and case.outcome != outcome:
        differences.append(f"outcome: expected {_label(case.outcome)}, evaluated {_label(outcome)}")
    return differences


def run_case(definition: Definition, case: Case) -> CaseResult:
    """Evaluate one case and compare the flags raised, their tiers and the outcome with the case."""
    problems = check_answers(definition, case.answers, submitted_on=case.submitted_on)
    evaluation = evaluate(
        definition,
        case.answers,
        submitted_on=case.submitted_on,
        reference_date=case.treatment_date,
    )
    if not case.partial:
        problems += evaluation.unanswered_problems()
    raised = {flag.code for flag in evaluation.flags}
    return CaseResult(
        case=case,
        missing=tuple(sorted(case.codes - raised)),
        unexpected=tuple(sorted(raised - case.codes)),
        problems=tuple(problems),
        differences=tuple(_differences(case, evaluation)),
    )


def state_tiers(data: list[Any], definition: Definition) -> list[Any]:
    """Cases as a cases file writes them, each flag named by its code alone given its tier.

    The tier is the one `definition` raises the flag at for that case: for a new draft, the
    version it was made from, whose cases passed when it was published. A code it does not
    raise for the case stays as it was written, and fails. `data` must parse.
    """
    stated = []
    for item, case in zip(data, parse_cases(data), strict=True):
        if all(flag.tier is not None for flag in case.expect):
            stated.append(item)
            continue
        evaluation = evaluate(
            definition,
            case.answers,
            submitted_on=case.submitted_on,
            reference_date=case.treatment_date,
        )
        raised = {flag.code: flag.tier for flag in evaluation.flags}
        expect = [
            {"code": code, "tier": str(raised[code])}
            if isinstance(code, str) and code in raised
            else code
            for code in item["expect"]
        ]
        stated.append(item | {"expect": expect})
    return stated
