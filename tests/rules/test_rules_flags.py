import json
from datetime import date

import pytest
from rules_factory import date_question, definition, question, rule

from intake.rules import Evidence, evaluate

S = date(2025, 6, 15)
BANDS = {"ISOTRETINOIN_BLOCK_MONTHS": 6, "ISOTRETINOIN_REVIEW_MONTHS": 12}
BLOCK = {"q": "last_dose", "within_before": {"months": "ISOTRETINOIN_BLOCK_MONTHS"}}
REVIEW = {"q": "last_dose", "within_before": {"months": "ISOTRETINOIN_REVIEW_MONTHS"}}


def _isotretinoin():
    return definition(
        questions=[question("taking_now", "yes_no"), date_question("last_dose")],
        parameters=BANDS,
        rules=[
            rule(
                "isotretinoin_now",
                {
                    "any": [
                        {"q": "taking_now", "is": "yes"},
                        {"q": "last_dose", "after_submission": True},
                    ]
                },
                flag="oral_isotretinoin",
                tier="not_possible",
            ),
            rule(
                "isotretinoin_block",
                BLOCK,
                flag="oral_isotretinoin",
                tier="not_possible",
                temporary=True,
            ),
            rule(
                "isotretinoin_review",
                {"all": [REVIEW, {"not": BLOCK}]},
                flag="oral_isotretinoin",
                tier="need_to_know",
            ),
        ],
    )


def _flags(answers, *, reference_date=None, loaded=None):
    loaded = loaded or _isotretinoin()
    evaluation = evaluate(loaded, answers, submitted_on=S, reference_date=reference_date)
    return [(f.rule_id, f.tier, f.provisional) for f in evaluation.flags]


def test_a_last_dose_within_six_months_is_not_possible_and_temporary():
    evaluation = evaluate(_isotretinoin(), {"last_dose": "2025-01-10"}, submitted_on=S)
    (flag,) = evaluation.flags
    assert (flag.code, flag.tier, flag.temporary, flag.provisional) == (
        "oral_isotretinoin",
        "not_possible",
        True,
        False,
    )
    assert evaluation.outcome == "not_possible"


def test_a_last_dose_in_the_six_to_twelve_month_band_needs_to_be_known():
    assert _flags({"last_dose": "2024-10-01"}) == [("isotretinoin_review", "need_to_know", False)]


def test_a_last_dose_over_twelve_months_ago_raises_nothing():
    assert _flags({"last_dose": "2024-06-15"}) == []


def test_a_month_answer_across_the_six_month_boundary_gives_the_strict_band_provisionally():
    # R = 15 June 2025: December 2024 may be within 6 months (31 Dec) or not (1 Dec).
    assert _flags({"last_dose": "2024-12"}) == [("isotretinoin_block", "not_possible", True)]


def test_a_month_answer_across_the_twelve_month_boundary_is_a_provisional_review():
    assert _flags({"last_dose": "2024-06"}) == [("isotretinoin_review", "need_to_know", True)]


def test_a_month_answer_wholly_in_the_band_is_a_definite_review():
    assert _flags({"last_dose": "2024-09"}) == [("isotretinoin_review", "need_to_know", False)]


def test_not_sure_gives_the_strict_band_provisionally():
    assert _flags({"last_dose": "not_sure"}) == [("isotretinoin_block", "not_possible", True)]


def test_a_definite_rule_beats_a_provisional_one_of_the_same_tier():
    # "taking now" is definite; the block rule is only unknown for a December answer.
    answers = {"taking_now": "yes", "last_dose": "2024-12"}
    assert _flags(answers) == [("isotretinoin_now", "not_possible", False)]


def test_a_last_dose_after_submission_is_treated_as_ongoing():
    assert _flags({"last_dose": "2025-07-01"}) == [("isotretinoin_now", "not_possible", False)]


SURGERY = definition(
    questions=[
        date_question("date_of_birth", allow_month_year=False, allow_not_sure=False),
        date_question("surgery_date"),
    ],
    parameters={"SURGERY_MONTHS": 12, "MIN_AGE": 18},
    rules=[
        rule(
            "surgery_recent",
            {"q": "surgery_date", "within_before": {"months": "SURGERY_MONTHS"}},
            flag="surgery",
            tier="not_possible",
        ),
        rule(
            "surgery_long_ago",
            {"q": "surgery_date", "answered": True},
            flag="surgery",
            tier="manageable",
        ),
        rule("under_age", {"q": "date_of_birth", "age_under": "MIN_AGE"}, tier="not_possible"),
    ],
)


