from datetime import date

import pytest
from rules_factory import SUBMITTED, date_question, question, truth

CHOICES = [question("smoker", "yes_no_not_sure"), question("spots", "single_choice")]
AREAS = [
    question(
        "areas",
        "multiple_choice",
        choices=[
            {"code": "cheeks", "label": "Cheeks"},
            {"code": "neck", "label": "Neck"},
            {"code": "hands", "label": "Hands"},
        ],
    )
]
NUMBER = [question("cups", "number")]
R = date(2025, 6, 15)


def test_answered_is_true_for_any_answer_and_false_when_absent():
    when = {"q": "smoker", "answered": True}
    assert truth(when, {"smoker": "no"}, questions=CHOICES) == "true"
    assert truth(when, {}, questions=CHOICES) == "false"


def test_is_matches_only_that_code():
    when = {"q": "smoker", "is": "yes"}
    assert truth(when, {"smoker": "yes"}, questions=CHOICES) == "true"
    assert truth(when, {"smoker": "no"}, questions=CHOICES) == "false"


def test_not_sure_is_an_ordinary_code_for_choice_questions():
    assert truth({"q": "smoker", "is": "yes"}, {"smoker": "not_sure"}, questions=CHOICES) == (
        "false"
    )
    assert truth({"q": "smoker", "is": "not_sure"}, {"smoker": "not_sure"}, questions=CHOICES) == (
        "true"
    )


def test_in_matches_any_listed_code():
    when = {"q": "spots", "in": ["one", "two"]}
    assert truth(when, {"spots": "two"}, questions=CHOICES) == "true"
    assert truth({"q": "spots", "in": ["one"]}, {"spots": "two"}, questions=CHOICES) == "false"


def test_unanswered_choice_question_makes_is_false():
    assert truth({"q": "smoker", "is": "yes"}, {}, questions=CHOICES) == "false"


def test_any_of_needs_one_ticked_code():
    when = {"q": "areas", "any_of": ["neck", "hands"]}
    assert truth(when, {"areas": ["cheeks", "neck"]}, questions=AREAS) == "true"
    assert truth(when, {"areas": ["cheeks"]}, questions=AREAS) == "false"


def test_all_of_needs_every_code_ticked():
    when = {"q": "areas", "all_of": ["cheeks", "neck"]}
    assert truth(when, {"areas": ["neck", "cheeks", "hands"]}, questions=AREAS) == "true"
    assert truth(when, {"areas": ["neck"]}, questions=AREAS) == "false"


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("gt", 3, "false"),
        ("gt", 2, "true"),
        ("gte", 3, "true"),
        ("lt", 3, "false"),
        ("lt", 4, "true"),
        ("lte", 3, "true"),
        ("eq", 3, "true"),
        ("eq", 2.5, "false"),
    ],
)
def test_number_comparisons(op, value, expected):
    assert truth({"q": "cups", op: value}, {"cups": 3}, questions=NUMBER) == expected


def test_number_comparison_reads_a_parameter():
    when = {"q": "cups", "gte": "MAX_CUPS"}
    assert truth(when, {"cups": 5}, questions=NUMBER, parameters={"MAX_CUPS": 5}) == "true"
    assert truth(when, {"cups": 4}, questions=NUMBER, parameters={"MAX_CUPS": 5}) == "false"


# within_before, months: event <= R and R < add_months(event, n)

WITHIN_6_MONTHS = {"q": "last_dose", "within_before": {"months": 6}}


def _dose(answer, when=WITHIN_6_MONTHS, reference_date=R, **question_fields):
    return truth(
        when,
        {"last_dose": answer},
        questions=[date_question(**question_fields)],
        reference_date=reference_date,
    )


def test_within_months_before_is_true_the_day_before_the_anniversary():
    assert _dose("2024-12-16") == "true"


def test_within_months_before_counts_the_anniversary_as_elapsed():
    assert _dose("2024-12-15") == "false"


def test_within_months_before_includes_the_reference_day_itself():
    assert _dose("2025-06-15") == "true"


def test_within_months_before_excludes_events_after_the_reference_date():
    assert _dose("2025-06-20", reference_date=date(2025, 6, 19), date_range="any") == "false"


def test_within_months_before_uses_clamped_month_ends():
    # 31 August + 6 months = 28 February, so on 28 February the period has elapsed. (The
    # question takes any date: these are after the submission date, which a past event's is not.)
    when = WITHIN_6_MONTHS
    after = {"date_range": "any"}
    assert _dose("2025-08-31", when, reference_date=date(2026, 2, 28), **after) == "false"
    assert _dose("2025-08-31", when, reference_date=date(2026, 2, 27), **after) == "true"
    assert _dose("2025-08-30", when, reference_date=date(2026, 2, 28), **after) == "false"


def test_a_month_answer_straddling_the_boundary_is_unknown():
    # R = 15 June 2025: 31 Dec 2024 is within 6 months, 1 Dec 2024 is not.
    assert _dose("2024-12") == "unknown"


def test_a_month_answer_wholly_inside_the_period_is_true():
    assert _dose("2025-02") == "true"


def test_a_month_answer_wholly_outside_the_period_is_false():
    assert _dose("2024-11") == "false"


def test_not_sure_on_a_past_question_is_unknown():
    assert _dose("not_sure") == "unknown"


