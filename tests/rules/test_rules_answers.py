from datetime import date
from decimal import Decimal

import pytest
from rules_factory import date_question, definition, question

from intake.rules import check_answers

S = date(2025, 6, 15)


def _definition():
    return definition(
        questions=[
            question("smoker", "yes_no"),
            question("pregnant", "yes_no_not_sure"),
            question("spots", "single_choice"),
            question("areas", "multiple_choice"),
            date_question("last_dose"),
            question("born", "date", date_range="past"),
            question("appointment", "date", date_range="future", allow_month_year=True),
            question("cups", "number", min=0, max=10),
            question("notes", "short_text", max_length=5),
            question("story", "long_text"),
        ]
    )


def _codes(answers):
    return [(p.code, p.where) for p in check_answers(_definition(), answers, submitted_on=S)]


def test_valid_answers_have_no_problems():
    answers = {
        "smoker": "no",
        "pregnant": "not_sure",
        "spots": "two",
        "areas": ["one", "two"],
        "last_dose": "2024-12",
        "born": "1990-02-28",
        "appointment": "2025-07-01",
        "cups": 2.5,
        "notes": "short",
        "story": "x" * 2000,
    }
    assert _codes(answers) == []


def test_partial_answers_are_fine_because_required_ness_is_not_checked():
    assert _codes({}) == []
    assert _codes({"smoker": None, "notes": ""}) == []


def test_an_unknown_question_key():
    (problem,) = check_answers(_definition(), {"smokes": "yes"}, submitted_on=S)
    assert (problem.code, problem.where) == ("unknown_question", "question smokes")
    assert problem.message == 'The answers include unknown question "smokes".'


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("smoker", True),
        ("smoker", 1),
        ("areas", "one"),
        ("areas", [1]),
        ("last_dose", 20250101),
        ("last_dose", "14/03/2025"),
        ("last_dose", "2025-3-14"),
        ("cups", "3"),
        ("cups", True),
        ("cups", float("nan")),
        ("notes", 12),
    ],
)
def test_a_value_of_the_wrong_shape_is_a_type_mismatch(key, value):
    assert _codes({key: value}) == [("type_mismatch", f"question {key}")]


def test_unknown_choice_codes():
    assert _codes({"smoker": "not_sure"}) == [("unknown_choice", "question smoker")]
    assert _codes({"spots": "three"}) == [("unknown_choice", "question spots")]
    (problem,) = check_answers(_definition(), {"areas": ["one", "neck"]}, submitted_on=S)
    assert problem.message == 'The answer to question "areas" uses unknown choice "neck".'


def test_impossible_dates_are_invalid():
    (problem,) = check_answers(_definition(), {"last_dose": "2025-02-30"}, submitted_on=S)
    assert problem.code == "invalid_date"
    assert problem.message == 'The answer to question "last_dose" is not a real date: "2025-02-30".'
    assert _codes({"last_dose": "2025-13"}) == [("invalid_date", "question last_dose")]


def test_29_february_is_valid_only_in_leap_years():
    assert _codes({"born": "2024-02-29"}) == []
    assert _codes({"born": "2023-02-29"}) == [("invalid_date", "question born")]


def test_a_month_answer_where_only_full_dates_are_allowed():
    assert _codes({"born": "1990-03"}) == [("month_year_not_allowed", "question born")]


def test_not_sure_where_it_is_not_allowed():
    assert _codes({"born": "not_sure"}) == [("not_sure_not_allowed", "question born")]
    assert _codes({"last_dose": "not_sure"}) == []


def test_a_past_only_date_after_submission():
    (problem,) = check_answers(_definition(), {"last_dose": "2025-06-16"}, submitted_on=S)
    assert problem.code == "date_after_submission"
    assert problem.where == "question last_dose"
    assert "2025-06-15" in problem.message


def test_a_past_only_month_containing_the_submission_date_is_fine():
    assert _codes({"last_dose": "2025-06"}) == []
    assert _codes({"last_dose": "2025-07"}) == [("date_after_submission", "question last_dose")]


def test_a_future_only_date_before_submission():
    assert _codes({"appointment": "2025-06-14"}) == [
        ("date_before_submission", "question appointment")
    ]
    assert _codes({"appointment": "2025-06-15"}) == []
    assert _codes({"appointment": "2025-06"}) == []


def test_numbers_outside_min_and_max():
    assert _codes({"cups": -1}) == [("out_of_range", "question cups")]
    assert _codes({"cups": 11}) == [("out_of_range", "question cups")]
    assert _codes({"cups": 10}) == []
    assert _codes({"cups": Decimal("9.5")}) == []


def test_text_over_max_length():
    (problem,) = check_answers(_definition(), {"notes": "toolong"}, submitted_on=S)
    assert problem.code == "too_long"
    assert problem.message == 'The answer to question "notes" has 7 characters; the limit is 5.'


def test_text_has_a_default_max_length():
    assert _codes({"story": "x" * 2001}) == [("too_long", "question story")]


def test_every_problem_is_reported():
    answers = {"smoker": "maybe", "born": "2025-02-30", "cups": 99, "ghost": 1}
    assert [code for code, _ in _codes(answers)] == [
        "unknown_choice",
        "invalid_date",
        "out_of_range",
        "unknown_question",
    ]


def test_answers_that_are_not_a_mapping_are_one_problem():
    problems = check_answers(_definition(), ["smoker"], submitted_on=S)  # type: ignore[arg-type]
    assert [p.code for p in problems] == ["type_mismatch"]
