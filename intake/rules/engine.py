"""Evaluation: which questions are shown, and which flags a set of answers raises."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from intake.rules.conditions import UNKNOWN, Context
from intake.rules.definition import TIERS, Definition, Question
from intake.rules.program import Program, compile_definition

_SEVERITY = {tier: rank for rank, tier in enumerate(TIERS)}
_UNKNOWN = 1
# Each definition is compiled on its first evaluation; definitions never change.
_PROGRAMS: WeakKeyDictionary[Definition, Program] = WeakKeyDictionary()


def _program(definition: Definition) -> Program:
    program = _PROGRAMS.get(definition)
    if program is None:
        program = _PROGRAMS[definition] = compile_definition(definition)
    return program


# Evidence and Flag are named tuples rather than frozen dataclasses: as immutable, and several
# times cheaper to create, which matters when a full questionnaire raises a handful of flags.
class Evidence(NamedTuple):
    """An answer that made a flag's condition true, or unknown (`uncertain`)."""

    question_key: str
    question_text: str
    answer: Any
    uncertain: bool

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return {
            "question_key": self.question_key,
            "question_text": self.question_text,
            "answer": self.answer,
            "uncertain": self.uncertain,
        }


class Flag(NamedTuple):
    """A raised flag: the winning rule among those sharing its code, with its evidence."""

    code: str
    tier: str
    provisional: bool
    temporary: bool
    rule_id: str
    practitioner_message: str
    patient_guidance: str
    sources: tuple[str, ...]
    evidence: tuple[Evidence, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy."""
        return {
            "code": self.code,
            "tier": self.tier,
            "provisional": self.provisional,
            "temporary": self.temporary,
            "rule_id": self.rule_id,
            "practitioner_message": self.practitioner_message,
            "patient_guidance": self.patient_guidance,
            "sources": list(self.sources),
            "evidence": [item.as_dict() for item in self.evidence],
        }


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
    program = _program(definition)
    context, shown, kept = _read(program, answers, submitted_on, reference_date)
    # Per flag code: (severity rank, provisional, position) of the best rule so far, and the rule.
    best: dict[str, tuple[tuple[int, bool, int], int]] = {}
    rules = definition.rules
    for index, truth in program.test_rules(context):
        rule = rules[index]
        rank = (_SEVERITY[rule.tier], truth == _UNKNOWN, rule.position)
        current = best.get(rule.flag)
        if current is None or rank < current[0]:
            best[rule.flag] = (rank, index)
    winners = sorted(best.values(), key=lambda item: (item[0][0], rules[item[1]].position))
    flags = tuple(
        _flag(definition, program, index, provisional, context, kept)
        for (_, provisional, _), index in winners
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
    if not isinstance(answers, Mapping):
        answers = {}
    kept: dict[str, Any] = {}
    shown = program.read_answers(answers.get, context, kept)
    return context, frozenset(chain.from_iterable(shown)), kept


def _by_position(questions: Mapping[str, Question]) -> Callable[[tuple[str, bool]], int]:
    return lambda item: questions[item[0]].position


def _flag(
    definition: Definition,
    program: Program,
    index: int,
    provisional: bool,
    context: Context,
    kept: dict[str, Any],
) -> Flag:
    rule = definition.rules[index]
    plan = program.evidence[index]
    # An answer the engine could not use is no evidence of anything: show it as unanswered.
    if plan is not None:
        evidence = tuple(
            Evidence(
                key,
                text,
                kept.get(key),
                any(leaf.evaluate(context) is UNKNOWN for leaf in dates) if dates else False,
            )
            for key, text, dates in plan
        )
    else:
        found: dict[str, bool] = {}
        rule.when.collect_evidence(context, found)
        questions = definition.questions
        items = sorted(found.items(), key=_by_position(questions))
        evidence = tuple(
            Evidence(key, questions[key].text, kept.get(key), uncertain) for key, uncertain in items
        )
    return Flag(
        code=rule.flag,
        tier=rule.tier,
        provisional=provisional,
        temporary=rule.temporary,
        rule_id=rule.id,
        practitioner_message=rule.practitioner_message,
        patient_guidance=rule.patient_guidance,
        sources=rule.sources,
        evidence=evidence,
    )
