import pytest
from hypothesis import given
from hypothesis import strategies as st
from rules_factory import date_question, document, question, rule

from intake.rules import Definition, DefinitionError, Problem, load_definition, validate


def _problems(**kwargs):
    return [(p.code, p.where, p.message) for p in validate(document(**kwargs))]


def _single(**kwargs):
    (problem,) = validate(document(**kwargs))
    return problem


def test_a_valid_document_has_no_problems_and_loads():
    doc = document(
        questions=[question("smoker"), date_question("last_dose")],
        rules=[rule("smoking", sources=["IFU"])],
    )
    assert validate(doc) == []
    loaded = load_definition(doc)
    assert isinstance(loaded, Definition)
    assert loaded.slug == "test-set"
    assert list(loaded.questions) == ["smoker", "last_dose"]
    assert loaded.sections[0].questions[1].section_key == "about_you"
    assert loaded.questions["smoker"].required is True
    assert [c.code for c in loaded.questions["smoker"].choices] == ["yes", "no"]


def test_problems_read_as_their_message():
    problem = Problem("unknown_question", "rule", "x", 'Rule "x" refers to unknown question "y".')
    assert str(problem) == problem.message


def test_load_definition_raises_with_every_problem():
    doc = document(
        rules=[
            rule("first", {"q": "nope", "is": "yes"}),
            rule("second", {"q": "smoker", "is": "maybe"}),
        ]
    )
    with pytest.raises(DefinitionError) as raised:
        load_definition(doc)
    assert [p.code for p in raised.value.problems] == ["unknown_question", "unknown_choice"]
    assert str(raised.value) == "\n".join(p.message for p in raised.value.problems)


def test_unknown_question_names_the_rule_and_the_question():
    problem = _single(rules=[rule("age_under_minimum", {"q": "date_of_brth", "age_under": 18})])
    assert problem.code == "unknown_question"
    assert problem.where == "rule age_under_minimum"
    assert problem.message == 'Rule "age_under_minimum" refers to unknown question "date_of_brth".'


def test_unknown_choice_in_is_and_in():
    problems = _problems(
        questions=[question("smoker", "yes_no")],
        rules=[
            rule("a", {"q": "smoker", "is": "not_sure"}),
            rule("b", {"q": "smoker", "in": ["yes", "maybe"]}),
        ],
    )
    assert problems == [
        (
            "unknown_choice",
            "rule a",
            'Rule "a" refers to unknown choice "not_sure" of question "smoker".',
        ),
        (
            "unknown_choice",
            "rule b",
            'Rule "b" refers to unknown choice "maybe" of question "smoker".',
        ),
    ]


def test_unknown_choice_in_any_of():
    problem = _single(
        questions=[question("areas", "multiple_choice")],
        rules=[rule("a", {"q": "areas", "any_of": ["one", "three"]})],
    )
    assert (problem.code, problem.where) == ("unknown_choice", "rule a")
    assert '"three"' in problem.message


def test_unknown_parameter():
    problem = _single(
        questions=[date_question()],
        rules=[rule("block", {"q": "last_dose", "within_before": {"months": "BLOCK_MONTHS"}})],
    )
    assert problem.code == "unknown_parameter"
    assert problem.message == 'Rule "block" refers to unknown parameter "BLOCK_MONTHS".'


@pytest.mark.parametrize(
    ("kind", "when"),
    [
        ("yes_no", {"q": "x", "within_before": {"days": 3}}),
        ("yes_no", {"q": "x", "any_of": ["yes"]}),
        ("yes_no", {"q": "x", "gt": 3}),
        ("multiple_choice", {"q": "x", "is": "one"}),
        ("multiple_choice", {"q": "x", "in": ["one"]}),
        ("date", {"q": "x", "eq": 3}),
        ("number", {"q": "x", "age_under": 18}),
        ("number", {"q": "x", "after_submission": True}),
        ("short_text", {"q": "x", "is": "yes"}),
        ("single_choice", {"q": "x", "all_of": ["one"]}),
    ],
)
def test_a_condition_that_does_not_fit_the_question_type_is_a_type_mismatch(kind, when):
    problem = _single(questions=[question("x", kind)], rules=[rule("r", when)])
    assert problem.code == "type_mismatch"
    assert problem.where == "rule r"
    op = next(key for key in when if key != "q")
    assert problem.message.startswith(f'Rule "r" uses "{op}" on question "x", which is a {kind} ')


