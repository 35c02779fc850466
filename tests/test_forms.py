"""The step form: one section's questions, validated and returned in the engine's answer format."""

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from crispy_forms.utils import render_crispy_form
from django import forms
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from intake.patient.forms import StepForm
from intake.patient.pages import blank_step_key
from intake.questionnaire import Questionnaire
from intake.rules import Definition, load_definition

SUBMITTED = date(2025, 6, 15)
SKINPEN = Path(__file__).resolve().parent.parent / "intake" / "question_sets" / "skinpen.json"


# A small factory: questions, sections and whole documents with keyword defaults.


def question(key: str = "smoker", type: str = "yes_no", **fields: Any) -> dict[str, Any]:
    """A question dict; choice types get three choices unless `choices` is given."""
    data: dict[str, Any] = {"key": key, "text": f"Question {key}?", "type": type}
    if type in ("single_choice", "multiple_choice"):
        data["choices"] = [
            {"code": "cheeks", "label": "Cheeks"},
            {"code": "neck", "label": "Neck"},
            {"code": "other", "label": "Somewhere else"},
        ]
    data.update(fields)
    return data


def date_question(key: str = "last_dose", **fields: Any) -> dict[str, Any]:
    """A past-event date question allowing month-and-year and "not sure" unless told otherwise."""
    defaults = {"date_range": "past", "allow_month_year": True, "allow_not_sure": True}
    return question(key, "date", **{**defaults, **fields})


def section(key: str = "about_you", *questions: dict[str, Any]) -> dict[str, Any]:
    """A section dict holding the given questions (one yes/no question by default)."""
    return {"key": key, "title": key.replace("_", " ").capitalize(), "questions": list(questions)}


