import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.rules import validate
from intake.rules.expressions import ExpressionError, parse, show

SKINPEN = Path(__file__).resolve().parents[2] / "intake" / "question_sets" / "skinpen.json"


def test_the_example_from_the_brief_reads_as_the_json_condition():
    assert parse("cold_sores in (yes, not_sure) and last_cold_sore within 28 days") == {
        "all": [
            {"q": "cold_sores", "in": ["yes", "not_sure"]},
            {"q": "last_cold_sore", "within_before": {"days": 28}},
        ]
    }


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("smoker answered", {"q": "smoker", "answered": True}),
        ("smoker is yes", {"q": "smoker", "is": "yes"}),
        ("areas any of (cheeks, neck)", {"q": "areas", "any_of": ["cheeks", "neck"]}),
        ("areas all of (cheeks)", {"q": "areas", "all_of": ["cheeks"]}),
        ("age > 17", {"q": "age", "gt": 17}),
        ("age >= 2.5", {"q": "age", "gte": 2.5}),
        ("age < MAX_AGE", {"q": "age", "lt": "MAX_AGE"}),
        ("age <= 0", {"q": "age", "lte": 0}),
        ("age = -1", {"q": "age", "eq": -1}),
        ("age == 3", {"q": "age", "eq": 3}),
        ("dose within 6 months", {"q": "dose", "within_before": {"months": 6}}),
        ("dose within 1 month before", {"q": "dose", "within_before": {"months": 1}}),
        ("peel within WAIT_DAYS days after", {"q": "peel", "within_after": {"days": "WAIT_DAYS"}}),
        ("trip after submission", {"q": "trip", "after_submission": True}),
        ("date_of_birth age under MIN_AGE", {"q": "date_of_birth", "age_under": "MIN_AGE"}),
        ("not smoker is yes", {"not": {"q": "smoker", "is": "yes"}}),
        ("a is yes OR b is no", {"any": [{"q": "a", "is": "yes"}, {"q": "b", "is": "no"}]}),
    ],
)
def test_each_comparison_has_a_readable_form(text, condition):
    assert parse(text) == condition


def test_and_binds_more_tightly_than_or_and_brackets_group():
    a, b, c = ({"q": k, "is": "yes"} for k in "abc")
    assert parse("a is yes or b is yes and c is yes") == {"any": [a, {"all": [b, c]}]}
    assert parse("(a is yes or b is yes) and c is yes") == {"all": [{"any": [a, b]}, c]}
    assert show({"all": [{"any": [a, b]}, c]}) == "(a is yes or b is yes) and c is yes"
    assert show({"not": {"all": [a, b]}}) == "not (a is yes and b is yes)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The condition is empty."),
        ("smoker is", 'Expected a choice code after "smoker is", found the end.'),
        (
            "smoker in yes",
            'Expected "(" after "smoker in" (a list of choice codes in brackets), '
            'found "yes" at position 11.',
        ),
        (
            "dose within 3 weeks",
            'Expected "days" or "months" after "dose within", found "weeks" at position 15.',
        ),
        (
            "age >= lots",
            'Expected a number or a parameter name (UPPER_SNAKE_CASE) after ">=", '
            'found "lots" at position 8.',
        ),
        ("(smoker is yes", 'Expected ")" to close the bracket, found the end.'),
        ("smoker is yes no", 'Expected "and", "or" or the end, found "no" at position 15.'),
        ("and is yes", 'Expected a question key, found "and" at position 1.'),
        (
            "smoker ~ 3",
            "Unexpected character '~' at position 8; conditions use question keys, choice codes, "
            "numbers, parameter names, brackets and commas.",
        ),
        (
            "smoker maybe",
            'Unknown comparison "maybe" at position 8; use is, in, any of, all of, answered, '
            "within, after submission, age under, >, >=, <, <= or =.",
        ),
        ("areas any (a)", 'Expected "of" after "areas any", found "(" at position 11.'),
    ],
)
def test_a_mistake_says_what_was_expected_and_where(text, message):
    with pytest.raises(ExpressionError) as raised:
        parse(text)
    assert str(raised.value) == message


def _conditions(document):
    for section in document["sections"]:
        for question in section["questions"]:
            if question.get("show_if") is not None:
                yield question["show_if"]
    for rule in document["rules"]:
        yield rule["when"]


def test_every_condition_of_the_skinpen_set_reads_back_to_the_same_json():
    document = json.loads(SKINPEN.read_text(encoding="utf-8"))
    conditions = list(_conditions(document))
    assert len(conditions) > 20
    for condition in conditions:
        assert parse(show(condition)) == condition


def test_a_condition_written_as_text_passes_the_publishing_checks():
    from rules_factory import date_question, document, question, rule

    doc = document(
        questions=[question("smoker"), date_question("last_dose")],
        rules=[rule("recent", parse("smoker is yes and last_dose within 6 months"))],
    )
    assert validate(doc) == []


def test_a_one_part_list_is_written_as_its_part():
    assert show({"all": [{"q": "a", "is": "yes"}]}) == "a is yes"
    assert show({"any": [{"q": "a", "is": "yes"}]}) == "a is yes"


@pytest.mark.parametrize(
    "junk",
    [[], {"all": []}, {"q": "a"}, {"q": "a", "is": 3}, {"q": "a", "gt": True}, {"not": 1}],
)
def test_a_malformed_condition_cannot_be_shown(junk):
    with pytest.raises(ExpressionError):
        show(junk)


_keys = st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z0-9]{1,4}){0,2}", fullmatch=True).filter(
    lambda key: key not in ("and", "or", "not")
)
_codes = st.lists(_keys, min_size=1, max_size=3)
_numbers = st.one_of(
    st.integers(-1000, 1000),
    st.from_regex(r"[A-Z][A-Z0-9]{0,5}(_[A-Z0-9]{1,4}){0,2}", fullmatch=True),
)
_counts = st.one_of(st.integers(0, 400), _numbers.filter(lambda n: isinstance(n, str)))
_leaves = st.one_of(
    st.builds(lambda q: {"q": q, "answered": True}, _keys),
    st.builds(lambda q, c: {"q": q, "is": c}, _keys, _keys),
    st.builds(
        lambda q, op, cs: {"q": q, op: cs},
        _keys,
        st.sampled_from(["in", "any_of", "all_of"]),
        _codes,
    ),
    st.builds(
        lambda q, op, n: {"q": q, op: n},
        _keys,
        st.sampled_from(["gt", "gte", "lt", "lte", "eq"]),
        _numbers,
    ),
    st.builds(
        lambda q, op, unit, n: {"q": q, op: {unit: n}},
        _keys,
        st.sampled_from(["within_before", "within_after"]),
        st.sampled_from(["days", "months"]),
        _counts,
    ),
    st.builds(lambda q: {"q": q, "after_submission": True}, _keys),
    st.builds(lambda q, n: {"q": q, "age_under": n}, _keys, _counts),
)
_conditions_strategy = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.builds(lambda parts: {"all": parts}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda parts: {"any": parts}, st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda part: {"not": part}, inner),
    ),
    max_leaves=8,
)


@given(_conditions_strategy)
def test_any_condition_written_as_text_reads_back_to_the_same_json(condition):
    assert parse(show(condition)) == condition
