"""Evaluation: which questions are shown, and which flags a set of answers raises."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.rules.answers import READERS
from intake.rules.conditions import FALSE, UNKNOWN, Context
from intake.rules.definition import TIERS, Definition, Rule

_SEVERITY = {tier: rank for rank, tier in enumerate(TIERS)}


@dataclass(frozen=True, slots=True)
class Evidence:
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


@dataclass(frozen=True, slots=True)
class Flag:
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
    _, shown = _read(definition, answers, submitted_on, reference_date)
    return frozenset(shown)


def evaluate(
    definition: Definition,
    answers: Mapping[str, Any],
    *,
    submitted_on: datetime.date,
    reference_date: datetime.date | None = None,
) -> Evaluation:
    """Run every rule on the answers to shown questions and return the flags raised."""
    context, shown = _read(definition, answers, submitted_on, reference_date)
    # Per flag code: (severity rank, provisional, position) of the best rule so far, and the rule.
    best: dict[str, tuple[tuple[int, bool, int], Rule]] = {}
    for rule in definition.rules:
        truth = rule.when.evaluate(context)
        if truth is FALSE:
            continue
        rank = (_SEVERITY[rule.tier], truth is UNKNOWN, rule.position)
        current = best.get(rule.flag)
        if current is None or rank < current[0]:
            best[rule.flag] = (rank, rule)
    winners = sorted(best.values(), key=lambda item: (item[0][0], item[1].position))
    flags = tuple(
        _flag(definition, rule, provisional, context, shown)
        for (_, provisional, _), rule in winners
    )
    return Evaluation(
        flags=flags,
        outcome=flags[0].tier if flags else None,
        visible=frozenset(shown),
        answers={key: shown[key] for key in shown if key in context.answered},
    )


def _read(
    definition: Definition,
    answers: Mapping[str, Any],
    submitted_on: datetime.date,
    reference_date: datetime.date | None,
) -> tuple[Context, dict[str, Any]]:
    """Walk the questions in document order, keeping the usable answers to shown questions.

    A show_if only looks back, so by the time it is evaluated every question it reads has been
    decided, and a hidden question's answer is already left out.
    """
    context = Context(
        submitted_on=submitted_on,
        reference_date=submitted_on if reference_date is None else reference_date,
    )
    if not isinstance(answers, Mapping):
        answers = {}
    shown: dict[str, Any] = {}
    get = answers.get
    for key, question in definition.questions.items():
        show_if = question.show_if
        if show_if is not None and show_if.evaluate(context) is FALSE:
            continue
        value = get(key)
        shown[key] = value
        # is_unanswered, inlined: this loop runs for every question of every evaluation.
        if value is not None and value != "" and value != []:
            READERS[question.type](question, value, context, None)
    return context, shown


def _flag(
    definition: Definition,
    rule: Rule,
    provisional: bool,
    context: Context,
    shown: dict[str, Any],
) -> Flag:
    found: dict[str, bool] = {}
    rule.when.collect_evidence(context, found)
    # An answer the engine could not use is no evidence of anything: show it as unanswered.
    answered = {key: shown[key] for key in found if key in context.answered}
    questions = definition.questions
    evidence = tuple(
        Evidence(key, questions[key].text, answered.get(key), uncertain)
        for key, uncertain in sorted(found.items(), key=lambda item: questions[item[0]].position)
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