def document(
    *sections: dict[str, Any], rules: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A whole question-set document."""
    return {
        "format": "consultation-intake/question-set/2",
        "question_set": {"slug": "test-set", "title": "Test set"},
        "version": {"label": "1", "notes": ""},
        "parameters": {"MIN_AGE": {"value": 18, "description": ""}},
        "sources": {"IFU": "Instructions for use."},
        "advice": [],
        "sections": list(sections) or [section("about_you", question())],
        "rules": rules or [],
    }


def one_step(*questions: dict[str, Any], **kwargs: Any) -> Definition:
    """A definition with a single section "about_you" holding these questions."""
    return load_definition(document(section("about_you", *questions), **kwargs))


def step(
    definition: Definition | Questionnaire,
    data: Any = None,
    *,
    section_key: str = "about_you",
    answers: dict[str, Any] | None = None,
    **kwargs: Any,
) -> StepForm:
    """A step form for a section, submitted on SUBMITTED unless told otherwise."""
    kwargs.setdefault("submitted_on", SUBMITTED)
    if isinstance(definition, Definition):
        definition = Questionnaire.from_definition(definition)
    return StepForm(definition, section_key, answers=answers or {}, data=data, **kwargs)


def on_page(form: StepForm) -> list[str]:
    """The questions a page of this form shows, in order."""
    return re.findall(r'data-question="([^"]+)"', str(form.questions_html()))


def error_codes(form: StepForm, key: str) -> list[str]:
    """The codes of a field's errors."""
    return [error.code for error in form.errors.as_data().get(key, [])]


def date_data(key: str, day: str = "", month: str = "", year: str = "", **more: str) -> dict:
    """POST data for a date question's three boxes."""
    return {f"{key}_day": day, f"{key}_month": month, f"{key}_year": year, **more}


def valid_answers(form: StepForm) -> dict[str, Any]:
    """The form's answers, failing the test with its errors if it is not valid."""
    assert form.is_valid(), form.errors.as_data()
    return form.answers()


# Fields


def test_each_question_gets_a_field_named_by_its_key_with_its_text_and_help():
    form = step(one_step(question("smoker", help_text="Including vapes."), question("notes")))
    assert list(form.fields) == ["smoker", "notes"]
    assert form.fields["smoker"].label == "Question smoker?"
    assert form.fields["smoker"].help_text == "Including vapes."


@pytest.mark.parametrize(
    ("kind", "widget"),
    [
        ("yes_no", forms.RadioSelect),
        ("yes_no_not_sure", forms.RadioSelect),
        ("single_choice", forms.RadioSelect),
        ("multiple_choice", forms.CheckboxSelectMultiple),
        ("short_text", forms.TextInput),
        ("long_text", forms.Textarea),
        ("number", forms.TextInput),
    ],
)
def test_each_question_type_has_a_fitting_widget(kind, widget):
    form = step(one_step(question("q", kind)))
    assert type(form.fields["q"].widget) is widget


@pytest.mark.parametrize(
    ("kind", "data", "value"),
    [
        ("yes_no", {"q": "yes"}, "yes"),
        ("yes_no_not_sure", {"q": "not_sure"}, "not_sure"),
        ("single_choice", {"q": "neck"}, "neck"),
        (
            "multiple_choice",
            MultiValueDict({"q": ["other", "cheeks", "other"]}),
            ["cheeks", "other"],
        ),
        ("short_text", {"q": "  A little redness.  "}, "A little redness."),
        ("long_text", {"q": "Line one\r\nLine two"}, "Line one\r\nLine two"),
        ("number", {"q": "3"}, 3),
        ("number", {"q": "2.50"}, 2.5),
        ("date", date_data("q", "14", "3", "2024"), "2024-03-14"),
    ],
)
def test_each_question_type_cleans_to_the_engine_value_format(kind, data, value):
    answers = valid_answers(step(one_step(question("q", kind)), data))
    assert answers == {"q": value}
    assert type(answers["q"]) is type(value)


def test_yes_no_choices_are_offered_with_their_codes_as_values():
    form = step(one_step(question("q", "yes_no_not_sure")))
    assert list(form.fields["q"].choices) == [
        ("yes", "Yes"),
        ("no", "No"),
        ("not_sure", "Not sure"),
    ]


# Required and optional


@pytest.mark.parametrize(
    "kind", ["yes_no", "single_choice", "multiple_choice", "short_text", "number", "date"]
)
def test_a_required_question_left_blank_is_an_error(kind):
    form = step(one_step(question("q", kind)), {})
    assert not form.is_valid()
    assert error_codes(form, "q") == ["required"]
    # It names the question, with the verb of its kind of answer.
    verb = "Select" if kind in ("yes_no", "single_choice", "multiple_choice") else "Enter"
    assert form.errors["q"][0].startswith(f"{verb} ")
    assert "‘Question q?’" in form.errors["q"][0]


@pytest.mark.parametrize(
    "kind", ["yes_no", "single_choice", "multiple_choice", "long_text", "number", "date"]
)
def test_an_optional_question_left_blank_is_left_out_of_the_answers(kind):
    form = step(one_step(question("q", kind, required=False), question("other")), {"other": "no"})
    assert valid_answers(form) == {"other": "no"}


def test_text_of_only_spaces_counts_as_blank():
    form = step(one_step(question("q", "short_text")), {"q": "   "})
    assert error_codes(form, "q") == ["required"]


def test_the_browser_is_not_asked_to_enforce_required_answers():
    # Follow-ups are shown and hidden on the page; the server alone judges what is required.
    html = str(step(one_step(question("q", "short_text"))))
    assert "required" not in html


# Follow-ups


def _follow_up_in_same_step() -> Definition:
    return one_step(
        question("smoker"),
        question("per_day", "number", min=1, max=100, show_if={"q": "smoker", "is": "yes"}),
        question("notes", "short_text", required=False),
    )


def test_a_follow_up_is_required_when_its_trigger_in_this_step_reveals_it():
    form = step(_follow_up_in_same_step(), {"smoker": "yes"})
    assert form.visible_keys == {"smoker", "per_day", "notes"}
    assert form.fields["per_day"].required
    assert error_codes(form, "per_day") == ["required"]


def test_a_follow_up_revealed_in_this_step_is_answered_with_its_trigger():
    form = step(_follow_up_in_same_step(), {"smoker": "yes", "per_day": "10"})
    assert valid_answers(form) == {"smoker": "yes", "per_day": 10}
    assert form.hidden_keys == frozenset()


def test_a_hidden_follow_up_is_not_required_and_its_posted_value_is_discarded():
    form = step(_follow_up_in_same_step(), {"smoker": "no", "per_day": "not a number"})
    assert valid_answers(form) == {"smoker": "no"}
    assert form.hidden_keys == {"per_day"}
    assert not form.fields["per_day"].required


def test_the_posted_trigger_wins_over_the_stored_answer_of_the_same_step():
    form = step(_follow_up_in_same_step(), {"smoker": "no"}, answers={"smoker": "yes"})
    assert valid_answers(form) == {"smoker": "no"}
    assert form.hidden_keys == {"per_day"}


def test_a_trigger_cleared_on_this_step_hides_its_follow_up():
    form = step(_follow_up_in_same_step(), {"per_day": "5"}, answers={"smoker": "yes"})
    assert not form.is_valid()
    assert set(form.errors) == {"smoker"}
    assert "per_day" in form.hidden_keys


def test_an_invalid_trigger_counts_as_unanswered_for_its_follow_ups():
    form = step(_follow_up_in_same_step(), {"smoker": "maybe", "per_day": "5"})
    assert error_codes(form, "smoker") == ["invalid_choice"]
    assert "per_day" not in form.errors
    assert "per_day" in form.hidden_keys


def test_a_follow_up_of_a_hidden_follow_up_is_hidden_too():
    definition = one_step(
        question("isotretinoin", "yes_no_not_sure"),
        question("taking_now", show_if={"q": "isotretinoin", "in": ["yes", "not_sure"]}),
        date_question("last_dose", show_if={"q": "taking_now", "is": "no"}),
    )
    form = step(definition, {"isotretinoin": "no", "taking_now": "no"})
    assert valid_answers(form) == {"isotretinoin": "no"}
    assert form.hidden_keys == {"taking_now", "last_dose"}


def _follow_up_in_later_step() -> Definition:
    return load_definition(
        document(
            section("habits", question("smoker")),
            section(
                "details",
                question("per_day", "number", show_if={"q": "smoker", "is": "yes"}),
                question("notes", "short_text", required=False),
            ),
        )
    )


def test_a_follow_up_whose_trigger_was_answered_in_an_earlier_step_is_shown():
    form = step(
        _follow_up_in_later_step(),
        {"per_day": "4"},
        section_key="details",
        answers={"smoker": "yes"},
    )
    assert valid_answers(form) == {"per_day": 4}
    assert form.visible_keys == {"per_day", "notes"}
    assert form.live_keys == frozenset()


def test_a_follow_up_whose_trigger_was_answered_no_in_an_earlier_step_is_hidden():
    form = step(
        _follow_up_in_later_step(),
        {"per_day": "4"},
        section_key="details",
        answers={"smoker": "no"},
    )
    assert valid_answers(form) == {}
    assert form.hidden_keys == {"per_day"}


def test_an_unbound_form_marks_visibility_from_the_stored_answers():
    definition = _follow_up_in_later_step()
    shown = step(definition, section_key="details", answers={"smoker": "yes"})
    hidden = step(definition, section_key="details", answers={"smoker": "no"})
    assert shown.visible_keys == {"per_day", "notes"}
    assert hidden.visible_keys == {"notes"}
    assert on_page(hidden) == ["notes"]


def test_a_follow_up_its_trigger_on_this_page_can_reveal_is_on_the_page_while_hidden():
    form = step(_follow_up_in_same_step())
    assert form.live_keys == {"per_day"}
    assert "per_day" in form.hidden_keys
    assert not form.fields["per_day"].required
    assert on_page(form) == ["smoker", "per_day", "notes"]


def test_the_condition_of_a_follow_up_on_this_page_is_in_its_widget_for_the_script():
    doc = document(
        section(
            "about_you",
            question("smoker"),
            date_question("quit", show_if={"q": "smoker", "is": "no"}),
        )
    )
    form = step(Questionnaire.from_document(doc))
    html = str(form)
    assert form.fields["quit"].widget.attrs["data-show-if"] == '{"q":"smoker","is":"no"}'
    assert html.count('data-show-if="{&quot;q&quot;:&quot;smoker&quot;') == 4  # 3 boxes, 1 tick


def test_a_condition_decided_by_an_earlier_step_is_not_left_to_the_script():
    doc = document(
        section("habits", question("smoker")),
        section("details", question("per_day", "number", show_if={"q": "smoker", "is": "yes"})),
    )
    form = step(
        Questionnaire.from_document(doc),
        section_key="details",
        answers={"smoker": "yes"},
    )
    assert "data-show-if" not in str(form)


def test_answers_of_other_steps_are_not_returned():
    form = step(
        _follow_up_in_later_step(),
        {"per_day": "4", "smoker": "no"},
        section_key="details",
        answers={"smoker": "yes"},
    )
    assert valid_answers(form) == {"per_day": 4}


# Choices


def test_a_tampered_choice_code_is_an_invalid_choice():
    form = step(one_step(question("q", "single_choice")), {"q": "elbows"})
    assert error_codes(form, "q") == ["invalid_choice"]
    assert form.errors["q"] == ["Select one of the answers shown for an answer to ‘Question q?’"]


def test_a_tampered_code_among_ticked_ones_is_an_invalid_choice():
    data = MultiValueDict({"q": ["neck", "elbows"]})
    form = step(one_step(question("q", "multiple_choice")), data)
    assert error_codes(form, "q") == ["invalid_choice"]


def test_a_single_code_posted_for_a_multiple_choice_question_is_refused_not_crashed():
    form = step(one_step(question("q", "multiple_choice")), {"q": "neck"})
    assert error_codes(form, "q") == ["invalid_list"]


# Text


@pytest.mark.parametrize(("kind", "limit"), [("short_text", 200), ("long_text", 2000)])
def test_text_has_a_default_length_limit(kind, limit):
    definition = one_step(question("q", kind))
    assert valid_answers(step(definition, {"q": "x" * limit})) == {"q": "x" * limit}
    form = step(definition, {"q": "x" * (limit + 1)})
    assert error_codes(form, "q") == ["max_length"]
    assert form.errors["q"] == [
        f"Enter an answer to ‘Question q?’ in {limit} characters or fewer "
        f"(your answer has {limit + 1})"
    ]


def test_text_uses_the_questions_own_length_limit():
    form = step(one_step(question("q", "short_text", max_length=10)), {"q": "Twelve chars"})
    assert error_codes(form, "q") == ["max_length"]


def test_text_keeps_unicode():
    text = "Zoë — 日本語 ✓ 🙂"
    assert valid_answers(step(one_step(question("q", "short_text")), {"q": text})) == {"q": text}


# Numbers


def test_a_number_below_the_minimum_or_above_the_maximum_is_refused():
    definition = one_step(question("q", "number", min=0, max=20))
    low, high = step(definition, {"q": "-1"}), step(definition, {"q": "20.5"})
    assert error_codes(low, "q") == ["min_value"]
    assert error_codes(high, "q") == ["max_value"]
    assert high.errors["q"] == ["Enter a number from 0 to 20 for an answer to ‘Question q?’"]
    assert valid_answers(step(definition, {"q": "20"})) == {"q": 20}
    assert valid_answers(step(definition, {"q": "0"})) == {"q": 0}


@pytest.mark.parametrize("text", ["ten", "1,000", "NaN", "Infinity", "1e999", "9" * 5000, "½"])
def test_a_number_that_is_not_a_sensible_number_is_refused(text):
    form = step(one_step(question("q", "number")), {"q": text})
    assert not form.is_valid()
    assert error_codes(form, "q") in (["invalid"], ["max_digits"])


def test_a_whole_number_written_with_decimals_is_returned_as_an_int():
    answers = valid_answers(step(one_step(question("q", "number")), {"q": " 4.000 "}))
    assert answers == {"q": 4}
    assert type(answers["q"]) is int


# Dates


def test_a_date_is_typed_in_labelled_day_month_and_year_boxes():
    html = str(step(one_step(date_question("q", allow_not_sure=False))))
    for label, name in [("Day", "q_day"), ("Month", "q_month"), ("Year", "q_year")]:
        assert (
            f'<label class="form-label" for="id_q_{"DMY".index(label[0])}">{label}</label>' in html
        )
        assert f'name="{name}"' in html
    assert html.count('inputmode="numeric"') == 3
    assert html.count('autocomplete="off"') == 3
    assert 'type="checkbox"' not in html
    assert "<fieldset" in html
    assert "<legend>Question q?</legend>" in html


def test_a_date_of_birth_lets_the_browser_fill_it_in():
    html = str(step(one_step(date_question("date_of_birth", allow_month_year=False))))
    for part in ("day", "month", "year"):
        assert f'autocomplete="bday-{part}"' in html


def test_a_date_read_by_an_age_rule_counts_as_a_date_of_birth():
    definition = one_step(
        date_question("born", allow_month_year=False, allow_not_sure=False),
        rules=[
            {
                "id": "too_young",
                "flag": "too_young",
                "tier": "not_possible",
                "when": {"q": "born", "age_under": "MIN_AGE"},
                "practitioner_message": "Under age.",
                "patient_guidance": "Sorry.",
            }
        ],
    )
    assert 'autocomplete="bday-year"' in str(step(definition))
    form = step(definition, date_data("born", "1", "1", "1900"))
    assert error_codes(form, "born") == ["implausible_age"]


@pytest.mark.parametrize(
    ("day", "month", "year", "value"),
    [
        ("14", "3", "2024", "2024-03-14"),
        ("04", "03", "2024", "2024-03-04"),
        (" 1 ", "March", "2024", "2024-03-01"),
        ("29", "feb", "2024", "2024-02-29"),
        ("15", "6", "2025", "2025-06-15"),
    ],
)
def test_a_full_date_is_returned_in_iso_format(day, month, year, value):
    form = step(one_step(date_question("q")), date_data("q", day, month, year))
    assert valid_answers(form) == {"q": value}


def test_a_month_and_year_is_accepted_when_the_question_allows_it():
    form = step(one_step(date_question("q")), date_data("q", "", "3", "2024"))
    assert valid_answers(form) == {"q": "2024-03"}


def test_the_current_month_counts_as_the_past():
    form = step(one_step(date_question("q")), date_data("q", "", "6", "2025"))
    assert valid_answers(form) == {"q": "2025-06"}


def test_a_month_and_year_is_refused_when_the_question_wants_a_full_date():
    form = step(
        one_step(date_question("q", allow_month_year=False)), date_data("q", "", "3", "2024")
    )
    assert error_codes(form, "q") == ["incomplete_date"]
    assert form.errors["q"] == ["Enter the day for an answer to ‘Question q?’"]


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("14", "", "", "Enter the month and year for an answer to ‘Question q?’"),
        ("14", "3", "", "Enter the year for an answer to ‘Question q?’"),
        ("", "", "2024", "Enter the month for an answer to ‘Question q?’"),
        ("14", "", "2024", "Enter the month for an answer to ‘Question q?’"),
    ],
)
def test_a_date_with_parts_missing_says_which(day, month, year, message):
    form = step(one_step(date_question("q")), date_data("q", day, month, year))
    assert error_codes(form, "q") == ["incomplete_date"]
    assert form.errors["q"] == [message]


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [
        ("31", "2", "2024"),
        ("29", "2", "2023"),
        ("0", "3", "2024"),
        ("14", "13", "2024"),
        ("14", "0", "2024"),
        ("fourteen", "3", "2024"),
        ("14", "3", "20245"),
        ("14", "3", "2024AD"),
        ("-1", "3", "2024"),
        ("1.5", "3", "2024"),
        # Digits of other scripts: the page script reads 0 to 9 only, so the server does too.
        ("\u0661\u0664", "3", "2024"),
        ("14", "3", "\u0968\u0966\u0968\u0966"),
    ],
)
def test_an_impossible_date_is_refused(day, month, year):
    form = step(
        one_step(date_question("q", allow_month_year=False)), date_data("q", day, month, year)
    )
    assert error_codes(form, "q") == ["invalid_date"]
    assert form.errors["q"] == [
        "Enter a real date for an answer to ‘Question q?’, for example 14 3 2024"
    ]


