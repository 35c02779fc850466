"""Eligibility before health data: a patient the question set's eligibility rules exclude (under
18 for SkinPen) is stopped kindly at the details step, and nothing of theirs is kept."""

import datetime
import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from factories import (
    APPOINTMENT,
    DETAILS,
    TODAY,
    appointment_post,
    complete_until_check,
    logged_in,
    make_invitation,
    staff,
    start,
    step_url,
    submit,
)

from intake import published
from intake.models import Draft, IneligibleAttempt, Submission
from intake.rules import Tier, check_eligibility
from intake.submissions import stop_ineligible

pytestmark = pytest.mark.django_db


def born(day: datetime.date) -> dict[str, str]:
    return {
        "date_of_birth_day": str(day.day),
        "date_of_birth_month": str(day.month),
        "date_of_birth_year": str(day.year),
    }


def seventeen_on(day: datetime.date) -> datetime.date:
    return day.replace(year=day.year - 17)


CONFIRM = {"action": "confirm_stop"}


def test_an_under_18_is_asked_to_check_their_date_of_birth_and_nothing_is_lost_yet(client, version):
    start(client)
    typed = DETAILS | born(seventeen_on(APPOINTMENT)) | appointment_post(APPOINTMENT)

    response = client.post(step_url(1), typed)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Check your date of birth" in page
    assert "We only offer microneedling to adults aged 18 and over." in page
    # What they typed travels in the page, to confirm or to change; nothing is stored yet.
    assert 'name="full_name" value="Ann Example"' in page
    assert Draft.objects.get().details == {}
    assert IneligibleAttempt.objects.count() == 0


def test_a_patient_who_mistyped_their_year_changes_it_and_carries_on(client, version):
    start(client)
    typed = DETAILS | born(seventeen_on(APPOINTMENT))

    change = client.post(step_url(1), typed | {"action": "edit_details"})
    corrected = client.post(step_url(1), DETAILS)

    assert change.status_code == 200
    assert 'value="Ann Example"' in change.content.decode()
    assert corrected["Location"] == step_url(2)
    assert IneligibleAttempt.objects.count() == 0


def test_without_an_appointment_date_the_check_says_age_counts_on_the_treatment_day(
    client, version
):
    start(client, treatment_date=None)

    response = client.post(step_url(1), DETAILS | born(seventeen_on(TODAY)))

    assert "We count your age on the day of your treatment" in response.content.decode()


def test_an_under_18_is_stopped_at_the_details_step_with_the_clinics_words(client, version):
    start(client)

    response = client.post(step_url(1), DETAILS | born(seventeen_on(APPOINTMENT)) | CONFIRM)

    assert response.status_code == 200
    page = response.content.decode()
    assert "We can't offer you this treatment" in page
    assert "We only offer microneedling to adults aged 18 and over." in page
    assert "You don't need to answer any more questions" in page


def test_nothing_of_a_stopped_patient_is_kept_but_that_they_tried(client, version):
    start(client)

    client.post(step_url(1), DETAILS | born(seventeen_on(APPOINTMENT)) | CONFIRM)

    assert Draft.objects.count() == 0
    attempt = IneligibleAttempt.objects.get()
    assert (attempt.on, attempt.flag, attempt.invitation) == (TODAY, "age_eligibility", None)
    assert attempt.version == version
    # Going on afterwards finds no questionnaire: the session no longer names one.
    assert client.get(step_url(2)).status_code == 302


def test_the_rule_is_the_one_the_question_set_declares_as_not_possible(version):
    definition = published.questionnaire(version).definition
    answers = {"date_of_birth": seventeen_on(APPOINTMENT).isoformat()}

    stopped = check_eligibility(definition, answers, submitted_on=TODAY, reference_date=APPOINTMENT)

    assert [(flag.code, flag.tier) for flag in stopped] == [("age_eligibility", Tier.NOT_POSSIBLE)]


def test_age_counts_on_the_appointment_date(client, version):
    start(client)
    # 18 by the appointment, though 17 today.
    eighteenth_birthday = APPOINTMENT - datetime.timedelta(days=1)
    birth = eighteenth_birthday.replace(year=eighteenth_birthday.year - 18)
    assert birth > TODAY.replace(year=TODAY.year - 18)

    appointment = appointment_post(APPOINTMENT)
    response = client.post(step_url(1), DETAILS | born(birth) | appointment)

    assert response.status_code == 302
    assert Draft.objects.get().details["full_name"] == "Ann Example"
    assert IneligibleAttempt.objects.count() == 0


