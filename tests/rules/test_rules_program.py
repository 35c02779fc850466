"""The compiled program gives exactly what walking the condition nodes gives, for any answers."""

import dataclasses
import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import rules_factory as factory

from bench.rules_timing import synthetic_document
from intake.rules import TIERS, Definition, Evidence, Flag, Rule, evaluate, load_definition
from intake.rules.answers import is_unanswered, read_answer
from intake.rules.conditions import FALSE, CodeIn, Context
from intake.rules.engine import _program, _read
from intake.rules.program import _Writer

SKINPEN = Path(__file__).resolve().parents[2] / "intake" / "question_sets" / "skinpen.json"
JUNK: list[Any] = [
    *(None, "", [], 0, 1.5, False, True, {}, (), "nonsense", ["nonsense"], "not_sure"),
    # Lists that are not all codes, numbers that are not finite, dates that do not exist.
    *([1], ["yes", 2], [["yes"]], ("no",), float("nan"), float("inf"), "2025-02-30", "2025-13"),
]


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


def random_answers(
    definition: Definition, rng: random.Random, today: date, days: range = range(-3000, 200)
) -> dict[str, Any]:
    """Valid answers mostly, with blanks and junk of every shape in between; dates are `days`
    from today."""
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
            ticked = [code for code in codes if rng.random() < 0.4]
            answers[key] = tuple(ticked) if rng.random() < 0.1 else ticked
        elif codes:
            answers[key] = rng.choice(codes)
        elif question.type == "date":
            day = today + timedelta(days=rng.choice(days))
            answers[key] = rng.choice([day.isoformat(), day.isoformat()[:7], "not_sure"])
        elif question.type == "number":
            answers[key] = rng.choice([rng.randrange(-5, 120), rng.random() * 100])
        else:
            answers[key] = rng.choice(["Some text", "x" * 300])
    return answers


def edge_cases() -> dict[str, Any]:
    """A small set whose conditions reach the compiled program's special cases often.

    Empty date ranges (0 days, 0 months, age under 0), follow-ups shown on dates, ticks and
    numbers, the same question cited by several parts of an "any" (only those as true as the
    whole count, uncertain or not), an "any" inside an "any" and inside a "not".
    """
    last = {"q": "last_dose"}
    return factory.document(
        questions=[
            factory.question("taking", "yes_no"),
            factory.date_question("last_dose"),
            factory.question(
                "areas", "multiple_choice", show_if={**last, "within_before": {"months": 12}}
            ),
            factory.question("age", "number", show_if={"q": "areas", "any_of": ["one"]}),
            factory.date_question("born", show_if={"q": "age", "gte": 18}),
            factory.date_question(
                "next_visit", date_range="future", show_if={**last, "answered": True}
            ),
            factory.question("details", "short_text", show_if={"q": "taking", "is": "yes"}),
        ],
        rules=[
            factory.rule(
                "recent",
                {
                    "any": [
                        {**last, "within_before": {"days": 30}},
                        {
                            "all": [
                                {"q": "taking", "is": "yes"},
                                {**last, "within_before": {"months": 12}},
                            ]
                        },
                    ]
                },
            ),
            factory.rule(
                "empty_ranges",
                {
                    "any": [
                        {**last, "within_before": {"days": 0}},
                        {"q": "next_visit", "within_after": {"days": 0}},
                        {**last, "within_before": {"months": 0}},
                        {"q": "born", "age_under": 0},
                    ]
                },
            ),
            factory.rule(
                "not_any",
                {
                    "not": {
                        "any": [
                            {**last, "within_before": {"days": 10}},
                            {"q": "taking", "is": "no"},
                        ]
                    }
                },
            ),
            factory.rule(
                "nested_any",
                {
                    "any": [
                        {
                            "any": [
                                {"q": "areas", "any_of": ["one"]},
                                {**last, "within_before": {"months": 6}},
                            ]
                        },
                        {"q": "next_visit", "within_after": {"months": 1}},
                        {"all": [{"q": "areas", "all_of": ["one", "two"]}, {"q": "age", "lt": 30}]},
                    ]
                },
            ),
            factory.rule(
                "answered_and_any",
                {
                    "all": [
                        {**last, "answered": True},
                        {
                            "any": [
                                {"q": "age", "gte": 18},
                                {"q": "next_visit", "after_submission": True},
                            ]
                        },
                    ]
                },
            ),
            factory.rule(
                "young", {"q": "born", "age_under": 18}, flag="recent", tier="not_possible"
            ),
        ],
    )


@pytest.mark.parametrize(
    ("document", "rounds", "days"),
    [
        (json.loads(SKINPEN.read_text(encoding="utf-8")), 150, range(-3000, 200)),
        (synthetic_document(rule_count=300), 150, range(-3000, 200)),
        # Dates near the treatment date, where the short windows are true, false or unknown.
        (edge_cases(), 1500, range(-400, 100)),
    ],
    ids=["skinpen", "synthetic", "edge_cases"],
)
def test_the_compiled_program_agrees_with_the_condition_nodes(document, rounds, days):
    assert_agrees(load_definition(document), rounds, days)