@pytest.mark.parametrize("after", ["2025-06-16", "2025-09-30", "2026-03", "2031-01-01"])
def test_any_past_event_dated_after_submission_is_ongoing_with_its_date_to_check(after):
    # Whether before or after the treatment date, in days or months: as severe as can be.
    evaluation = evaluate(
        SURGERY,
        {"date_of_birth": "1990-01-01", "surgery_date": after},
        submitted_on=S,
        reference_date=date(2025, 8, 1),
    )

    (flag,) = evaluation.flags
    assert (flag.rule_id, flag.tier, flag.provisional) == ("surgery_recent", "not_possible", False)
    assert flag.evidence[0].check_date is True


def test_a_past_event_on_or_before_submission_is_read_as_given():
    evaluation = evaluate(
        SURGERY,
        {"date_of_birth": "1990-01-01", "surgery_date": "2020-01-01"},
        submitted_on=S,
        reference_date=date(2025, 8, 1),
    )

    (flag,) = evaluation.flags
    assert (flag.rule_id, flag.tier) == ("surgery_long_ago", "manageable")
    assert flag.evidence[0].check_date is False


def test_a_date_of_birth_is_not_a_past_event():
    # Born after the submission date: age under the minimum, not an "ongoing" birth.
    evaluation = evaluate(SURGERY, {"date_of_birth": "2025-07-01"}, submitted_on=S)

    (flag,) = evaluation.flags
    assert (flag.code, flag.evidence[0].check_date) == ("under_age", False)
    assert SURGERY.birth_dates == frozenset({"date_of_birth"})


def test_the_band_moves_with_the_reference_date():
    answers = {"last_dose": "2025-01-10"}
    assert _flags(answers, reference_date=date(2025, 7, 10)) == [
        ("isotretinoin_review", "need_to_know", False)
    ]


def test_one_flag_per_code_with_the_most_severe_tier_winning():
    loaded = definition(
        questions=[question("smoker")],
        rules=[
            rule("mild", {"q": "smoker", "is": "yes"}, flag="smoking", tier="manageable"),
            rule("severe", {"q": "smoker", "is": "yes"}, flag="smoking", tier="not_possible"),
            rule("middle", {"q": "smoker", "is": "yes"}, flag="smoking", tier="need_to_know"),
        ],
    )
    assert _flags({"smoker": "yes"}, loaded=loaded) == [("severe", "not_possible", False)]


def test_among_equal_definite_rules_the_first_in_document_order_wins():
    loaded = definition(
        questions=[question("smoker")],
        rules=[
            rule("first", {"q": "smoker", "is": "yes"}, flag="smoking"),
            rule("second", {"q": "smoker", "is": "yes"}, flag="smoking"),
        ],
    )
    evaluation = evaluate(loaded, {"smoker": "yes"}, submitted_on=S)
    assert [f.rule_id for f in evaluation.flags] == ["first"]
    assert evaluation.flags[0].practitioner_message == "Practitioner message for first."


def test_flags_are_ordered_by_tier_then_document_order_and_the_outcome_is_the_worst():
    loaded = definition(
        questions=[question("smoker")],
        rules=[
            rule("c_manageable", tier="manageable"),
            rule("b_need", tier="need_to_know"),
            rule("a_not_possible", tier="not_possible"),
            rule("d_need", tier="need_to_know"),
        ],
    )
    evaluation = evaluate(loaded, {"smoker": "yes"}, submitted_on=S)
    assert [f.code for f in evaluation.flags] == [
        "a_not_possible",
        "b_need",
        "d_need",
        "c_manageable",
    ]
    assert evaluation.outcome == "not_possible"


def test_no_flags_means_no_outcome():
    evaluation = evaluate(_isotretinoin(), {}, submitted_on=S)
    assert evaluation.flags == ()
    assert evaluation.outcome is None


def test_the_flag_carries_the_rule_text_and_sources():
    loaded = definition(
        questions=[question("smoker")],
        rules=[rule("smoking", sources=["IFU"], tier="manageable")],
    )
    (flag,) = evaluate(loaded, {"smoker": "yes"}, submitted_on=S).flags
    assert flag.sources == ("IFU",)
    assert flag.patient_guidance == "Patient guidance for smoking."
    assert flag.temporary is False


def test_evidence_names_the_question_text_and_raw_answer():
    (flag,) = evaluate(_isotretinoin(), {"last_dose": "2025-01-10"}, submitted_on=S).flags
    assert flag.evidence == (
        Evidence("last_dose", "Question last_dose?", "2025-01-10", uncertain=False),
    )


