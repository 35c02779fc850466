"""Texts name parameters in braces; the definition holds them with the values written in."""

import pytest
from rules_factory import date_question, document, question, rule

from intake.rules import DefinitionError, load_definition, render, validate, worded

MONTHS = {"q": "last_dose", "within_before": {"months": "BLOCK_MONTHS"}}
DAYS = {"q": "last_dose", "within_before": {"days": "WAIT_DAYS"}}


def _document(text="Wait {BLOCK_MONTHS months}.", *, parameters=None, when=MONTHS, **fields):
    return document(
        questions=[date_question("last_dose", text=text)],
        parameters=parameters or {"BLOCK_MONTHS": 6, "WAIT_DAYS": 28},
        rules=[rule("recent", when, practitioner_message=text, **fields)],
    )


@pytest.mark.parametrize(
    ("text", "values", "shown"),
    [
        ("at least {N months}", {"N": 6}, "at least 6 months"),
        ("at least {N months}", {"N": 1}, "at least 1 month"),
        ("within {N month}", {"N": 3}, "within 3 months"),
        ("the {N}-month window", {"N": 6}, "the 6-month window"),
        ("{N weeks} apart", {"N": 28}, "4 weeks apart"),
        ("{N week} apart", {"N": 7}, "1 week apart"),
        ("{ N days }", {"N": 1}, "1 day"),
        ("aged {N} and over", {"N": 18}, "aged 18 and over"),
        ("no parameter here", {}, "no parameter here"),
    ],
)
def test_a_named_parameter_is_written_in_with_its_unit(text, values, shown):
    assert render(text, values) == shown


def test_the_definition_holds_every_text_with_the_values_written_in():
    data = _document(
        "Within {BLOCK_MONTHS months}?", patient_guidance="Wait {BLOCK_MONTHS months}."
    )
    data["advice"] = [{"title": "First {WAIT_DAYS weeks}", "items": ["For {WAIT_DAYS days}."]}]
    data["sections"][0]["intro"] = "About the last {BLOCK_MONTHS months}."

    definition = load_definition(data)

    assert definition.questions["last_dose"].text == "Within 6 months?"
    assert definition.rules[0].practitioner_message == "Within 6 months?"
    assert definition.rules[0].patient_guidance == "Wait 6 months."
    assert definition.sections[0].intro == "About the last 6 months."
    assert (definition.advice[0].title, definition.advice[0].items) == (
        "First 4 weeks",
        ("For 28 days.",),
    )


@pytest.mark.parametrize(
    ("text", "when", "message"),
    [
        ("Wait {BLOK_MONTHS months}.", MONTHS, 'names the unknown parameter "BLOK_MONTHS"'),
        ("Wait {BLOCK_MONTHS fortnights}.", MONTHS, "braces name a parameter"),
        ("Wait {BLOCK_MONTHS days}.", MONTHS, "but it counts months."),
        ("Wait {WAIT_DAYS months}.", DAYS, "but it counts days."),
    ],
)
def test_a_text_that_names_a_parameter_wrongly_is_refused_naming_it(text, when, message):
    problems = validate(_document(text, when=when))

    assert problems
    assert all(p.code in ("invalid_wording", "unknown_parameter") for p in problems)
    assert any(message in p.message for p in problems), [p.message for p in problems]


def test_weeks_need_a_whole_number_of_weeks():
    problems = validate(
        _document(
            "Leave {WAIT_DAYS weeks}.", parameters={"BLOCK_MONTHS": 6, "WAIT_DAYS": 30}, when=DAYS
        )
    )

    assert [p.message for p in problems if p.kind == "rule"] == [
        'Rule "recent" gives "WAIT_DAYS" in weeks in its "practitioner_message", but its value, '
        "30 days, is not a whole number of weeks: write {WAIT_DAYS days}."
    ]


def test_a_document_worded_for_exports_has_its_texts_as_people_read_them():
    data = _document("Within {BLOCK_MONTHS months}?")
    data["sections"][0]["questions"].append(
        question("when", "single_choice", choices=[{"code": "a", "label": "In {WAIT_DAYS weeks}"}])
    )

    copied = worded(data)

    assert copied["sections"][0]["questions"][0]["text"] == "Within 6 months?"
    assert copied["sections"][0]["questions"][1]["choices"][0]["label"] == "In 4 weeks"
    assert copied["rules"][0]["practitioner_message"] == "Within 6 months?"
    assert data["rules"][0]["practitioner_message"] == "Within {BLOCK_MONTHS months}?"


def test_other_braces_are_ordinary_text():
    text = "See the leaflet {page 2}; a lone } or { stays."

    assert validate(_document(text)) == []
    assert load_definition(_document(text)).rules[0].practitioner_message == text


def test_a_version_published_before_the_check_is_read_as_it_was_written():
    # An upper-case word in braces that names no parameter: refused when publishing now, but a
    # version already published with it still loads, the word left as written.
    data = _document("Bring your {NHS} number.")

    assert [p.code for p in validate(data)] == ["unknown_parameter", "unknown_parameter"]
    assert load_definition(data).rules[0].practitioner_message == "Bring your {NHS} number."


def test_a_parameter_no_condition_uses_is_given_the_unit_its_name_says():
    data = _document(
        "Pause them for {PAUSE_DAYS months}.", parameters={"BLOCK_MONTHS": 6, "PAUSE_DAYS": 7}
    )

    assert [p.message for p in validate(data) if p.kind == "rule"] == [
        'Rule "recent"\'s "practitioner_message" gives "PAUSE_DAYS" in months, but it counts '
        "days (as its name says)."
    ]


@pytest.mark.parametrize("rules", [5, True, "rules", {"a": 1}])
def test_rules_that_are_not_a_list_are_reported_not_raised(rules):
    data = _document()
    data["rules"] = rules

    problems = validate(data)

    assert '"rules" must be a list' in " ".join(p.message for p in problems)
    with pytest.raises(DefinitionError):
        load_definition(data)