def test_codes_are_kept_apart_where_a_definition_tests_other_answers_with_is():
    # Validation refuses "is" on a text question; the compiled program must not depend on that
    # (it then keeps the codes answered in a dict of their own).
    definition = load_definition(edge_cases())
    text_is_yes = CodeIn("details", frozenset({"yes"}))
    rules = [dataclasses.replace(rule, when=text_is_yes) for rule in definition.rules[:1]]
    definition = dataclasses.replace(definition, rules=(*rules, *definition.rules[1:]))
    assert "context.codes = kept" not in _Writer(definition).source()
    evaluation = evaluate(
        definition, {"taking": "yes", "details": "yes"}, submitted_on=date(2026, 3, 2)
    )
    assert "recent" not in [flag.code for flag in evaluation.flags]

    assert_agrees(definition, 300, range(-400, 100))


def assert_agrees(definition: Definition, rounds: int, days: range) -> None:
    """The compiled program and the nodes agree on `rounds` sets of random answers."""
    program = _program(definition)
    rng = random.Random(20261127)  # noqa: S311 - reproducible test data
    for _ in range(rounds):
        today = date(2026, 3, 2) + timedelta(days=rng.randrange(-400, 400))
        treatment = today + timedelta(days=rng.randrange(0, 60))
        answers = random_answers(definition, rng, today, days)

        context, shown, kept = _read(program, answers, today, treatment)
        expected_shown, expected_kept, expected_hits, expected_context = reference(
            definition, answers, today, treatment
        )

        assert shown == expected_shown
        assert kept == expected_kept
        assert list(kept) == list(expected_kept)  # document order
        assert program.test_rules(context) == expected_hits
        evaluation = evaluate(definition, answers, submitted_on=today, reference_date=treatment)
        assert evaluation.visible == expected_shown
        assert evaluation.answers == expected_kept
        assert evaluation.flags == reference_flags(
            definition, expected_hits, expected_kept, expected_context
        )
        assert evaluation.outcome == (evaluation.flags[0].tier if evaluation.flags else None)


def reference_flags(
    definition: Definition, hits: list[tuple[int, int]], kept: dict[str, Any], context: Context
) -> tuple[Flag, ...]:
    """The flags as the nodes describe them: per flag code the most severe rule, a true one
    over an unknown one, then the first; listed by severity, then by rule."""
    severity = {tier: rank for rank, tier in enumerate(TIERS)}
    best: dict[str, tuple[tuple[int, bool, int], Rule]] = {}
    for index, truth in hits:
        rule = definition.rules[index]
        rank = (severity[rule.tier], truth == 1, rule.position)
        if rule.flag not in best or rank < best[rule.flag][0]:
            best[rule.flag] = (rank, rule)
    flags = []
    for (_, provisional, _), rule in sorted(best.values(), key=lambda item: item[0][::2]):
        found: dict[str, bool] = {}
        rule.when.collect_evidence(context, found)
        cited = sorted(found.items(), key=lambda item: definition.questions[item[0]].position)
        evidence = tuple(
            Evidence(key, definition.questions[key].text, kept.get(key), uncertain)
            for key, uncertain in cited
        )
        flags.append(
            Flag(
                rule.flag,
                rule.tier,
                provisional,
                rule.temporary,
                rule.id,
                rule.practitioner_message,
                rule.patient_guidance,
                rule.sources,
                evidence,
            )
        )
    return tuple(flags)


def test_nothing_from_the_document_reaches_the_generated_source():
    document = json.loads(SKINPEN.read_text(encoding="utf-8"))
    hostile = '"); import os; os.system("echo owned"); ("'
    document["sections"][0]["questions"][1]["text"] = hostile
    definition = load_definition(document)

    source = _Writer(definition).source()

    assert "os.system" not in source
    assert "treatment_areas" not in source and "forehead" not in source


def test_a_blank_answer_is_no_answer_even_where_a_definition_makes_it_a_code():
    # Validation refuses "" as a choice code; the compiled reader must not depend on that.
    definition = load_definition(
        factory.document(
            questions=[factory.question("smoker", "yes_no")],
            rules=[factory.rule("smokes", {"q": "smoker", "in": ["yes", "no"]})],
        )
    )
    question = definition.questions["smoker"]
    codes = question.choice_codes | {""}
    definition.questions["smoker"] = dataclasses.replace(question, choice_codes=codes)

    evaluation = evaluate(definition, {"smoker": ""}, submitted_on=date(2026, 3, 2))

    assert evaluation.answers == {}
    assert evaluation.flags == ()
