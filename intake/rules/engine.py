"""Evaluation: which questions are shown, and which flags a set of answers raises."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any
from weakref import WeakKeyDictionary

from intake.rules.conditions import Context
from intake.rules.definition import TIERS, Definition, Rule
from intake.rules.program import Program, compile_definition
from intake.rules.results import Flag

_SEVERITY = {tier: rank for rank, tier in enumerate(TIERS)}

# A rule that is not false, as a candidate for its flag: (severity rank, provisional, position,
# index in definition.rules). Among the rules raising one flag the lowest wins: the most severe,
# then a true one over an unknown one, then the first.
type _Candidate = tuple[int, bool, int, int]
# Flags are listed by severity, then by their rule's position.
_LISTED = itemgetter(0, 2)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A definition made ready to evaluate: its program, and what each rule's flag says."""

    program: Program
    # By rule index, then by truth - 1 (unknown, true): the flag code and the rule as a candidate.
    candidates: tuple[tuple[tuple[str, _Candidate], tuple[str, _Candidate]], ...]
    # By rule index, then by provisional (False, True): the flag's fields before its evidence.
    fields: tuple[tuple[tuple[Any, ...], tuple[Any, ...]], ...]


# Each definition is compiled on its first evaluation; definitions never change.
_PLANS: WeakKeyDictionary[Definition, _Plan] = WeakKeyDictionary()


def _plan(definition: Definition) -> _Plan:
    plan = _PLANS.get(definition)
    if plan is None:
        rules = definition.rules
        plan = _PLANS[definition] = _Plan(
            program=compile_definition(definition),
            candidates=tuple(
                (
                    (rule.flag, (_SEVERITY[rule.tier], True, rule.position, index)),
                    (rule.flag, (_SEVERITY[rule.tier], False, rule.position, index)),
                )
                for index, rule in enumerate(rules)
            ),
            fields=tuple((_fields(rule, False), _fields(rule, True)) for rule in rules),
        )
    return plan


def _fields(rule: Rule, provisional: bool) -> tuple[Any, ...]:
    return (
        rule.flag,
        rule.tier,
        provisional,
        rule.temporary,
        rule.id,
        rule.practitioner_message,
        rule.patient_guidance,
        rule.sources,
    )


def _program(definition: Definition) -> Program:
    return _plan(definition).program


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Flags (most severe first), the outcome, the shown questions and their answers."""

    flags: tuple[Flag, ...]
    outcome: str | None
    visible: frozenset[str]
    answers: dict[str, Any]


def visible_questions(
    definition: Definition,
    answers: Mapping[str, Any],
    *,
    submitted_on: datetime.date,
    reference_date: datetime.date | None = None,
) -> frozenset[str]:
    """Keys of the questions shown for these answers."""
    _, shown, _ = _read(_program(definition), answers, submitted_on, reference_date)
    return shown


def evaluate(
    definition: Definition,
    answers: Mapping[str, Any],
    *,
    submitted_on: datetime.date,
    reference_date: datetime.date | None = None,
) -> Evaluation:
    """Run every rule on the answers to shown questions and return the flags raised."""
    plan = _plan(definition)
    program = plan.program
    context, shown, kept = _read(program, answers, submitted_on, reference_date)
    # Per flag code, the best rule so far.
    best: dict[str, _Candidate] = {}
    candidates = plan.candidates
    for index, truth in program.test_rules(context):
        code, candidate = candidates[index][truth - 1]
        current = best.get(code)
        if current is None or candidate < current:
            best[code] = candidate
    flags: tuple[Flag, ...] = ()
    if best:
        evidence, fields, kept_get = program.evidence, plan.fields, kept.get
        bounds = program.bounds(context.reference, context.submitted)
        # Flags are built as the tuples they are (Flag(...) would go through a Python __new__).
        flags = tuple(
            [
                tuple.__new__(
                    Flag, fields[index][provisional] + (evidence[index](context, kept_get, bounds),)
                )
                for _, provisional, _, index in sorted(best.values(), key=_LISTED)
            ]
        )
    return Evaluation(
        flags=flags,
        outcome=flags[0].tier if flags else None,
        visible=shown,
        answers=kept,
    )


def _read(
    program: Program,
    answers: Mapping[str, Any],
    submitted_on: datetime.date,
    reference_date: datetime.date | None,
) -> tuple[Context, frozenset[str], dict[str, Any]]:
    """Walk the questions in document order, keeping the usable answers to shown questions.

    Returns the context, the keys of the shown questions and, in document order, the answers to
    them that the engine could use.

    A show_if only looks back, so by the time it is evaluated every question it reads has been
    decided, and a hidden question's answer is already left out.
    """
    context = Context(
        submitted_on=submitted_on,
        reference_date=submitted_on if reference_date is None else reference_date,
    )
    # Answers are nearly always a dict, which is checked without asking the Mapping ABC.
    if not isinstance(answers, dict) and not isinstance(answers, Mapping):
        answers = {}
    kept: dict[str, Any] = {}
    shown = program.read_answers(answers.get, context, kept)
    return context, shown, kept
