"""Changing an answer from the check page: back to the check page, by way of what it made new."""

import pytest
from factories import complete_until_check, section_post, start, step_url

from intake import published
from intake.models import Draft

pytestmark = pytest.mark.django_db


def step_of(version, section_key: str) -> int:
    return next(
        s.number for s in published.questionnaire(version).steps if s.section_key == section_key
    )


def test_each_change_link_says_it_comes_from_the_check_page(client, version):
    start(client)
    check = complete_until_check(client, version)

    page = client.get(step_url(check)).content.decode()

    for step in published.questionnaire(version).steps[:-1]:
        assert f'href="{step_url(step.number)}?change"' in page


def test_a_changed_step_returns_to_the_check_page_not_to_the_next_step(client, version):
    start(client)
    check = complete_until_check(client, version)
    pregnancy = step_of(version, "pregnancy")
    page = client.get(step_url(pregnancy) + "?change").content.decode()
    assert "Back to check your answers" in page

    response = client.post(
        step_url(pregnancy) + "?change",
        section_post(version, "pregnancy", could_be_pregnant="not_sure"),
    )

    assert response.status_code == 302
    assert response["Location"] == step_url(check)
    assert Draft.objects.get().answers["could_be_pregnant"] == "not_sure"


def test_a_change_that_asks_a_new_question_on_a_later_step_goes_there_first(client, version):
    start(client)
    check = complete_until_check(client, version)
    about_you = step_of(version, "about_you")
    cold_sores = step_of(version, "cold_sores")

    # A body area brings in the herpes question of the cold-sores step, still unanswered.
    response = client.post(
        step_url(about_you) + "?change",
        section_post(version, "about_you", treatment_areas=["cheeks", "neck"]),
    )

    assert response.status_code == 302
    assert response["Location"] == step_url(cold_sores) + "?change"
    answered = client.post(
        step_url(cold_sores) + "?change",
        section_post(version, "cold_sores", herpes_near_body_area="no"),
    )
    assert answered.status_code == 302
    assert answered["Location"] == step_url(check)
    assert Draft.objects.get().answers["herpes_near_body_area"] == "no"


def test_back_from_a_changed_step_returns_to_the_check_page(client, version):
    start(client)
    check = complete_until_check(client, version)
    medicines = step_of(version, "medicines")

    response = client.post(
        step_url(medicines) + "?change", section_post(version, "medicines") | {"action": "back"}
    )

    assert response["Location"] == step_url(check)


def test_without_coming_from_the_check_page_a_step_leads_to_the_next(client, version):
    start(client)
    complete_until_check(client, version)
    pregnancy = step_of(version, "pregnancy")

    response = client.post(step_url(pregnancy), section_post(version, "pregnancy"))

    assert response["Location"] == step_url(pregnancy + 1)


def test_a_change_with_a_mistake_stays_on_the_page_and_keeps_the_way_back(client, version):
    start(client)
    complete_until_check(client, version)
    pregnancy = step_of(version, "pregnancy")

    response = client.post(step_url(pregnancy) + "?change", {"pregnant_or_breastfeeding": ""})

    assert response.status_code == 400
    assert "Back to check your answers" in response.content.decode()
