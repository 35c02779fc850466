"""Declarations: what a question set says about its flags beside its rules (format 2), checked at
publishing and carried by every flag raised."""

from datetime import date

import pytest
from rules_factory import document, question, rule

from intake import rules
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
            {"checked_first": True},
            ("invalid_field", "declarations", '"declarations" has unknown field "checked_first".'),
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


# Eligibility: rules checked at the details step, before any health question


def eligibility_document(eligibility, *, extra_rules=()):
    birth = question("date_of_birth", "date", date_range="past")
    return document(
        questions=[birth, question("pregnant"), question("dose", "date", show_if=None)],
        rules=[
            rule(
                "too_young",
                {"q": "date_of_birth", "age_under": "MIN_AGE"},
                flag="age",
                tier=Tier.NOT_POSSIBLE,
                patient_guidance="We only treat adults aged {MIN_AGE} and over.",
            ),
            rule(
                "young",
                {"q": "date_of_birth", "age_under": 22},
                flag="young_adult",
                tier=Tier.NEED_TO_KNOW,
            ),
            rule("pregnant", {"q": "pregnant", "is": "yes"}, tier=Tier.NOT_POSSIBLE),
            rule(
                "recent_dose",
                {"q": "dose", "within_before": {"days": 10}},
                tier=Tier.NOT_POSSIBLE,
            ),
            *extra_rules,
        ],
        parameters={"MIN_AGE": 18},
        declarations={"eligibility": eligibility},
    )


def test_an_eligibility_rule_stops_an_under_age_patient_with_its_guidance():
    definition = load_definition(eligibility_document({"rules": ["too_young"]}))
    on = {"submitted_on": date(2026, 3, 1), "reference_date": date(2026, 4, 1)}

    (stopped,) = rules.check_eligibility(definition, {"date_of_birth": "2008-04-02"}, **on)

    assert (stopped.code, stopped.tier, stopped.provisional) == ("age", Tier.NOT_POSSIBLE, False)
    assert stopped.patient_guidance == "We only treat adults aged 18 and over."
    assert definition.declarations.eligibility == ("too_young",)
    # Eighteen on the treatment date, though not yet on the day of asking: not stopped.
    assert rules.check_eligibility(definition, {"date_of_birth": "2008-04-01"}, **on) == ()
    # Nothing else is checked there: a pregnant under-age patient is stopped for age only, and
    # the need-to-know age rule is left to the full evaluation.
    answers = {"date_of_birth": "2005-01-01", "pregnant": "yes"}
    assert rules.check_eligibility(definition, answers, **on) == ()
    full = {flag.code: flag.tier for flag in evaluate(definition, answers, **on).flags}
    assert full == {"pregnant": Tier.NOT_POSSIBLE, "young_adult": Tier.NEED_TO_KNOW}


def test_eligibility_stops_only_on_an_age_that_is_certain():
    on = {"submitted_on": date(2026, 3, 1), "reference_date": date(2026, 4, 15)}
    # Born in April 2008: eighteen on 15 April 2026 or not, depending on the day.
    answers = {"date_of_birth": "2008-04"}

    document_with_months = eligibility_document({"rules": ["too_young"]})
    document_with_months["sections"][0]["questions"][0]["allow_month_year"] = True
    definition = load_definition(document_with_months)

    assert rules.check_eligibility(definition, answers, **on) == ()
    flag = evaluate(definition, answers, **on).flags[0]
    assert (flag.code, flag.tier, flag.provisional) == ("age", Tier.NOT_POSSIBLE, True)


@pytest.mark.parametrize(
    ("eligibility", "expected"),
    [
        (
            {"rules": ["missing"]},
            'The eligibility check names rule "missing", which the question set does not have.',
        ),
        (
            {"rules": ["young"]},
            'The eligibility check names rule "young", whose tier is need_to_know: only a '
            "not_possible rule stops a patient before the health questions.",
        ),
        (
            {"rules": ["pregnant"]},
            'The eligibility check names rule "pregnant", which reads question "pregnant": an '
            'eligibility rule may read only the date of birth ("date_of_birth", always asked, '
            'with an "age_under" condition), because it is checked with the patient\'s details, '
            "before the other questions.",
        ),
        (
            {"rules": ["recent_dose"]},
            'The eligibility check names rule "recent_dose", which reads question "dose": an '
            'eligibility rule may read only the date of birth ("date_of_birth", always asked, '
            'with an "age_under" condition), because it is checked with the patient\'s details, '
            "before the other questions.",
        ),
        (
            {"rules": "too_young"},
            '"declarations.eligibility" must have "rules" as a list of rule ids.',
        ),
        (["too_young"], '"declarations.eligibility" must be an object with "rules".'),
        (
            {"rules": ["too_young"], "when": "details"},
            '"declarations.eligibility" has unknown field "when".',
        ),
    ],
)
def test_publishing_refuses_an_eligibility_rule_that_cannot_be_checked_first(eligibility, expected):
    (problem,) = validate(eligibility_document(eligibility))

    assert (problem.kind, problem.key) == ("declarations", "eligibility")
    assert problem.message == expected