def test_a_two_digit_year_asks_for_the_year_in_full():
    form = step(one_step(date_question("q")), date_data("q", "14", "3", "24"))
    assert error_codes(form, "q") == ["invalid_year"]


def test_a_year_before_1900_is_refused():
    form = step(one_step(date_question("q")), date_data("q", "31", "12", "1899"))
    assert error_codes(form, "q") == ["year_too_early"]
    assert valid_answers(step(one_step(date_question("q")), date_data("q", "1", "1", "1900")))


def test_a_date_after_submission_is_refused_for_a_question_about_the_past():
    form = step(one_step(date_question("q")), date_data("q", "16", "6", "2025"))
    assert error_codes(form, "q") == ["future_date"]
    assert form.errors["q"] == ["Enter a date today or in the past for an answer to ‘Question q?’"]
    month = step(one_step(date_question("q")), date_data("q", "", "7", "2025"))
    assert error_codes(month, "q") == ["future_date"]


def test_a_date_before_submission_is_refused_for_a_question_about_the_future():
    definition = one_step(date_question("q", date_range="future"))
    form = step(definition, date_data("q", "14", "6", "2025"))
    assert error_codes(form, "q") == ["past_date"]
    assert valid_answers(step(definition, date_data("q", "15", "6", "2025"))) == {"q": "2025-06-15"}
    assert valid_answers(step(definition, date_data("q", "", "6", "2025"))) == {"q": "2025-06"}


