"""Follow-up conditions with other pages' answers applied: the page decides as the engine does."""

import json
from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from rules_factory import date_question, definition, question

from intake.rules import (
    Definition,
    load_definition,
    page_conditions,
    residual_truth,
    shown_on_page,
    visible_questions,
)
from intake.rules.conditions import FALSE, TRUE, UNKNOWN
from intake.rules.engine import read_answers

S = date(2025, 6, 15)
SKINPEN = Path(__file__).parents[2] / "intake" / "question_sets" / "skinpen.json"


def _areas():
    return question(
        "areas",
        "multiple_choice",
        choices=[{"code": "face", "label": "Face"}, {"code": "neck", "label": "Neck"}],
    )


TWO_PAGES = definition(
    sections=[
        {
            "key": "earlier",
            "title": "Earlier",
            "questions": [
                _areas(),
                question("had_it", "yes_no_not_sure"),
                date_question("started"),
                date_question("birth", allow_month_year=False, allow_not_sure=False),
                question("count", "number"),
            ],
        },
        {
            "key": "page",
            "title": "This page",
            "questions": [
                question("now"),
                question("body", "yes_no_not_sure", show_if={"q": "areas", "any_of": ["neck"]}),
                date_question(
                    "when",
                    show_if={"any": [{"q": "now", "is": "yes"}, {"q": "body", "is": "yes"}]},
                ),
                question("healed", show_if={"q": "when", "within_before": {"days": 10}}),
                date_question(
                    "planned",
                    date_range="future",
                    allow_not_sure=False,
                    show_if={"not": {"q": "had_it", "is": "no"}},
                ),
                question(
                    "soon",
                    show_if={
                        "all": [
                            {"q": "planned", "within_after": {"months": 1}},
                            {"q": "started", "within_before": {"months": 6}},
                        ]
                    },
                ),
                question("young", show_if={"q": "birth", "age_under": 18}),
                question(
                    "big", show_if={"all": [{"q": "count", "gt": 3}, {"q": "now", "is": "yes"}]}
                ),
                question("after", show_if={"q": "when", "after_submission": True}),
                question("given", show_if={"not": {"q": "when", "answered": True}}),
                question("empty", show_if={"q": "when", "within_before": {"days": 0}}),
                question("follows", show_if={"q": "when", "within_after": {"days": 5}}),
            ],
        },
    ]
)
PAGE = frozenset(q.key for q in TWO_PAGES.section("page").questions)


def _residuals(others, reference_date=None, *, submitted_on=S):
    return page_conditions(
        TWO_PAGES, others, PAGE, submitted_on=submitted_on, reference_date=reference_date
    )


# What is left of a condition


def test_a_follow_up_decided_false_by_another_page_is_left_out_and_reads_as_unanswered():
    residuals = _residuals({"areas": ["face"]})
    assert residuals["body"] is False
    # "body" can never show, so "when" depends on "now" alone.
    assert residuals["when"] == {"q": "now", "is": "yes"}


def test_a_follow_up_decided_true_by_another_page_keeps_its_leaves_on_this_page():
    residuals = _residuals({"areas": ["face", "neck"]})
    assert residuals["body"] is True
    assert residuals["when"] == {"any": [{"q": "now", "is": "yes"}, {"q": "body", "is": "yes"}]}


def test_questions_without_a_condition_are_shown():
    assert _residuals({})["now"] is True


def test_a_leaf_of_another_page_becomes_its_truth():
    assert _residuals({"birth": "2010-01-01"})["young"] is True
    assert _residuals({"birth": "1990-01-01"})["young"] is False
    assert _residuals({"count": 2})["big"] is False
    assert _residuals({"count": 5})["big"] == {"q": "now", "is": "yes"}
    # `not` of a decided part is decided.
    assert _residuals({"had_it": "no"})["planned"] is False
    assert _residuals({"had_it": "yes"})["planned"] is True
    assert _residuals({})["planned"] is True