def test_an_eligibility_rule_may_not_read_a_date_of_birth_asked_only_as_a_follow_up():
    document_with_follow_up = eligibility_document({"rules": ["too_young"]})
    birth = document_with_follow_up["sections"][0]["questions"][0]
    birth["show_if"] = {"q": "pregnant", "is": "no"}
    document_with_follow_up["sections"][0]["questions"].insert(
        0, document_with_follow_up["sections"][0]["questions"].pop(1)
    )

    (problem,) = validate(document_with_follow_up)

    assert 'which reads question "date_of_birth"' in problem.message


def test_an_eligibility_rule_may_read_only_the_date_of_birth_asked_with_the_details():
    document = eligibility_document({"rules": ["too_young"]})
    for section in document["sections"]:
        for item in section["questions"]:
            if item["key"] == "date_of_birth":
                item["key"] = "birthday"
    for item in document["rules"]:
        if item["when"].get("q") == "date_of_birth":
            item["when"] = {**item["when"], "q": "birthday"}

    (problem,) = validate(document)

    assert 'which reads question "birthday"' in problem.message


# Questions asked again before treatment

ASKED_AGAIN_QUESTIONS = [
    question("cold_sores"),
    question("sore_where", "short_text", show_if={"q": "cold_sores", "is": "yes"}),
    question("sore_healed", show_if={"q": "sore_where", "answered": True}),
    question("kidneys"),
    question("allergy"),
]


def asked_again(declaration):
    document_ = document(
        questions=ASKED_AGAIN_QUESTIONS, rules=RULES, declarations={"asked_again": declaration}
    )
    return document_


def test_a_question_asked_again_brings_its_follow_ups_in_the_order_first_asked():
    definition = load_definition(asked_again({"questions": ["allergy", "cold_sores"]}))

    assert definition.declarations.asked_again == ("allergy", "cold_sores")
    assert definition.asked_again == ("cold_sores", "sore_where", "sore_healed", "allergy")
    assert definition.declarations.treated_needs_check is True


def test_a_version_may_let_treated_go_without_the_on_the_day_check():
    definition = load_definition(
        asked_again({"questions": ["kidneys"], "treated_needs_on_the_day_check": False})
    )

    assert definition.declarations.treated_needs_check is False


def test_a_version_without_the_declaration_asks_nothing_again():
    assert load_definition(declared(DECLARED)).asked_again == ()


@pytest.mark.parametrize(
    ("declaration", "fragment"),
    [
        ({"questions": ["smoking"]}, '"smoking", which the question set does not have'),
        ({"questions": ["sore_where"]}, "the question that reveals it ('cold_sores')"),
        ({"questions": ["kidneys", "kidneys"]}, "names a question more than once"),
        ({"questions": "kidneys"}, '"questions" as a list of question keys'),
        ({"questions": [], "treated_needs_on_the_day_check": "no"}, "as true or false"),
        ({"questions": [], "when": "before"}, "when"),
        (["kidneys"], '"declarations.asked_again" must be an object'),
    ],
)
def test_publishing_refuses_a_question_asked_again_that_cannot_be(declaration, fragment):
    found = [p.message for p in validate(asked_again(declaration))]

    assert any(fragment in message for message in found), found


def test_publishing_refuses_asking_the_date_of_birth_again():
    document_ = document(
        questions=[question("date_of_birth", "date", date_range="past"), question("kidneys")],
        rules=RULES[1:],
        declarations={"asked_again": {"questions": ["date_of_birth"]}},
    )

    assert any("date of birth does not change" in p.message for p in validate(document_))
