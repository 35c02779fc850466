"""How a question reads on its page: hint and error before the options, follow-ups grouped under
what reveals them, the required ones marked, long answers counted rather than cut."""

import re

import pytest
from factories import complete_until_check, section_post, start, step_url

from intake import published

pytestmark = pytest.mark.django_db


def step_of(version, section_key: str) -> int:
    return next(
        s.number for s in published.questionnaire(version).steps if s.section_key == section_key
    )


def question_block(html: str, key: str) -> str:
    """The HTML of one question's wrapper, up to the next question's."""
    start_at = html.index(f'data-question="{key}"')
    following = html.find('class="question', start_at + 1)
    return html[start_at : following if following != -1 else len(html)]


def test_an_error_is_above_the_options_and_the_same_as_in_the_summary(client, version):
    start(client)
    complete_until_check(client, version)
    medicines = step_of(version, "medicines")
    data = section_post(version, "medicines")
    del data["blood_thinner"]

    html = client.post(step_url(medicines), data).content.decode()

    block = question_block(html, "blood_thinner")
    error = re.search(r'class="field-error">\s*<p[^>]*><span[^>]*>Error: </span>([^<]+)</p>', block)
    assert error, block
    message = error.group(1)
    assert message.startswith("Select ")
    assert block.index("field-error") < block.index('type="radio"')
    summary = html[html.index("error-summary") : html.index("</ul>")]
    assert f'<a href="#id_blood_thinner_0">{message}</a>' in summary


def test_a_hint_is_above_the_options(client, version):
    start(client)
    complete_until_check(client, version)
    medicines = step_of(version, "medicines")
    question = published.questionnaire(version).definition.questions["isotretinoin_last_12_months"]
    assert question.help_text

    html = client.get(step_url(medicines) + "?change").content.decode()

    block = question_block(html, "isotretinoin_last_12_months")
    assert block.index("_helptext") < block.index('type="radio"')


def test_without_javascript_follow_ups_are_grouped_under_what_reveals_them(client, version):
    start(client)
    complete_until_check(client, version)
    medicines = step_of(version, "medicines")

    html = client.get(step_url(medicines) + "?change").content.decode()

    group = re.search(
        r'<div class="follow-ups"><p class="follow-up-cue">([^<]+)</p>\s*'
        r'<div class="question follow-up" data-question="blood_thinner_kind"',
        html,
    )
    assert group, html
    assert group.group(1) == "If you answered ‘Yes’"
    # The group comes straight after the question that reveals it.
    assert html.index('data-question="blood_thinner"') < group.start()
    between = html[html.index('data-question="blood_thinner"') : group.start()]
    assert 'data-question="' not in between[len('data-question="blood_thinner"') :]


def test_a_follow_up_that_must_be_answered_says_so_before_it_is_revealed(client, version):
    start(client)
    complete_until_check(client, version)
    medicines = step_of(version, "medicines")

    html = client.get(step_url(medicines) + "?change").content.decode()

    required = question_block(html, "blood_thinner_kind")
    assert "data-initially-hidden" in required
    assert "(required)" in required
    optional = question_block(html, "blood_thinner_details")
    assert "data-initially-hidden" in optional
    assert "(required)" not in optional


def test_a_long_answer_box_counts_characters_and_never_cuts_what_is_typed(client, version):
    start(client)
    check = complete_until_check(client, version)

    html = client.get(step_url(check - 1) + "?change").content.decode()

    box = re.search(r'<textarea[^>]*name="other_medicines"[^>]*>', html).group(0)
    assert "maxlength" not in box
    assert 'data-character-limit="2000"' in box
    assert "You can enter up to 2000 characters" in question_block(html, "other_medicines")


def test_skinpen_messages_name_the_question_with_its_parameters_written_in(client, version):
    start(client)
    complete_until_check(client, version)
    medicines = step_of(version, "medicines")
    data = section_post(version, "medicines")
    del data["isotretinoin_last_12_months"]

    html = client.post(step_url(medicines), data).content.decode()

    message = (
        "Select whether you have taken isotretinoin or another retinoid tablet in the last "
        "12 months"
    )
    assert html.count(message) == 2  # in the summary and above the options
    assert "Please choose an answer" not in html


def test_the_date_of_birth_left_blank_is_asked_for_by_name(client, version):
    start(client)

    html = client.post(step_url(1), {"full_name": "Ann Example"}).content.decode()

    assert html.count("Enter your date of birth") == 2


def test_a_follow_up_revealed_by_a_date_in_a_group_stays_in_that_group(client, version):
    start(client)
    complete_until_check(client, version)
    cold_sores = step_of(version, "cold_sores")

    html = client.get(step_url(cold_sores) + "?change").content.decode()

    groups = re.findall(
        r'<div class="follow-ups">(.*?)</div>\s*'
        r'(?=<div class="(?:question|follow-ups)"|<div class="step-actions")',
        html,
        re.S,
    )
    revealed_by_yes = [g for g in groups if 'data-question="cold_sore_frequency"' in g]
    assert len(revealed_by_yes) == 1
    assert 'data-question="cold_sore_last_start"' in revealed_by_yes[0]
    assert revealed_by_yes[0].count('class="follow-up-cue"') == 1