def test_an_unknown_leaf_of_another_page_stays_unknown():
    # A start in a month that straddles the six-month boundary: maybe within six months.
    residuals = _residuals({"started": "2024-12"})
    assert residuals["soon"] == {
        "all": [
            {
                "q": "planned",
                "days": ["2025-06-16", "2025-07-15"],
                "today": "2025-06-15",
                "range": "future",
                "months": True,
            },
            None,
        ]
    }
    # Not answered at all (hidden or blank): false, so decided.
    assert _residuals({})["soon"] is False


def test_an_answer_to_a_question_of_the_page_given_elsewhere_is_not_read():
    assert _residuals({"areas": ["neck"], "now": "yes", "body": "yes"})["when"] == {
        "any": [{"q": "now", "is": "yes"}, {"q": "body", "is": "yes"}]
    }


def test_a_date_leaf_on_the_page_is_the_range_of_days_that_satisfies_it():
    healed = _residuals({}, reference_date=date(2025, 7, 1))["healed"]
    assert healed == {
        "q": "when",
        "days": ["2025-06-22", "2025-07-01"],
        "today": "2025-06-15",
        "range": "past",
        "months": True,
        # A cold sore still going on counts as on the appointment day: within 10 days of it.
        "ongoing": True,
    }
    after = _residuals({})["after"]
    assert after["days"] == ["2025-06-16", None]
    assert after["ongoing"] is True


def test_answered_on_a_date_is_any_day_and_a_range_no_day_fits_is_false():
    assert _residuals({})["given"] == {
        "not": {
            "q": "when",
            "days": [None, None],
            "today": "2025-06-15",
            "range": "past",
            "months": True,
            "ongoing": True,
        }
    }
    assert _residuals({})["empty"] is False


# The page's evaluation of a date answer


def _healed(answer, reference_date=date(2025, 6, 18)):
    return residual_truth(_residuals({}, reference_date)["healed"], {"when": answer})


def test_a_day_is_inside_or_outside_the_range():
    # Within 10 days before 18 June: 9 to 18 June.
    assert _healed("2025-06-09") is TRUE
    assert _healed("2025-06-08") is FALSE
    assert _healed(None) is FALSE


def test_a_month_is_its_days_clipped_to_today():
    assert _healed("2025-06") is UNKNOWN
    assert _healed("2025-05") is FALSE
    # June up to today (the 15th) is all before 21 June: false, where all of June would be unknown.
    assert _healed("2025-06", reference_date=date(2025, 6, 30)) is FALSE


def test_not_sure_is_every_day_up_to_today():
    assert _healed("not_sure") is UNKNOWN
    assert _healed("not_sure", reference_date=date(2025, 6, 30)) is FALSE


def test_a_past_event_after_today_is_ongoing():
    # Still going on: as if on the appointment day, which is within 10 days before it.
    assert _healed("2025-07-20") is TRUE
    follows = _residuals({}, date(2025, 7, 18))["follows"]
    assert follows["days"] == ["2025-07-19", "2025-07-23"]
    # 20 July is in the range, but an ongoing event is not after the appointment day.
    assert residual_truth(follows, {"when": "2025-07-20"}) is FALSE
    assert residual_truth(_residuals({})["after"], {"when": "2025-06-16"}) is TRUE


def test_a_future_month_that_includes_today_is_clipped_from_today():
    # An appointment date before today, as when a treatment date has passed.
    soon = _residuals({"had_it": "yes", "started": "2025-05-01"}, date(2025, 6, 1))["soon"]
    assert soon["days"] == ["2025-06-02", "2025-07-01"]
    assert residual_truth(soon, {"planned": "2025-06"}) is TRUE
    assert residual_truth(soon, {"planned": "2025-07"}) is UNKNOWN


def test_the_page_script_hides_the_follow_ups_of_a_hidden_question():
    residuals = _residuals({"areas": ["neck"]})
    shown = shown_on_page(residuals, {"now": "no", "body": "no", "when": "2025-06-14"})
    assert shown == {"now", "body", "planned", "given"}


# The page decides as the engine does