def test_any_date_is_accepted_when_the_range_is_any():
    definition = one_step(date_question("q", date_range="any"))
    assert valid_answers(step(definition, date_data("q", "1", "1", "2030"))) == {"q": "2030-01-01"}
    assert valid_answers(step(definition, date_data("q", "1", "1", "2000"))) == {"q": "2000-01-01"}


@pytest.mark.parametrize(
    ("year", "code"),
    [("1904", "implausible_age"), ("1905", None), ("2025", None), ("2026", "future_date")],
)
def test_a_date_of_birth_must_give_an_age_from_0_to_120(year, code):
    definition = one_step(date_question("date_of_birth", allow_month_year=False))
    form = step(definition, date_data("date_of_birth", "15", "6", year))
    assert error_codes(form, "date_of_birth") == ([code] if code else [])


def test_not_sure_is_offered_with_the_questions_own_label():
    definition = one_step(date_question("q", not_sure_label="I can't remember"))
    html = str(step(definition))
    assert 'type="checkbox" name="q_not_sure"' in html
    assert "I can&#x27;t remember</label>" in html
    form = step(definition, date_data("q", q_not_sure="on"))
    assert valid_answers(form) == {"q": "not_sure"}


def test_not_sure_has_a_default_label():
    assert "I&#x27;m not sure</label>" in str(step(one_step(date_question("q"))))