def test_answered_fits_every_type():
    questions = [question("text", "long_text"), question("n", "number")]
    rules = [rule("a", {"q": "text", "answered": True}), rule("b", {"q": "n", "answered": True})]
    assert _problems(questions=questions, rules=rules) == []


def test_duplicate_question_key():
    problems = _problems(questions=[question("smoker"), question("smoker")])
    assert problems == [
        ("duplicate_key", "question smoker", 'Question key "smoker" is used more than once.')
    ]


def test_duplicate_question_key_across_sections():
    sections = [
        {"key": "one", "title": "One", "questions": [question("smoker")]},
        {"key": "two", "title": "Two", "questions": [question("smoker")]},
    ]
    assert [p[0] for p in _problems(sections=sections)] == ["duplicate_key"]


def test_duplicate_section_key():
    sections = [
        {"key": "one", "title": "One", "questions": [question("a")]},
        {"key": "one", "title": "Again", "questions": [question("b")]},
    ]
    assert _problems(sections=sections) == [
        ("duplicate_key", "section one", 'Section key "one" is used more than once.')
    ]


def test_duplicate_choice_code():
    choices = [{"code": "one", "label": "One"}, {"code": "one", "label": "Uno"}]
    problems = _problems(questions=[question("spots", "single_choice", choices=choices)])
    assert problems == [
        (
            "duplicate_code",
            "question spots",
            'Question "spots" lists choice code "one" more than once.',
        )
    ]


def test_duplicate_rule_id():
    problems = _problems(rules=[rule("smoking"), rule("smoking")])
    assert problems == [
        ("duplicate_rule", "rule smoking", 'Rule id "smoking" is used more than once.')
    ]


def test_show_if_on_its_own_question_is_a_self_reference():
    problem = _single(questions=[question("smoker", show_if={"q": "smoker", "is": "yes"})])
    assert problem.code == "self_reference"
    assert problem.where == "question smoker"
    assert problem.message == 'The show_if of question "smoker" refers to its own question.'


def test_show_if_on_a_later_question_is_a_forward_reference():
    problem = _single(
        questions=[question("first", show_if={"q": "second", "is": "yes"}), question("second")]
    )
    assert problem.code == "forward_reference"
    assert problem.where == "question first"
    assert 'question "first"' in problem.message and '"second"' in problem.message


def test_show_if_on_an_unknown_question():
    problem = _single(questions=[question("first", show_if={"q": "ghost", "is": "yes"})])
    assert problem.code == "unknown_question"
    assert problem.message == 'The show_if of question "first" refers to unknown question "ghost".'


def test_rules_may_refer_to_any_question_in_any_order():
    questions = [question("first"), question("second")]
    assert _problems(questions=questions, rules=[rule("r", {"q": "second", "is": "yes"})]) == []


@pytest.mark.parametrize(
    ("when", "fragment"),
    [
        ({"q": "smoker", "is": "yes", "extra": 1}, 'unknown key "extra"'),
        ({"q": "smoker", "equals": "yes"}, 'unknown key "equals"'),
        ({"q": "smoker", "is": "yes", "in": ["yes"]}, "several comparisons"),
        ({"all": [], "q": "smoker"}, "other keys"),
        ({"all": []}, "non-empty list"),
        ({"any": "x"}, "non-empty list"),
        ({"q": "smoker", "answered": False}, "must be true"),
        ({"q": "smoker", "in": []}, "non-empty list"),
        ({"q": "smoker", "is": ["yes"]}, "one choice code"),
        ({"q": 3, "is": "yes"}, "not a question key"),
        ("smoker is yes", "not an object"),
    ],
)
def test_malformed_conditions_are_invalid_fields(when, fragment):
    problems = validate(document(rules=[rule("r", when)]))
    assert [p.code for p in problems] == ["invalid_field"]
    assert problems[0].where == "rule r"
    assert problems[0].message.startswith('Rule "r" ')
    assert fragment in problems[0].message


