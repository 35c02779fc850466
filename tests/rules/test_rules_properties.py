"""Properties from the design notes: narrowing a date answer never loosens the screening."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st
from rules_factory import date_question, definition, question, rule

from intake.rules import Tier, evaluate

BLOCK = {"q": "last_dose", "within_before": {"months": "BLOCK_MONTHS"}}
REVIEW = {"q": "last_dose", "within_before": {"months": "REVIEW_MONTHS"}}
RECENT_DAYS = {"q": "last_dose", "within_before": {"days": 28}}

# Rules mixing bands, `not`, `any`, `all` and a non-date question; no follow-up depends on the
# date, because a follow-up hidden by a narrower answer legitimately drops its own flags.
DEFINITION = definition(
    questions=[question("taking_now", "yes_no"), date_question("last_dose", date_range="any")],
    parameters={"BLOCK_MONTHS": 6, "REVIEW_MONTHS": 12},
    rules=[
        rule(
            "now",
            {
                "any": [
                    {"q": "taking_now", "is": "yes"},
                    {"q": "last_dose", "after_submission": True},
                ]
            },
            flag="isotretinoin",
            tier="not_possible",
        ),
        rule("block", BLOCK, flag="isotretinoin", tier="not_possible"),
        rule("review", {"all": [REVIEW, {"not": BLOCK}]}, flag="isotretinoin", tier="need_to_know"),
        rule("recent", {"any": [RECENT_DAYS, {"q": "taking_now", "is": "no"}]}, flag="recent"),
        rule("old", {"not": REVIEW}, flag="old_dose", tier="manageable"),
        rule("born", {"q": "last_dose", "age_under": 1}, flag="under_one", tier="manageable"),
    ],
)
SEVERITY = {tier: tier.severity for tier in Tier}
NO_FLAG = len(Tier)

days = st.dates(min_value=date(2023, 1, 1), max_value=date(2026, 12, 31))
taking = st.sampled_from([None, "yes", "no"])


def _flags(answer, taking_now, submitted, reference):
    answers = {"last_dose": answer}
    if taking_now is not None:
        answers["taking_now"] = taking_now
    evaluation = evaluate(DEFINITION, answers, submitted_on=submitted, reference_date=reference)
    return evaluation


def _month_and_day(month_start: date, offset: int) -> tuple[str, str]:
    first = month_start.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    day = first + timedelta(days=offset % (next_month - first).days)
    return first.strftime("%Y-%m"), day.isoformat()


@given(month=days, offset=st.integers(0, 30), taking_now=taking, submitted=days, reference=days)
def test_narrowing_a_month_to_a_day_never_removes_a_definite_flag(
    month, offset, taking_now, submitted, reference
):
    month_answer, day_answer = _month_and_day(month, offset)
    wide = _flags(month_answer, taking_now, submitted, reference)
    narrow = {f.code: f for f in _flags(day_answer, taking_now, submitted, reference).flags}
    for flag in wide.flags:
        if not flag.provisional:
            assert flag.code in narrow
            assert narrow[flag.code].tier == flag.tier
            assert not narrow[flag.code].provisional


@given(month=days, offset=st.integers(0, 30), taking_now=taking, submitted=days, reference=days)
def test_narrowing_not_sure_to_a_month_never_removes_a_definite_flag(
    month, offset, taking_now, submitted, reference
):
    month_answer, _ = _month_and_day(month, offset)
    wide = _flags("not_sure", taking_now, submitted, reference)
    narrow = {f.code for f in _flags(month_answer, taking_now, submitted, reference).flags}
    assert {f.code for f in wide.flags if not f.provisional} <= narrow


@given(month=days, offset=st.integers(0, 30), taking_now=taking, submitted=days, reference=days)
def test_an_exact_day_inside_a_month_never_gives_a_more_severe_tier(
    month, offset, taking_now, submitted, reference
):
    month_answer, day_answer = _month_and_day(month, offset)
    wide = _flags(month_answer, taking_now, submitted, reference)
    narrow = _flags(day_answer, taking_now, submitted, reference)
    wide_tiers = {f.code: SEVERITY[f.tier] for f in wide.flags}
    for flag in narrow.flags:
        assert flag.code in wide_tiers
        assert SEVERITY[flag.tier] >= wide_tiers[flag.code]
    narrow_outcome = SEVERITY.get(narrow.outcome, NO_FLAG)
    assert narrow_outcome >= SEVERITY.get(wide.outcome, NO_FLAG)


@given(day=days, reference=days)
def test_a_single_day_answer_is_never_provisional(day, reference):
    evaluation = _flags(day.isoformat(), "no", reference, reference)
    assert not any(flag.provisional for flag in evaluation.flags)