def test_evidence_marks_the_uncertain_answer_of_a_provisional_flag():
    (flag,) = evaluate(_isotretinoin(), {"last_dose": "2024-12"}, submitted_on=S).flags
    assert [(e.question_key, e.uncertain) for e in flag.evidence] == [("last_dose", True)]


def _two_part(when, answers):
    loaded = definition(
        questions=[question("first"), question("second"), question("third")],
        rules=[rule("combined", when)],
    )
    (flag,) = evaluate(loaded, answers, submitted_on=S).flags
    return [e.question_key for e in flag.evidence]


def test_evidence_of_all_lists_every_part_once_in_document_order():
    when = {
        "all": [
            {"q": "second", "is": "yes"},
            {"q": "first", "is": "yes"},
            {"q": "second", "answered": True},
        ]
    }
    assert _two_part(when, {"first": "yes", "second": "yes"}) == ["first", "second"]


def test_evidence_of_any_lists_only_the_true_parts():
    when = {
        "any": [
            {"q": "first", "is": "yes"},
            {"q": "second", "is": "yes"},
            {"q": "third", "is": "yes"},
        ]
    }
    assert _two_part(when, {"first": "no", "second": "yes", "third": "yes"}) == ["second", "third"]


def test_evidence_of_any_that_is_unknown_lists_the_unknown_parts():
    loaded = definition(
        questions=[question("smoker"), date_question("last_dose")],
        rules=[rule("either", {"any": [{"q": "smoker", "is": "yes"}, BLOCK]})],
        parameters=BANDS,
    )
    (flag,) = evaluate(loaded, {"smoker": "no", "last_dose": "not_sure"}, submitted_on=S).flags
    assert flag.provisional
    assert [(e.question_key, e.answer, e.uncertain) for e in flag.evidence] == [
        ("last_dose", "not_sure", True)
    ]


def test_evidence_of_not_lists_the_inner_parts_questions():
    when = {"not": {"any": [{"q": "first", "is": "yes"}, {"q": "third", "is": "yes"}]}}
    assert _two_part(when, {"first": "no", "second": "yes"}) == ["first", "third"]


def test_evidence_of_an_unanswered_question_has_no_answer():
    loaded = definition(
        questions=[question("smoker")],
        rules=[rule("no_answer", {"not": {"q": "smoker", "answered": True}})],
    )
    (flag,) = evaluate(loaded, {}, submitted_on=S).flags
    assert [(e.question_key, e.answer) for e in flag.evidence] == [("smoker", None)]


def test_flags_serialise_to_json():
    (flag,) = evaluate(_isotretinoin(), {"last_dose": "2024-12"}, submitted_on=S).flags
    data = json.loads(json.dumps(flag.as_dict()))
    assert data["code"] == "oral_isotretinoin"
    assert data["provisional"] is True
    assert data["evidence"][0] == {
        "question_key": "last_dose",
        "question_text": "Question last_dose?",
        "answer": "2024-12",
        "uncertain": True,
        "check_date": False,
    }


@pytest.mark.parametrize(
    "answers",
    [
        {"last_dose": 20250101},
        {"last_dose": "2025-02-30"},
        {"last_dose": ["2025-01-01"]},
        {"taking_now": True},
        {"taking_now": {"yes": 1}},
        {"unknown_key": "yes"},
    ],
)
def test_answers_of_the_wrong_shape_are_ignored_not_raised(answers):
    evaluation = evaluate(_isotretinoin(), answers, submitted_on=S)
    assert evaluation.flags == ()
    assert evaluation.answers == {}


def test_answers_that_are_not_a_mapping_are_ignored():
    evaluation = evaluate(_isotretinoin(), ["not", "a", "mapping"], submitted_on=S)  # type: ignore[arg-type]
    assert evaluation.flags == ()


def test_an_out_of_range_number_still_counts_for_rules():
    loaded = definition(
        questions=[question("cups", "number", min=0, max=10)],
        rules=[rule("many_cups", {"q": "cups", "gt": 10})],
    )
    assert [f.code for f in evaluate(loaded, {"cups": 12}, submitted_on=S).flags] == ["many_cups"]


def test_evidence_shows_an_unusable_answer_as_no_answer():
    loaded = definition(
        questions=[question("smoker")],
        rules=[rule("no_answer", {"not": {"q": "smoker", "answered": True}})],
    )
    (flag,) = evaluate(loaded, {"smoker": "perhaps"}, submitted_on=S).flags
    assert [(e.question_key, e.answer) for e in flag.evidence] == [("smoker", None)]
