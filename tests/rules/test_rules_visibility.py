from datetime import date

from rules_factory import date_question, definition, question, rule

from intake.rules import evaluate, visible_questions

S = date(2025, 6, 15)


def _chain():
    return definition(
        questions=[
            question("isotretinoin", "yes_no_not_sure"),
            question(
                "taking_now", "yes_no", show_if={"q": "isotretinoin", "in": ["yes", "not_sure"]}
            ),
            date_question("last_dose", show_if={"q": "taking_now", "is": "no"}),
            question("notes", "short_text"),
        ],
        rules=[
            rule("taking", {"q": "taking_now", "is": "yes"}, tier="not_possible"),
            rule("recent", {"q": "last_dose", "within_before": {"months": 6}}),
        ],
    )


def test_questions_without_show_if_are_always_shown():
    assert visible_questions(_chain(), {}, submitted_on=S) == {"isotretinoin", "notes"}


def test_a_follow_up_is_shown_when_its_condition_is_true():
    shown = visible_questions(_chain(), {"isotretinoin": "yes"}, submitted_on=S)
    assert "taking_now" in shown
    assert "last_dose" not in shown


def test_a_follow_up_of_a_follow_up_is_shown_down_the_chain():
    answers = {"isotretinoin": "not_sure", "taking_now": "no"}
    assert "last_dose" in visible_questions(_chain(), answers, submitted_on=S)


def test_a_follow_up_of_a_hidden_question_is_hidden_even_if_its_answer_matches():
    answers = {"isotretinoin": "no", "taking_now": "no", "last_dose": "2025-05-01"}
    assert visible_questions(_chain(), answers, submitted_on=S) == {"isotretinoin", "notes"}


def test_answers_to_hidden_questions_are_discarded_and_raise_no_flags():
    answers = {"isotretinoin": "no", "taking_now": "yes", "last_dose": "2025-05-01"}
    evaluation = evaluate(_chain(), answers, submitted_on=S)
    assert evaluation.flags == ()
    assert evaluation.answers == {"isotretinoin": "no"}
    assert evaluation.visible == {"isotretinoin", "notes"}


def test_a_follow_up_is_shown_when_its_condition_is_unknown():
    loaded = definition(
        questions=[
            date_question("last_dose"),
            question("healed", "yes_no", show_if={"q": "last_dose", "within_before": {"days": 28}}),
        ]
    )
    assert "healed" in visible_questions(loaded, {"last_dose": "not_sure"}, submitted_on=S)
    assert "healed" not in visible_questions(loaded, {"last_dose": "2025-01-01"}, submitted_on=S)


def test_an_unanswered_trigger_hides_its_follow_ups():
    assert "taking_now" not in visible_questions(_chain(), {}, submitted_on=S)


def test_an_invalid_answer_counts_as_no_answer_for_follow_ups():
    shown = visible_questions(_chain(), {"isotretinoin": "perhaps"}, submitted_on=S)
    assert "taking_now" not in shown


def test_visibility_follows_the_reference_date():
    loaded = definition(
        questions=[
            date_question("last_dose"),
            question("healed", "yes_no", show_if={"q": "last_dose", "within_before": {"days": 28}}),
        ]
    )
    answers = {"last_dose": "2025-06-01"}
    assert "healed" in visible_questions(loaded, answers, submitted_on=S)
    later = date(2025, 9, 1)
    assert "healed" not in visible_questions(loaded, answers, submitted_on=S, reference_date=later)