def test_a_date_and_not_sure_together_are_refused():
    form = step(one_step(date_question("q")), date_data("q", "1", "2", "2024", q_not_sure="on"))
    assert error_codes(form, "q") == ["date_and_not_sure"]


def test_not_sure_is_ignored_when_the_question_does_not_offer_it():
    form = step(one_step(date_question("q", allow_not_sure=False)), date_data("q", q_not_sure="on"))
    assert error_codes(form, "q") == ["required"]
    assert form.errors["q"] == ["Enter an answer to ‘Question q?’"]


def test_a_blank_required_date_mentions_not_sure_when_offered():
    form = step(one_step(date_question("q")), {})
    assert form.errors["q"] == ["Enter an answer to ‘Question q?’, or tick ‘I'm not sure’"]


# Junk


JUNK = [
    ["yes", "no"],
    {"nested": ["x"]},
    None,
    "",
    "x" * 1_000_000,
    "\x00",
    "é" * 500,
    "🙂",
    "   ",
    "0",
    "-0",
    "1e5",
    42,
    True,
]


def _every_type() -> Definition:
    return one_step(
        question("a", "yes_no"),
        question("b", "yes_no_not_sure"),
        question("c", "single_choice"),
        question("d", "multiple_choice"),
        date_question("e"),
        date_question("date_of_birth", allow_month_year=False, allow_not_sure=False),
        question("g", "number", min=0, max=10),
        question("h", "short_text", show_if={"q": "a", "is": "yes"}),
        question("i", "long_text", required=False),
    )