def test_a_month_answer_is_clipped_to_the_submission_date_for_past_questions():
    # June 2025 clipped to 1–15 June, all on or before R = S = 15 June.
    assert _dose("2025-06", reference_date=None) == "true"


def test_within_days_before_includes_day_zero_and_excludes_day_n():
    when = {"q": "last_dose", "within_before": {"days": 28}}
    assert _dose("2025-06-15", when) == "true"  # R - event = 0
    assert _dose("2025-05-19", when) == "true"  # 27
    assert _dose("2025-05-18", when) == "false"  # 28
    assert _dose("2025-05", when) == "unknown"


def test_within_days_after():
    when = {"q": "event_day", "within_after": {"days": 7}}
    questions = [question("event_day", "date", date_range="future", allow_month_year=True)]

    def check(answer):
        return truth(
            when,
            {"event_day": answer},
            questions=questions,
            submitted_on=date(2025, 6, 1),
            reference_date=R,
        )

    assert check("2025-06-15") == "false"  # event - R = 0
    assert check("2025-06-16") == "true"
    assert check("2025-06-22") == "true"  # 7 days after
    assert check("2025-06-23") == "false"
    assert check("2025-06") == "unknown"


def test_within_months_after():
    when = {"q": "event_day", "within_after": {"months": 1}}
    questions = [question("event_day", "date", date_range="any")]
    reference = date(2025, 1, 31)

    def check(answer):
        return truth(when, {"event_day": answer}, questions=questions, reference_date=reference)

    assert check("2025-01-31") == "false"
    assert check("2025-02-28") == "true"  # 31 Jan + 1 month = 28 Feb
    assert check("2025-03-01") == "false"


def test_after_submission_compares_with_the_submission_date_not_the_reference():
    when = {"q": "last_dose", "after_submission": True}
    later = date(2025, 9, 1)
    assert _dose("2025-06-16", when, reference_date=later) == "true"
    assert _dose("2025-06-15", when, reference_date=later) == "false"


def test_age_under_on_the_reference_date():
    when = {"q": "born", "age_under": 18}
    questions = [question("born", "date", date_range="past")]

    def check(answer, reference):
        return truth(when, {"born": answer}, questions=questions, reference_date=reference)

    assert check("2007-06-16", R) == "true"
    assert check("2007-06-15", R) == "false"  # 18th birthday on R
    assert check("2008-02-29", date(2026, 2, 28)) == "true"
    assert check("2008-02-29", date(2026, 3, 1)) == "false"


def test_age_under_a_parameter_with_a_month_of_birth_is_unknown_around_the_birthday():
    when = {"q": "born", "age_under": "MIN_AGE"}
    questions = [question("born", "date", date_range="past", allow_month_year=True)]
    assert (
        truth(when, {"born": "2007-06"}, questions=questions, parameters={"MIN_AGE": 18})
        == "unknown"
    )


def test_zero_counts_match_no_day():
    assert _dose("2025-06-15", {"q": "last_dose", "within_before": {"days": 0}}) == "false"
    assert _dose("2025-06-15", {"q": "last_dose", "within_before": {"months": 0}}) == "false"


# Three-valued combinations


def _combo(when, answer="2024-12", smoker="yes"):
    questions = [question("smoker", "yes_no"), date_question()]
    return truth(
        when, {"smoker": smoker, "last_dose": answer}, questions=questions, reference_date=R
    )


SMOKER = {"q": "smoker", "is": "yes"}
NOT_SMOKER = {"q": "smoker", "is": "no"}


def test_not_of_unknown_is_unknown():
    assert _combo({"not": WITHIN_6_MONTHS}) == "unknown"


def test_not_of_true_is_false_and_of_false_is_true():
    assert _combo({"not": SMOKER}) == "false"
    assert _combo({"not": NOT_SMOKER}) == "true"


def test_all_is_false_if_any_part_is_false_even_with_an_unknown():
    assert _combo({"all": [WITHIN_6_MONTHS, NOT_SMOKER]}) == "false"


def test_all_is_unknown_if_no_part_is_false_and_one_is_unknown():
    assert _combo({"all": [WITHIN_6_MONTHS, SMOKER]}) == "unknown"


def test_all_is_true_when_every_part_is_true():
    assert _combo({"all": [SMOKER, SMOKER]}) == "true"


def test_any_is_true_if_any_part_is_true_even_with_an_unknown():
    assert _combo({"any": [WITHIN_6_MONTHS, SMOKER]}) == "true"


def test_any_is_unknown_if_no_part_is_true_and_one_is_unknown():
    assert _combo({"any": [WITHIN_6_MONTHS, NOT_SMOKER]}) == "unknown"


def test_any_is_false_when_every_part_is_false():
    assert _combo({"any": [NOT_SMOKER, NOT_SMOKER]}) == "false"


def test_not_of_an_unanswered_question_is_true():
    assert truth({"not": {"q": "smoker", "answered": True}}, {}, questions=CHOICES) == "true"


def test_the_submission_date_is_the_reference_when_none_is_given():
    when = {"q": "last_dose", "within_before": {"days": 1}}
    answers = {"last_dose": SUBMITTED.isoformat()}
    assert truth(when, answers, questions=[date_question()]) == "true"
