"""Declarations: what a question set says about its flags beside its rules (format 2), checked at
publishing and carried by every flag raised."""

from datetime import date

import pytest
from rules_factory import document, question, rule

from intake.rules import (
    Declarations,
    FlagDeclaration,
    Tier,
    evaluate,
    load_definition,
    validate,
)

QUESTIONS = [question("cold_sores"), question("kidneys"), question("allergy")]
RULES = [
    rule("sores", {"q": "cold_sores", "is": "yes"}, flag="lip_herpes", tier=Tier.NEED_TO_KNOW),
    rule("kidney", {"q": "kidneys", "is": "yes"}, flag="kidney_disease", tier=Tier.MANAGEABLE),
]
DECLARED = {
    "treatment": "Lip filler",
    "plans": {"antiviral": {"show_answers": ["kidneys", "allergy"]}},
    "filters": {"herpes": {"label": "Herpes flags"}},
    "flags": {"lip_herpes": {"plan": "antiviral", "filters": ["herpes"]}},
}


def declared(declarations):
    return document(questions=QUESTIONS, rules=RULES, declarations=declarations)


def messages(declarations):
    return [(p.code, p.where, p.message) for p in validate(declared(declarations))]


def test_declarations_load_and_travel_with_each_raised_flag():
    definition = load_definition(declared(DECLARED))

    assert definition.treatment == "Lip filler"
    assert definition.declarations == Declarations(
        treatment="Lip filler",
        plans={"antiviral": ("kidneys", "allergy")},
        filters={"herpes": "Herpes flags"},
        flags={"lip_herpes": FlagDeclaration(plan="antiviral", filters=("herpes",))},
    )
    answers = {"cold_sores": "yes", "kidneys": "yes", "allergy": "no"}
    flags = {
        flag.code: flag
        for flag in evaluate(definition, answers, submitted_on=date(2026, 1, 5)).flags
    }
    assert flags["lip_herpes"].as_dict()["declarations"] == {
        "plan": "antiviral",
        "plan_answers": ["kidneys", "allergy"],
        "filters": ["herpes"],
    }
    assert flags["kidney_disease"].as_dict()["declarations"] == {}


def test_without_declarations_the_treatment_is_the_question_sets_title():
    definition = load_definition(document(questions=QUESTIONS, rules=RULES))

    assert definition.treatment == "Test set"
    assert definition.declarations == Declarations()


def test_a_document_of_the_first_format_still_loads_but_cannot_declare():
    first = {
        **document(questions=QUESTIONS, rules=RULES),
        "format": "consultation-intake/question-set/1",
    }
    assert validate(first) == []

    assert messages_of({**first, "declarations": DECLARED}) == [
        (
            "invalid_field",
            "declarations",
            '"declarations" need format "consultation-intake/question-set/2"; this document is '
            'of format "consultation-intake/question-set/1".',
        )
    ]


def messages_of(data):
    return [(p.code, p.where, p.message) for p in validate(data)]


@pytest.mark.parametrize(
    ("declarations", "expected"),
    [
        (
            {"flags": {"lip_herpes": {"plan": "prescription"}}},
            (
                "unknown_plan",
                "declarations flags.lip_herpes",
                'The declaration of flag "lip_herpes" names plan kind "prescription"; the kinds '
                "are: antiviral.",
            ),
        ),
        (
            {"flags": {"no_such_flag": {"plan": "antiviral"}}},
            (
                "unknown_flag",
                "declarations flags.no_such_flag",
                'The declaration of flag "no_such_flag" names a flag no rule raises.',
            ),
        ),
        (
            {"flags": {"lip_herpes": {"filters": ["herpes"]}}},
            (
                "unknown_filter",
                "declarations flags.lip_herpes",
                'The declaration of flag "lip_herpes" names filter "herpes", which '
                '"declarations.filters" does not declare.',
            ),
        ),
        (
            {"plans": {"antiviral": {"show_answers": ["kidney_function"]}}},
            (
                "unknown_question",
                "declarations plans.antiviral",
                'Plan "antiviral" shows the answer to unknown question "kidney_function".',
            ),
        ),
        (
            {"filters": {"herpes": {}}},
            ("missing_field", "declarations filters.herpes", 'Filter "herpes" has no "label".'),
        ),
        (
            {"flags": {"lip_herpes": {"plan": ["antiviral"]}}},
            (
                "unknown_plan",
                "declarations flags.lip_herpes",
                "The declaration of flag \"lip_herpes\" names plan kind ['antiviral']; the kinds "
                "are: antiviral.",
            ),
        ),
        (
            {"eligibility": True},
            ("invalid_field", "declarations", '"declarations" has unknown field "eligibility".'),
        ),
        ("antiviral", ("invalid_field", "declarations", '"declarations" must be an object.')),
    ],
    ids=[
        "unknown plan kind",
        "flag no rule raises",
        "undeclared filter",
        "unknown question beside a plan",
        "filter without a label",
        "plan kind of the wrong type",
        "unknown field",
        "not an object",
    ],
)
def test_publishing_refuses_a_declaration_that_names_what_is_not_there(declarations, expected):
    assert expected in messages(declarations)
