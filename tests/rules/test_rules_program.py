"""The compiled program gives exactly what walking the condition nodes gives, for any answers."""

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.rules_timing import synthetic_document
from intake.rules import Definition, evaluate, load_definition
from intake.rules.answers import is_unanswered, read_answer
from intake.rules.conditions import FALSE, Context
from intake.rules.engine import _program, _read

SKINPEN = Path(__file__).resolve().parents[2] / "intake" / "question_sets" / "skinpen.json"
JUNK: list[Any] = [None, "", [], 0, 1.5, False, True, {}, (), "nonsense", ["nonsense"], "not_sure"]


def reference(
    definition: Definition, answers: dict[str, Any], submitted_on: date, reference_date: date
) -> tuple[frozenset[str], dict[str, Any], list[tuple[int, int]], Context]:
    """The engine as the nodes describe it: shown questions, usable answers, rules not false."""
    context = Context(submitted_on=submitted_on, reference_date=reference_date)
    shown: dict[str, Any] = {}
    for key, question in definition.questions.items():
        if question.show_if is not None and question.show_if.evaluate(context) is FALSE:
            continue
        shown[key] = answers.get(key)
        if not is_unanswered(shown[key]):
            read_answer(question, shown[key], context, None)
    hits = [
        (index, int(rule.when.evaluate(context)))
        for index, rule in enumerate(definition.rules)
        if rule.when.evaluate(context) is not FALSE
    ]
    kept = {key: value for key, value in shown.items() if key in context.answered}
    return frozenset(shown), kept, hits, context


def random_answers(definition: Definition, rng: random.Random, today: date) -> dict[str, Any]:
    """Valid answers mostly, with blanks and junk of every shape in between."""
    answers: dict[str, Any] = {}
    for key, question in definition.questions.items():
        roll = rng.random()
        if roll < 0.15:
            continue
        if roll < 0.25:
            answers[key] = rng.choice(JUNK)
            continue
        codes = [choice.code for choice in question.choices]
        if question.type == "multiple_choice":
            answers[key] = [code for code in codes if rng.random() < 0.4]
        elif codes:
            answers[key] = rng.choice(codes)
        elif question.type == "date":
            day = today + timedelta(days=rng.randrange(-3000, 200))
            answers[key] = rng.choice([day.isoformat(), day.isoformat()[:7], "not_sure"])
        elif question.type == "number":
            answers[key] = rng.choice([rng.randrange(-5, 120), rng.random() * 100])
        else:
            answers[key] = rng.choice(["Some text", "x" * 300])
    return answers


@pytest.mark.parametrize(
    "document",
    [json.loads(SKINPEN.read_text(encoding="utf-8")), synthetic_document(rule_count=300)],
    ids=["skinpen", "synthetic"],
)
def test_the_compiled_program_agrees_with_the_condition_nodes(document):
    definition = load_definition(document)
    program = _program(definition)
    rng = random.Random(20261127)  # noqa: S311 - reproducible test data
    for _ in range(150):
        today = date(2026, 3, 2) + timedelta(days=rng.randrange(-400, 400))
        treatment = today + timedelta(days=rng.randrange(0, 60))
        answers = random_answers(definition, rng, today)

        context, shown, kept = _read(program, answers, today, treatment)
        expected_shown, expected_kept, expected_hits, expected_context = reference(
            definition, answers, today, treatment
        )

        assert shown == expected_shown
        assert kept == expected_kept
        assert list(kept) == list(expected_kept)  # document order
        assert program.test_rules(context) == expected_hits
        for flag in evaluate(
            definition, answers, submitted_on=today, reference_date=treatment
        ).flags:
            rule = next(rule for rule in definition.rules if rule.id == flag.rule_id)
            found: dict[str, bool] = {}
            rule.when.collect_evidence(expected_context, found)
            assert [(item.question_key, item.uncertain) for item in flag.evidence] == sorted(
                found.items(), key=lambda item: definition.questions[item[0]].position
            )


def test_nothing_from_the_document_reaches_the_generated_source():
    document = json.loads(SKINPEN.read_text(encoding="utf-8"))
    hostile = '"); import os; os.system("echo owned"); ("'
    document["sections"][0]["questions"][1]["text"] = hostile
    definition = load_definition(document)

    from intake.rules.program import _Writer

    source = _Writer().source(definition)

    assert "os.system" not in source
    assert "treatment_areas" not in source and "forehead" not in source