@pytest.mark.parametrize(
    "value",
    [
        {"days": 3, "months": 1},
        {},
        {"weeks": 2},
        {"days": -1},
        {"days": 1.5},
        {"days": True},
        3,
    ],
)
def test_within_needs_exactly_one_whole_non_negative_count(value):
    doc = document(
        questions=[date_question()], rules=[rule("r", {"q": "last_dose", "within_after": value})]
    )
    assert [(p.code, p.where) for p in validate(doc)] == [("invalid_field", "rule r")]


def test_a_negative_parameter_cannot_be_a_count():
    doc = document(
        questions=[date_question()],
        parameters={"BACK": -2},
        rules=[rule("r", {"q": "last_dose", "within_before": {"days": "BACK"}})],
    )
    (problem,) = validate(doc)
    assert problem.code == "invalid_field"
    assert '"BACK"' in problem.message


def test_conditions_without_a_comparison_or_q_are_missing_fields():
    problems = _problems(rules=[rule("a", {"q": "smoker"}), rule("b", {"is": "yes"})])
    assert [(code, where) for code, where, _ in problems] == [
        ("missing_field", "rule a"),
        ("missing_field", "rule b"),
    ]


def test_problems_inside_nested_conditions_are_all_reported():
    when = {
        "all": [{"q": "ghost", "is": "yes"}, {"not": {"any": [{"q": "smoker", "is": "maybe"}]}}]
    }
    assert [p[0] for p in _problems(rules=[rule("r", when)])] == [
        "unknown_question",
        "unknown_choice",
    ]


def test_rule_tier_must_be_known():
    problem = _single(rules=[rule("r", tier="severe")])
    assert problem.code == "invalid_field"
    assert problem.message.startswith('Rule "r" has unknown tier "severe"')


@pytest.mark.parametrize("field", ["id", "flag"])
def test_rule_id_and_flag_must_be_snake_case(field):
    data = rule("good_id", flag="good_flag")
    data[field] = "Bad-Name"
    (problem,) = validate(document(rules=[data]))
    assert problem.code == "invalid_field"
    assert f'"{field}" "Bad-Name"' in problem.message


@pytest.mark.parametrize("field", ["id", "flag", "tier", "when", "practitioner_message"])
def test_rule_fields_are_required(field):
    data = rule("r")
    del data[field]
    problems = validate(document(rules=[data]))
    assert [p.code for p in problems] == ["missing_field"]
    assert f'"{field}"' in problems[0].message or field == "when"


def test_rule_citing_an_unknown_source():
    problem = _single(rules=[rule("r", sources=["IFU", "NOPE"])])
    assert (problem.code, problem.message) == (
        "unknown_source",
        'Rule "r" cites unknown source "NOPE".',
    )


def test_rule_temporary_must_be_a_boolean():
    problem = _single(rules=[rule("r", temporary="yes")])
    assert problem.code == "invalid_field"


def test_unknown_rule_field():
    problem = _single(rules=[rule("r", severity="high")])
    assert (problem.code, problem.message) == (
        "invalid_field",
        'Rule "r" has unknown field "severity".',
    )


def test_parameter_values_must_be_whole_numbers():
    doc = document()
    doc["parameters"] = {
        "HALF": {"value": 1.5},
        "TEXT": {"value": "6"},
        "FLAG": {"value": True},
        "NONE": {"description": "no value"},
        "lower_case": {"value": 1},
    }
    problems = [(p.code, p.where) for p in validate(doc)]
    assert problems == [
        ("invalid_field", "parameter HALF"),
        ("invalid_field", "parameter TEXT"),
        ("invalid_field", "parameter FLAG"),
        ("missing_field", "parameter NONE"),
        ("invalid_field", "parameter lower_case"),
    ]
    assert validate(doc)[0].message == 'Parameter "HALF" must have a whole-number value, not 1.5.'


