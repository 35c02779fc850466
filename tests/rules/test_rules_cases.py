"""Rule test cases compare each flag's tier, its marks and the outcome, not just its code."""

import pytest
from rules_factory import definition, question, rule

from intake.rules import Tier
from intake.rules.cases import CaseFileError, parse_cases, run_case, state_tiers

SMOKER = definition(
    questions=[question("smoker"), question("vapes")],
    rules=[
        rule("smoker", {"q": "smoker", "is": "yes"}, tier="need_to_know"),
        rule("vapes", {"q": "vapes", "is": "yes"}, tier="manageable", temporary=True),
    ],
)


def case(expect, **fields):
    return {
        "name": "A smoker",
        "submitted_on": "2026-03-02",
        "answers": {"smoker": "yes", "vapes": "no"},
        "expect": expect,
        **fields,
    }


def result(*cases):
    return [run_case(SMOKER, parsed) for parsed in parse_cases(list(cases))]


def test_a_case_passes_with_the_code_at_its_tier():
    (passed,) = result(case([{"code": "smoker", "tier": "need_to_know"}], outcome="need_to_know"))

    assert passed.passed
    assert passed.case.expect[0].tier is Tier.NEED_TO_KNOW


@pytest.mark.parametrize(
    ("expect", "fields", "difference"),
    [
        (
            [{"code": "smoker", "tier": "not_possible"}],
            {},
            "smoker: expected Not possible, raised Need to know",
        ),
        (
            [{"code": "smoker", "tier": "need_to_know", "provisional": True}],
            {},
            "smoker: expected provisional, raised not provisional",
        ),
        (
            [{"code": "smoker", "tier": "need_to_know"}],
            {"outcome": "none"},
            "outcome: expected no flags, evaluated Need to know",
        ),
        (["smoker"], {}, 'smoker: no tier stated (write {"code": "smoker", "tier": …})'),
    ],
)
def test_a_case_fails_when_the_tier_a_mark_or_the_outcome_differs(expect, fields, difference):
    (failed,) = result(case(expect, **fields))

    assert not failed.passed
    assert failed.missing == failed.unexpected == ()
    assert failed.differences == (difference,)
    assert difference in failed.describe()


def test_a_temporary_mark_is_compared_where_the_case_states_it():
    vaper = case(
        [{"code": "vapes", "tier": "manageable", "temporary": False}],
        answers={"smoker": "no", "vapes": "yes"},
    )

    (failed,) = result(vaper)

    assert failed.differences == ("vapes: expected not temporary, raised temporary",)


def test_a_case_that_leaves_a_required_question_unanswered_fails_naming_it():
    # Had the vaping question been answered "yes", a flag would have been raised.
    silent = case([{"code": "smoker", "tier": "need_to_know"}], answers={"smoker": "yes"})

    (failed,) = result(silent)

    assert not failed.passed
    assert [(p.code, p.key) for p in failed.problems] == [("unanswered_required", "vapes")]
    assert "required questions not answered: vapes" in failed.describe()


def test_a_case_marked_partial_may_answer_only_what_its_rule_reads():
    partial = case(
        [{"code": "smoker", "tier": "need_to_know"}], answers={"smoker": "yes"}, partial=True
    )

    (passed,) = result(partial)

    assert passed.passed
    with pytest.raises(CaseFileError, match="partial must be true or false"):
        parse_cases([case([], partial="yes")])


@pytest.mark.parametrize(
    ("expect", "message"),
    [
        ([{"code": "smoker"}], "needs its tier"),
        ([{"code": "smoker", "tier": "bad"}], "must be one of"),
        ([{"code": "smoker", "tier": "manageable", "urgent": True}], "unknown fields: urgent"),
        ([{"code": "smoker", "tier": "manageable", "provisional": "yes"}], "true or false"),
        ([{"tier": "manageable"}], "needs its code"),
        (
            [{"code": "smoker", "tier": "manageable"}, {"code": "smoker", "tier": "manageable"}],
            "expects smoker more than once",
        ),
        ([7], "each expected flag"),
    ],
)
def test_a_malformed_expected_flag_is_refused_with_a_reason(expect, message):
    with pytest.raises(CaseFileError, match=message):
        parse_cases([case(expect)])


def test_cases_written_with_codes_only_are_given_the_tiers_a_definition_raises():
    written = [case(["smoker"]), case(["vapes"]), case([{"code": "smoker", "tier": "manageable"}])]

    stated = state_tiers(written, SMOKER)

    assert [item["expect"] for item in stated] == [
        [{"code": "smoker", "tier": "need_to_know"}],
        ["vapes"],
        [{"code": "smoker", "tier": "manageable"}],
    ]
    assert [r.passed for r in result(*stated)] == [True, False, False]