def test_an_adult_goes_on_to_the_health_questions(client, version):
    start(client)

    response = client.post(step_url(1), DETAILS)

    assert response["Location"] == step_url(2)
    assert IneligibleAttempt.objects.count() == 0


def test_changing_the_date_of_birth_from_the_check_page_stops_and_forgets_the_answers(
    client, version
):
    start(client)
    complete_until_check(client, version)
    assert Draft.objects.get().answers

    response = client.post(step_url(1) + "?change", DETAILS | born(seventeen_on(TODAY)) | CONFIRM)

    assert "We only offer microneedling to adults aged 18 and over." in response.content.decode()
    assert Draft.objects.count() == 0
    assert Submission.objects.count() == 0


def test_saving_for_later_does_not_keep_a_stopped_patients_details(client, version):
    start(client)

    response = client.post(
        step_url(1), DETAILS | born(seventeen_on(APPOINTMENT)) | {"action": "save"}
    )

    assert "Check your date of birth" in response.content.decode()
    assert Draft.objects.get().details == {}


def test_an_invited_patient_who_is_stopped_is_recorded_against_the_invitation(client, version):
    invitation, token = make_invitation(version)
    client.post(f"/invitation/{token}/")

    client.post(step_url(1), DETAILS | born(seventeen_on(TODAY)) | CONFIRM)

    assert IneligibleAttempt.objects.get().invitation == invitation
    assert Draft.objects.count() == 0


@pytest.fixture
def admin_client():
    admin = Client()
    logged_in(admin, staff("clinic.lead", superuser=True))
    return admin


def test_the_invitation_list_shows_a_patient_who_was_stopped(client, admin_client, version):
    _, token = make_invitation(version)
    client.post(f"/invitation/{token}/")
    client.post(step_url(1), DETAILS | born(seventeen_on(TODAY)) | CONFIRM)

    page = admin_client.get("/admin/intake/invitation/").content.decode()
    attempts = admin_client.get("/admin/intake/ineligibleattempt/")

    assert "Not eligible" in page
    assert attempts.status_code == 200
    assert "age_eligibility" in attempts.content.decode()


def test_a_preview_says_where_a_patient_would_be_stopped(admin_client, version):
    url = reverse("admin:intake_questionsetversion_preview", args=[version.pk])
    details = admin_client.get(url).content.decode()
    state = html.unescape(re.search(r'name="preview_state" value="([^"]+)"', details).group(1))
    data = DETAILS | born(seventeen_on(TODAY)) | {"preview_state": state, "action": "continue"}

    response = admin_client.post(url, data)

    assert "would be stopped here" in response.content.decode()
    assert Draft.objects.count() == 0
    assert IneligibleAttempt.objects.count() == 0


def test_a_stopped_patient_is_given_the_clinics_details(client, version, settings):
    settings.CLINIC_PHONE = "020 7946 0000"
    start(client)

    response = client.post(step_url(1), DETAILS | born(seventeen_on(APPOINTMENT)) | CONFIRM)

    assert 'href="tel:02079460000"' in response.content.decode()


def test_a_questionnaire_sent_from_another_tab_is_not_forgotten_by_a_late_stop(client, version):
    start(client)
    check = complete_until_check(client, version)
    other_tab = Client()
    other_tab.cookies = client.cookies
    submit(other_tab, check)

    response = client.post(step_url(1) + "?change", DETAILS | born(seventeen_on(TODAY)) | CONFIRM)

    assert response.status_code == 302
    assert response["Location"] == "/questionnaire/sent/"
    assert Submission.objects.count() == 1
    assert IneligibleAttempt.objects.count() == 0


def test_a_stop_that_comes_after_the_submit_keeps_what_was_sent(client, version):
    start(client)
    check = complete_until_check(client, version)
    read_before_the_submit = Draft.objects.get()
    submit(client, check)
    definition = published.questionnaire(version).definition
    stopped = check_eligibility(
        definition,
        {"date_of_birth": seventeen_on(TODAY).isoformat()},
        submitted_on=TODAY,
        reference_date=TODAY,
    )

    assert stop_ineligible(read_before_the_submit, stopped) is False
    assert Submission.objects.count() == 1
    assert Draft.objects.count() == 1
    assert IneligibleAttempt.objects.count() == 0


def test_a_step_posted_after_the_draft_was_forgotten_in_another_tab_starts_again(client, version):
    start(client)
    stale = Draft.objects.get()
    Draft.objects.all().delete()

    assert stale.record_step(1, details={}, answers={}, treatment_date=None) is False