def test_question_type_must_be_known():
    problem = _single(questions=[question("smoker", "checkbox")])
    assert problem.code == "invalid_field"
    assert problem.where == "question smoker"
    assert problem.message.startswith('Question "smoker" has unknown type "checkbox"')


def test_choice_questions_need_choices():
    for kind in ("single_choice", "multiple_choice"):
        missing = question("areas", kind)
        del missing["choices"]
        assert [p.code for p in validate(document(questions=[missing]))] == ["missing_field"]
        empty = question("areas", kind, choices=[])
        assert [p.code for p in validate(document(questions=[empty]))] == ["invalid_field"]


def test_yes_no_questions_cannot_list_their_own_choices():
    problem = _single(questions=[question("smoker", choices=[{"code": "yes", "label": "Y"}])])
    assert problem.code == "invalid_field"


@pytest.mark.parametrize("field", ["key", "text", "type"])
def test_question_fields_are_required(field):
    data = question("smoker")
    del data[field]
    problems = validate(document(questions=[data], rules=[]))
    assert [p.code for p in problems] == ["missing_field"]
    assert f'"{field}"' in problems[0].message


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"key": "Smoker"}, "snake_case"),
        ({"required": "yes"}, '"required"'),
        ({"colour": "red"}, 'unknown field "colour"'),
        ({"type": "date", "date_range": "recent"}, "date_range"),
        ({"type": "date", "allow_not_sure": 1}, '"allow_not_sure"'),
        ({"type": "number", "min": 5, "max": 1}, "greater than max"),
        ({"type": "number", "min": "0"}, '"min"'),
        ({"type": "short_text", "max_length": 0}, "max_length"),
    ],
)
def test_question_fields_of_the_wrong_kind(fields, fragment):
    problems = validate(document(questions=[{**question("smoker"), **fields}]))
    assert [p.code for p in problems] == ["invalid_field"]
    assert fragment in problems[0].message


def test_document_level_required_fields():
    doc = document()
    del doc["format"]
    del doc["sections"]
    del doc["rules"]
    doc["question_set"] = {"slug": "x"}
    problems = [(p.code, p.where) for p in validate(doc)]
    assert problems == [
        ("missing_field", "document"),  # format
        ("missing_field", "document"),  # question_set.title
        ("missing_field", "document"),  # sections
        ("missing_field", "document"),  # rules
    ]


def test_sections_must_not_be_empty():
    problem = _single(sections=[])
    assert (problem.code, problem.where) == ("invalid_field", "document")


def test_an_unknown_format_is_rejected():
    doc = document()
    doc["format"] = "something-else/2"
    assert [p.code for p in validate(doc)] == ["invalid_field"]


def test_every_problem_is_collected_not_just_the_first():
    doc = document(
        questions=[question("smoker"), question("smoker"), question("Bad Key")],
        rules=[rule("r", {"q": "ghost", "is": "yes"}), rule("r", tier="worst")],
    )
    codes = sorted(p.code for p in validate(doc))
    assert codes == sorted(
        ["duplicate_key", "invalid_field", "unknown_question", "duplicate_rule", "invalid_field"]
    )


@pytest.mark.parametrize(
    "junk",
    [
        None,
        42,
        "a string",
        [],
        [1, 2],
        {},
        {"sections": None, "rules": None},
        {"sections": [None, 1, "x", {"questions": [None, {"key": []}]}]},
        {
            "sections": [
                {"key": "s", "title": "S", "questions": [{"key": "q", "text": "Q", "type": ["x"]}]}
            ]
        },
        {"rules": [None, {"when": {"all": [None, {"not": []}]}}]},
        {"parameters": [1], "sources": [], "advice": {}},
        {"question_set": [], "version": 3},
    ],
)
def test_validate_turns_junk_into_problems_without_raising(junk):
    problems = validate(junk)
    assert problems
    assert all(isinstance(p, Problem) and p.message for p in problems)