@pytest.mark.parametrize("junk", JUNK)
def test_junk_in_every_field_gives_form_errors_never_an_exception(junk):
    definition = _every_type()
    data: dict[str, Any] = {
        name: junk
        for name in [
            "a", "b", "c", "d", "g", "h", "i",
            "e_day", "e_month", "e_year", "e_not_sure",
            "date_of_birth_day", "date_of_birth_month", "date_of_birth_year",
        ]
    }  # fmt: skip
    form = step(definition, data)
    assert not form.is_valid()
    assert form.errors
    str(form)
    render_crispy_form(form)


def test_junk_in_a_query_dict_gives_form_errors_never_an_exception():
    query = QueryDict(mutable=True)
    for name in ("a", "d", "e_day", "e_month", "g", "i"):
        query.setlist(name, ["x" * 100_000, "\u202e\x00", "١٤"])
    form = step(_every_type(), query)
    assert not form.is_valid()
    str(form)


def test_missing_fields_are_just_unanswered():
    form = step(_every_type(), {})
    assert not form.is_valid()
    assert set(form.errors) == {"a", "b", "c", "d", "e", "date_of_birth", "g"}


def test_extra_unknown_keys_are_ignored():
    form = step(one_step(question("a")), {"a": "no", "csrfmiddlewaretoken": "x", "sneaky": "yes"})
    assert valid_answers(form) == {"a": "no"}