def _date_answers(allow_month=True, allow_not_sure=True):
    offsets = st.integers(-420, 120)
    days = offsets.map(lambda n: (S + timedelta(days=n)).isoformat())
    choices = [st.none(), days]
    if allow_month:
        choices.append(offsets.map(lambda n: (S + timedelta(days=n)).strftime("%Y-%m")))
    if allow_not_sure:
        choices.append(st.just("not_sure"))
    return st.one_of(*choices)


def _answer(spec):
    if spec.type == "multiple_choice":
        return st.one_of(st.none(), st.lists(st.sampled_from(sorted(spec.choice_codes))))
    if spec.choice_codes:
        return st.one_of(st.none(), st.sampled_from(sorted(spec.choice_codes)))
    if spec.type == "date":
        if spec.date_range == "future":
            return _date_answers(spec.allow_month_year, spec.allow_not_sure).map(
                lambda v: v if v in (None, "not_sure") else _later(v)
            )
        return _date_answers(spec.allow_month_year, spec.allow_not_sure)
    if spec.type == "number":
        return st.one_of(st.none(), st.integers(0, 10))
    return st.one_of(st.none(), st.just("text"))


def _later(value):
    """A date answer moved a year on, so that future questions get answers around today too."""
    return f"{int(value[:4]) + 1}{value[4:]}" if not value.endswith("-29") else value


def _answers(loaded: Definition):
    return st.fixed_dictionaries({key: _answer(spec) for key, spec in loaded.questions.items()})


def _check_every_page(loaded, answers, page_keys, submitted_on, reference_date):
    answers = {key: value for key, value in answers.items() if value is not None}
    context, shown, _ = read_answers(loaded, answers, submitted_on, reference_date)
    for page in page_keys:
        others = {key: value for key, value in answers.items() if key not in page}
        residuals = page_conditions(
            loaded, others, page, submitted_on=submitted_on, reference_date=reference_date
        )
        on_page = {key: value for key, value in answers.items() if key in page}
        assert shown_on_page(residuals, on_page) == shown & page
        # The truth itself, not only shown or hidden, is the engine's.
        page_shown = {key: value for key, value in on_page.items() if key in shown}
        for key, residual in residuals.items():
            condition = loaded.questions[key].show_if
            expected = TRUE if condition is None else condition.evaluate(context)
            assert residual_truth(residual, page_shown) is expected, (key, residual)
        json.dumps(residuals)  # plain JSON for the page


@settings(max_examples=300, deadline=None)
@given(
    answers=_answers(TWO_PAGES),
    submitted_on=st.sampled_from([S, date(2025, 1, 31), date(2024, 2, 29)]),
    reference_after=st.one_of(st.none(), st.integers(-60, 90)),
)
def test_the_page_decides_as_the_engine_for_any_answers(answers, submitted_on, reference_after):
    reference_date = None if reference_after is None else S + timedelta(days=reference_after)
    pages = [PAGE, frozenset(q.key for q in TWO_PAGES.section("earlier").questions)]
    _check_every_page(TWO_PAGES, answers, pages, submitted_on, reference_date)


SKINPEN_DEFINITION = load_definition(json.loads(SKINPEN.read_text()))


@settings(max_examples=150, deadline=None)
@given(
    answers=_answers(SKINPEN_DEFINITION),
    reference_after=st.one_of(st.none(), st.integers(-60, 90)),
)
def test_every_skinpen_page_decides_as_the_engine(answers, reference_after):
    reference_date = None if reference_after is None else S + timedelta(days=reference_after)
    pages = [
        frozenset(q.key for q in section.questions if q.key != "date_of_birth")
        for section in SKINPEN_DEFINITION.sections
    ]
    _check_every_page(SKINPEN_DEFINITION, answers, pages, S, reference_date)


def test_the_visible_questions_for_no_answers_agree():
    pages = [frozenset(q.key for q in s.questions) for s in SKINPEN_DEFINITION.sections]
    shown = visible_questions(SKINPEN_DEFINITION, {}, submitted_on=S)
    for page in pages:
        residuals = page_conditions(SKINPEN_DEFINITION, {}, page, submitted_on=S)
        assert shown_on_page(residuals, {}) == shown & page
