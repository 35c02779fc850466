"""Evaluation: which questions are shown, and which flags a set of answers raises."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.rules.answers import is_unanswered, read_answer
from intake.rules.conditions import FALSE, TRUE, UNKNOWN, Context
from intake.rules.definition import Definition, RuleSpec, Tier
from intake.rules.problems import Problem
from intake.rules.results import Evidence, RaisedFlag


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Flags (most severe first), the outcome, the shown questions and their answers."""

    flags: tuple[RaisedFlag, ...]
    outcome: Tier | None
    visible: frozenset[str]
    answers: dict[str, Any]
    # Required questions shown but not answered, in document order: their flags cannot be known,
    # so whatever stores or tests these answers must refuse them rather than read "no flag".
    unanswered: tuple[str, ...] = ()

    def unanswered_problems(self) -> list[Problem]:
        """Each required question left unanswered, as a problem naming it."""
        return [
            Problem(
                "unanswered_required",
                "question",
                key,
                f'Question "{key}" is shown and required, but not answered.',
            )
            for key in self.unanswered
        ]


def visible_questions(
    definition: Definition,
    answers: Mapping[str, Any],
    *,
    submitted_on: datetime.date,
    reference_date: datetime.date | None = None,
) -> frozenset[str]:
    """Keys of the questions shown for these answers."""
    _, shown, _ = read_answers(definition, answers, submitted_on, reference_date)
    return shown


def evaluate(
    definition: Definition,
    answers: Mapping[str, Any],
    *,
    submitted_on: datetime.date,
    reference_date: datetime.date | None = None,
) -> Evaluation:
    """Run every rule on the answers to shown questions and return the flags raised."""
    context, shown, kept = read_answers(definition, answers, submitted_on, reference_date)
    # Per flag code, the winning rule so far and whether it only fired on an unknown answer.
    best: dict[str, tuple[RuleSpec, bool]] = {}
    for rule in definition.rules:
        truth = rule.when.evaluate(context)
        if truth is FALSE:
            continue
        provisional = truth is UNKNOWN
        current = best.get(rule.flag)
        if current is None or _ranking(rule, provisional) < _ranking(*current):
            best[rule.flag] = (rule, provisional)
    winners = sorted(best.values(), key=lambda won: (won[0].tier.severity, won[0].position))
    flags = tuple(
        _flag(definition, rule, provisional, context, kept) for rule, provisional in winners
    )
    return Evaluation(
        flags=flags,
        outcome=flags[0].tier if flags else None,
        visible=shown,
        answers=kept,
        unanswered=tuple(
            key
            for key, question in definition.questions.items()
            if question.required and key in shown and key not in kept
        ),
    )


def check_eligibility(
    definition: Definition,
    answers: Mapping[str, Any],
    *,
    submitted_on: datetime.date,
    reference_date: datetime.date | None = None,
) -> tuple[RaisedFlag, ...]:
    """The eligibility rules (declared in the question set) that stop the patient, at the
    details step and before any health question: each as a not-possible flag, one per code,
    with its patient guidance to show them.

    Only a rule that definitely holds stops the patient: one the answers leave unknown (a month
    of birth around a birthday) does not, and the full evaluation raises it, provisional, for
    the practitioner to check.
    """
    context, _, kept = read_answers(definition, answers, submitted_on, reference_date)
    stopped: dict[str, RaisedFlag] = {}
    for rule in definition.eligibility_rules:
        if rule.flag not in stopped and rule.when.evaluate(context) is TRUE:
            stopped[rule.flag] = _flag(definition, rule, False, context, kept)
    return tuple(stopped.values())


def _ranking(rule: RuleSpec, provisional: bool) -> tuple[int, bool, int]:
    """Among the rules raising one flag the lowest wins: the most severe, then a rule that is
    true over one that is only unknown, then the first."""
    return rule.tier.severity, provisional, rule.position


def _flag(
    definition: Definition,
    rule: RuleSpec,
    provisional: bool,
    context: Context,
    kept: dict[str, Any],
) -> RaisedFlag:
    found: dict[str, bool] = {}
    rule.when.collect_evidence(context, found)
    questions = definition.questions
    evidence = tuple(
        Evidence(key, questions[key].text, kept.get(key), uncertain, key in context.ongoing)
        for key, uncertain in sorted(found.items(), key=lambda item: questions[item[0]].position)
    )
    return RaisedFlag(
        code=rule.flag,
        tier=rule.tier,
        provisional=provisional,
        temporary=rule.temporary,
        rule_id=rule.id,
        practitioner_message=rule.practitioner_message,
        patient_guidance=rule.patient_guidance,
        sources=rule.sources,
        evidence=evidence,
        declarations=definition.declarations.for_flag(rule.flag),
    )


def read_answers(
    definition: Definition,
    answers: Mapping[str, Any],
    submitted_on: datetime.date,
    reference_date: datetime.date | None,
) -> tuple[Context, frozenset[str], dict[str, Any]]:
    """Walk the questions in document order, keeping the usable answers to shown questions.

    Returns the context, the keys of the shown questions and, in document order, the answers to
    them that the engine could use. A show_if only looks back, so by the time it is evaluated
    every question it reads has been decided, and a hidden question's answer is already left out.
    """
    context = Context(
        submitted_on=submitted_on,
        reference_date=submitted_on if reference_date is None else reference_date,
    )
    if not isinstance(answers, Mapping):
        answers = {}
    submitted = submitted_on.toordinal()
    shown: list[str] = []
    kept: dict[str, Any] = {}
    for key, question in definition.questions.items():
        if question.show_if is not None and question.show_if.evaluate(context) is FALSE:
            continue
        shown.append(key)
        value = answers.get(key)
        if not is_unanswered(value):
            read_answer(question, value, context, None)
            if key in context.answered:
                kept[key] = value
                dates = context.dates.get(key)
                if dates is not None and dates[0] > submitted and definition.is_past_event(key):
                    context.ongoing.add(key)
    return context, frozenset(shown), kept