def test_junk_stored_answers_do_not_break_the_form():
    answers = {"a": ["yes"], "d": "neck", "e": 20240314, "g": "lots", "unknown": 1}
    form = step(_every_type(), answers=answers)
    assert 'name="e_day" class' in str(form)


def test_answers_of_an_invalid_form_are_not_available():
    form = step(one_step(question("a")), {"a": "perhaps"})
    with pytest.raises(ValueError, match="valid"):
        form.answers()


def test_an_unknown_section_is_a_programming_error():
    with pytest.raises(KeyError):
        step(one_step(question("a")), section_key="nowhere")


# Round trip through initial


def post_data_from(form: StepForm) -> MultiValueDict:
    """What a browser would post back for the form as rendered, untouched."""
    data = MultiValueDict()
    for field in form:
        widget = field.field.widget
        value = field.value()
        if isinstance(widget, forms.MultiWidget):
            parts = widget.decompress(value)
            for suffix, part in zip(widget.widgets_names, parts, strict=True):
                if part is True:
                    data[field.name + suffix] = "on"
                elif part is not False:
                    data[field.name + suffix] = part
        elif isinstance(value, list):
            data.setlist(field.name, [str(item) for item in value])
        elif value is not None:
            data[field.name] = str(value)
    return data


@pytest.mark.parametrize(
    "answers",
    [
        {
            "a": "yes",
            "b": "not_sure",
            "c": "other",
            "d": ["cheeks", "other"],
            "e": "2024-03",
            "date_of_birth": "1980-02-29",
            "g": 2.5,
            "h": "Ten a day",
            "i": "Line one\r\nLine two — é",
        },
        {"a": "no", "b": "no", "c": "neck", "d": ["neck"], "e": "not_sure"}
        | {"date_of_birth": "2025-06-15", "g": 0},
        {"a": "no", "b": "yes", "c": "cheeks", "d": ["cheeks"], "e": "2025-06-15"}
        | {"date_of_birth": "1905-06-15", "g": 10},
    ],
)
def test_answers_round_trip_through_initial(answers):
    definition = _every_type()
    shown = step(definition, answers=answers)
    follow_up = {"h"} if answers["a"] == "yes" else set()
    assert shown.visible_keys == {"a", "b", "c", "d", "e", "date_of_birth", "g", "i"} | follow_up
    again = step(definition, post_data_from(shown), answers=answers)
    assert valid_answers(again) == answers


# Rendering