def test_deeply_nested_conditions_do_not_exhaust_the_stack():
    when: dict = {"q": "smoker", "is": "yes"}
    for _ in range(5000):
        when = {"not": when}
    problems = validate(document(rules=[rule("deep", when)]))
    assert [p.code for p in problems] == ["invalid_field"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["q", "is", "all", "not", "key", "type", "days"]) | st.text(max_size=4),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(junk=JSON)
def test_validate_never_raises_on_arbitrary_json(junk):
    assert isinstance(validate(junk), list)


@given(
    when=JSON,
    show_if=JSON,
    kind=st.sampled_from(["yes_no", "date", "number", "multiple_choice", "bad"]),
)
def test_validate_never_raises_on_arbitrary_conditions(when, show_if, kind):
    doc = document(
        questions=[question("smoker", kind), question("other", show_if=show_if)],
        rules=[rule("r", when)],
    )
    assert isinstance(validate(doc), list)


# Short names: the words that complete a question's error messages


def test_a_short_name_completes_the_error_message_with_its_parameters_written_in():
    loaded = load_definition(
        document(
            questions=[
                question(
                    "isotretinoin",
                    text="In the last {BLOCK_MONTHS months}, have you taken isotretinoin?",
                    short_name="whether you have taken isotretinoin in the last "
                    "{BLOCK_MONTHS months}",
                ),
                question("birth", "date", short_name="your date of birth"),
                question(
                    "areas", "multiple_choice", short_name="which areas you would like treated"
                ),
            ],
            parameters={"BLOCK_MONTHS": 12},
        )
    )

    messages = [q.missing_answer_message for q in loaded.questions.values()]

    assert messages == [
        "Select whether you have taken isotretinoin in the last 12 months",
        "Enter your date of birth",
        "Select which areas you would like treated",
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("yes_no", "Select an answer to ‘Do you smoke?’"),
        ("single_choice", "Select an answer to ‘Do you smoke?’"),
        ("number", "Enter an answer to ‘Do you smoke?’"),
        ("short_text", "Enter an answer to ‘Do you smoke?’"),
    ],
)
def test_a_question_without_a_short_name_is_named_by_its_text_in_quotes(kind, expected):
    loaded = load_definition(document(questions=[question("smoker", kind, text="Do you smoke?")]))

    assert loaded.questions["smoker"].short_name == ""
    assert loaded.questions["smoker"].missing_answer_message == expected


@pytest.mark.parametrize(
    ("short_name", "fragment"),
    [
        ("Select whether you smoke", 'starts with "Select" or "Enter"'),
        ("enter your date of birth", 'starts with "Select" or "Enter"'),
        ("whether you smoke.", "ends in a punctuation mark"),
        ("Do you smoke?", "ends in a punctuation mark"),
        ("whether you smoke\nor vape", "runs over more than one line"),
        ("x" * 121, "is 121 characters long as patients read it; at most 120 are allowed"),
        ("   ", "is only spaces"),
        ("whether you smoke ", "starts or ends with spaces"),
    ],
)
def test_publishing_refuses_a_short_name_that_would_make_a_wrong_error_message(
    short_name, fragment
):
    problem = _single(questions=[question("smoker", short_name=short_name)])

    assert problem.code == "invalid_short_name"
    assert (problem.kind, problem.key) == ("question", "smoker")
    assert problem.message.startswith('Question "smoker" has a "short_name" ')
    assert fragment in problem.message


def test_a_short_name_is_checked_with_its_parameters_and_must_be_text():
    assert _problems(
        questions=[
            question("a", short_name="whether you smoke in {UNKNOWN_DAYS days}"),
            question("b", short_name=["whether"]),
        ]
    ) == [
        (
            "unknown_parameter",
            "question a",
            'Question "a" names the unknown parameter "UNKNOWN_DAYS" in its "short_name".',
        ),
        ("invalid_field", "question b", 'Question "b" has a non-text "short_name": [\'whether\'].'),
    ]


def test_a_short_name_may_start_with_a_word_that_only_begins_like_select():
    named = question("smoker", short_name="entertainment plans")

    assert validate(document(questions=[named])) == []