def test_crispy_renders_groups_in_fieldsets_with_errors_tied_to_them():
    form = step(one_step(question("a"), date_question("e")), date_data("e", "31", "2", "2024"))
    assert not form.is_valid()
    html = render_crispy_form(form)
    assert html.count("<fieldset") == 2
    assert html.count("<legend") == 2
    assert '<fieldset aria-describedby="id_e_error">' in html
    assert 'id="id_e_error"' in html
    assert 'aria-invalid="true"' in html
    assert "partial-date is-invalid" in html


# The shipped SkinPen set


def plausible(question: Any, birth_dates: set[str]) -> dict[str, Any]:
    """POST data a patient might send for a question, whatever its type."""
    key = question.key
    codes = [choice.code for choice in question.choices]
    if question.type in ("yes_no", "yes_no_not_sure", "single_choice"):
        # "Yes" reveals the most follow-ups, so they get checked too.
        return {key: codes[0]}
    if question.type == "multiple_choice":
        return {key: codes[:2]}
    if question.type == "number":
        low = question.min if question.min is not None else 0
        return {key: str(low if question.max is None else (low + question.max) / 2)}
    if question.type in ("short_text", "long_text"):
        return {key: "Nothing to add, thank you."}
    if key in birth_dates:
        day = date(1990, 5, 17)
    elif question.date_range == "future":
        day = SUBMITTED + timedelta(days=30)
    elif question.date_range == "past":
        day = SUBMITTED - timedelta(days=400)
    else:
        day = SUBMITTED
    return date_data(key, str(day.day), str(day.month), str(day.year))


def test_every_section_of_the_skinpen_set_renders_and_accepts_a_plausible_post():
    if not SKINPEN.exists():
        pytest.skip("The SkinPen question set is not there yet.")
    doc = json.loads(SKINPEN.read_text(encoding="utf-8"))
    questionnaire = Questionnaire.from_document(doc)
    definition = questionnaire.definition
    birth_dates = set(questionnaire.birth_date_keys)
    assert birth_dates == {"date_of_birth"}
    answers: dict[str, Any] = {}
    seen_types = set()
    for section_ in definition.sections:
        blank = step(
            questionnaire,
            section_key=section_.key,
            answers=answers,
            reference_date=SUBMITTED + timedelta(days=30),
        )
        assert str(blank)
        assert render_crispy_form(blank)
        data = MultiValueDict()
        for item in section_.questions:
            seen_types.add(item.type)
            for name, value in plausible(item, birth_dates).items():
                data.setlist(name, value if isinstance(value, list) else [value])
        form = step(
            questionnaire,
            data,
            section_key=section_.key,
            answers=answers,
            reference_date=SUBMITTED + timedelta(days=30),
        )
        answers |= valid_answers(form)
        assert str(form)
    assert seen_types >= {"yes_no", "yes_no_not_sure", "single_choice", "multiple_choice", "date"}
    assert answers["date_of_birth"] == "1990-05-17"


SKINPEN_CASES = SKINPEN.with_name("skinpen.cases.json")


def test_a_page_shared_by_patients_is_keyed_by_what_it_shows():
    questionnaire = Questionnaire.from_document(json.loads(SKINPEN.read_text()))
    definition = questionnaire.definition
    patients = [{}] + [case["answers"] for case in json.loads(SKINPEN_CASES.read_text())]
    keys = set()
    for section_step in questionnaire.steps:
        if section_step.kind != "section":
            continue
        section = definition.section(section_step.section_key)
        for answers in patients:
            # Each step as a patient sees it when they arrive there: this step not yet answered.
            mine = {q.key for q in section.questions}
            earlier = {key: value for key, value in answers.items() if key not in mine}
            key = blank_step_key(
                questionnaire, section_step, earlier, today=SUBMITTED, treatment_date=None
            )
            assert key is not None
            keys.add(key)
            # Once the patient has answered the step, its page is theirs alone.
            answered = StepForm(questionnaire, section.key, submitted_on=SUBMITTED, answers=answers)
            if answered.initial.keys() - {"date_of_birth"}:
                assert (
                    blank_step_key(
                        questionnaire, section_step, answers, today=SUBMITTED, treatment_date=None
                    )
                    is None
                )
    # Earlier answers that show or hide follow-ups give pages of their own.
    assert len(keys) > len(definition.sections)
