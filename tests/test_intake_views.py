"""The patient's questionnaire, page by page, with JavaScript off (plain form posts)."""

import datetime
import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from factories import (
    APPOINTMENT,
    DETAILS,
    TODAY,
    appointment_post,
    complete_until_check,
    make_invitation,
    section_post,
    start,
    step_url,
    submit,
)

from intake import published
from intake.models import (
    Draft,
    Flag,
    Invitation,
    QuestionSetVersion,
    Submission,
)

pytestmark = pytest.mark.django_db

# Getting in


def test_the_start_page_says_what_the_questionnaire_is_for_and_what_happens_to_answers(
    client, version
):
    response = client.get("/")

    text = response.content.decode()
    assert response.status_code == 200
    assert "about 10 minutes" in text
    assert "What happens to your answers" in text
    assert "Nothing here automatically rules you out" in text
    assert "isn't a diagnosis" in text
    assert "no-store" in response["Cache-Control"]


def test_starting_without_an_invitation_keeps_the_appointment_date(client, version):
    draft = start(client)

    assert draft.treatment_date == APPOINTMENT
    assert draft.version == version
    assert client.get(step_url(1)).status_code == 200


def test_an_appointment_date_in_the_past_is_refused_and_nothing_is_started(client, version):
    response = client.post("/start/", appointment_post(datetime.date(2020, 1, 1)))

    assert response.status_code == 400
    assert "Your appointment date has already passed" in response.content.decode()
    assert Draft.objects.count() == 0


def test_an_invitation_link_greets_the_patient_and_prefills_their_details(client, version):
    invitation, token = make_invitation(version)

    page = client.get(f"/invitation/{token}/")
    started = client.post(f"/invitation/{token}/")
    details = client.get(step_url(1)).content.decode()

    assert "Hello <bdi>Bea Invited</bdi>" in page.content.decode()
    assert started.status_code == 302
    draft = Draft.objects.get()
    assert draft.invitation == invitation
    assert draft.treatment_date == APPOINTMENT
    assert 'value="Bea Invited"' in details
    assert 'value="bea@example.com"' in details
    assert 'name="treatment_date"' not in details


def test_invitation_tokens_are_long_and_only_their_digest_is_stored(version):
    invitation, token = make_invitation(version)

    assert len(token) >= 43  # 32 random bytes: 256 bits
    assert token not in invitation.token_digest
    assert Invitation.objects.by_token(token) == invitation


def test_an_expired_invitation_says_so_and_starts_nothing(client, version):
    _, token = make_invitation(version, expires_at=timezone.now() - datetime.timedelta(days=1))

    response = client.post(f"/invitation/{token}/")

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert Draft.objects.count() == 0


def test_a_forged_invitation_token_is_not_found(client, version):
    make_invitation(version)

    assert client.get("/invitation/not-a-real-token/").status_code == 404
    assert client.post("/invitation/not-a-real-token/").status_code == 404


def test_an_invitation_cannot_start_a_second_submission(client, version):
    _, token = make_invitation(version)
    client.post(f"/invitation/{token}/")
    check = complete_until_check(client, version)
    assert submit(client, check).status_code == 302

    again = Client().post(f"/invitation/{token}/")

    assert again.status_code == 410
    assert "already sent" in again.content.decode()
    assert Submission.objects.count() == 1


# Steps


def test_every_step_and_the_check_page_show_parameters_as_their_values(client, version):
    start(client)
    steps = published.questionnaire(version).steps
    pages = []
    assert client.post(step_url(1), DETAILS | {"treatment_date": ""}).status_code == 302
    for step in steps[1:-1]:
        pages.append(client.get(step_url(step.number)).content.decode())
        answers = section_post(version, step.section_key)
        assert client.post(step_url(step.number), answers).status_code == 302
    pages.append(client.get(step_url(steps[-1].number)).content.decode())

    shown = "".join(pages)
    assert re.findall(r"\{[A-Z][A-Z0-9_]*[^}]*\}", shown) == []
    assert "In the last 12 months, have you taken isotretinoin" in shown
    assert "in the last 6 months?" in shown  # chemotherapy or radiotherapy


def test_each_step_shows_its_number_and_a_progress_bar(client, version):
    start(client)
    steps = published.questionnaire(version).steps

    page = client.get(step_url(1)).content.decode()

    assert f"Step 1 of {len(steps)}" in page
    assert f'<progress max="{len(steps)}" value="1"' in page
    assert f"<title>Step 1 of {len(steps)}: Your details" in page


def test_required_questions_are_marked_in_words(client, version):
    start(client)

    page = client.get(step_url(1)).content.decode()

    assert 'Full name<span class="required-mark"> (required)</span>' in page


def test_invalid_details_are_refused_with_a_summary_linking_to_each_field(client, version):
    start(client)
    bad = DETAILS | {"email": "not-an-email", "date_of_birth_day": "31", "date_of_birth_month": "2"}

    response = client.post(step_url(1), bad)

    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page
    assert 'href="#id_email"' in page
    assert 'href="#id_date_of_birth_0"' in page
    assert "<title>Error: Step 1" in page
    assert Draft.objects.get().steps_done == 0


def test_saving_the_details_moves_on_and_keeps_the_date_of_birth_for_the_rules(client, version):
    draft = start(client)

    response = client.post(step_url(1), DETAILS | {"treatment_date": ""})

    draft.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == step_url(2)
    assert draft.details["full_name"] == "Ann Example"
    assert draft.answers["date_of_birth"] == "1990-04-03"
    assert draft.treatment_date is None


def test_a_step_cannot_be_skipped(client, version):
    start(client)

    response = client.post(step_url(4), {"blood_thinner": "yes"})

    assert response.status_code == 302
    assert response["Location"] == step_url(1)
    assert Draft.objects.get().answers == {}


def test_an_unknown_step_is_not_found(client, version):
    start(client)
    assert client.get(step_url(99)).status_code == 404


def test_steps_need_a_started_questionnaire(client, version):
    response = client.get(step_url(1))

    assert response.status_code == 302
    assert response["Location"] == "/"


def medicines_step(version: QuestionSetVersion) -> int:
    return next(
        s.number for s in published.questionnaire(version).steps if s.section_key == "medicines"
    )


def test_follow_ups_are_kept_when_their_trigger_applies(client, version):
    draft = start(client)
    complete_steps_before(client, version, "medicines")
    data = section_post(
        version,
        "medicines",
        isotretinoin_last_12_months="yes",
        isotretinoin_taking_now="no",
        isotretinoin_last_dose="2026-09",
    )

    response = client.post(step_url(medicines_step(version)), data)

    draft.refresh_from_db()
    assert response.status_code == 302, response.content.decode()[:2000]
    assert draft.answers["isotretinoin_last_12_months"] == "yes"
    assert draft.answers["isotretinoin_taking_now"] == "no"
    assert draft.answers["isotretinoin_last_dose"] == "2026-09"


def test_a_follow_up_whose_trigger_does_not_apply_is_discarded(client, version):
    draft = start(client)
    complete_steps_before(client, version, "medicines")
    data = section_post(version, "medicines") | {"isotretinoin_taking_now": "yes"}

    response = client.post(step_url(medicines_step(version)), data)

    draft.refresh_from_db()
    assert response.status_code == 302
    assert "isotretinoin_taking_now" not in draft.answers


def test_a_required_follow_up_is_asked_for_when_its_trigger_applies(client, version):
    start(client)
    complete_steps_before(client, version, "medicines")
    data = section_post(version, "medicines", fill=False, isotretinoin_last_12_months="yes")

    response = client.post(step_url(medicines_step(version)), data)

    assert response.status_code == 400
    assert 'href="#id_isotretinoin_taking_now_0"' in response.content.decode()


def test_changing_an_earlier_answer_discards_follow_ups_it_hides_on_later_steps(client, version):
    draft = start(client)
    complete_steps_before(client, version, "medicines")
    first_step = next(
        s for s in published.questionnaire(version).steps if s.section_key == "about_you"
    )
    scar = section_post(
        version,
        "about_you",
        concerns=["surgical_scar"],
        surgical_scar_operation="Appendix",
        surgical_scar_operation_date="2024-01-10",
    )
    assert client.post(step_url(first_step.number), scar).status_code == 302
    draft.refresh_from_db()
    assert draft.answers["surgical_scar_operation"] == "Appendix"

    plain = section_post(version, "about_you")
    assert client.post(step_url(first_step.number), plain).status_code == 302

    draft.refresh_from_db()
    assert "surgical_scar_operation" not in draft.answers
    assert "surgical_scar_operation_date" not in draft.answers


def test_going_back_shows_the_answers_already_given(client, version):
    start(client)
    complete_steps_before(client, version, "medicines")

    page = client.get(step_url(2)).content.decode()

    assert re.search(r'value="texture_pores"[^>]*checked', page)


def test_going_back_saves_the_answers_on_the_page(client, version):
    draft = start(client)
    complete_steps_before(client, version, "medicines")
    data = section_post(version, "medicines", topical_retinoids_acids="yes") | {"action": "back"}

    response = client.post(step_url(medicines_step(version)), data)

    draft.refresh_from_db()
    assert response["Location"] == step_url(medicines_step(version) - 1)
    assert draft.answers["topical_retinoids_acids"] == "yes"


def test_leaving_an_unfinished_page_keeps_its_valid_answers_but_not_the_step(client, version):
    draft = start(client)
    complete_steps_before(client, version, "medicines")
    done_before = Draft.objects.get(pk=draft.pk).steps_done
    partial = {"blood_thinner": "no", "immunosuppression": "maybe", "action": "back"}

    response = client.post(step_url(medicines_step(version)), partial)

    draft.refresh_from_db()
    assert response["Location"] == step_url(medicines_step(version) - 1)
    assert draft.answers["blood_thinner"] == "no"
    assert "immunosuppression" not in draft.answers
    assert draft.steps_done == done_before
    saved = client.post(step_url(medicines_step(version)), partial | {"action": "save"})
    assert saved.status_code == 200 and "/continue/" in saved.content.decode()
    assert client.get(step_url(medicines_step(version) + 1))["Location"] == step_url(
        medicines_step(version)
    )


def complete_steps_before(client: Client, version: QuestionSetVersion, section_key: str) -> None:
    client.post(step_url(1), DETAILS | appointment_post(APPOINTMENT))
    for step in published.questionnaire(version).steps[1:]:
        if step.section_key == section_key:
            return
        response = client.post(step_url(step.number), section_post(version, step.section_key))
        assert response.status_code == 302, response.content.decode()[:2000]


# Bad input


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"blood_thinner": "maybe"}, "Select one of the answers shown"),
        ({"blood_thinner": "yes<script>"}, "Select one of the answers shown"),
        ({"immunosuppression": "x" * 5000}, ""),
        ({"chemo_radiotherapy_now": ""}, ""),
    ],
)
def test_tampered_answers_are_refused_and_nothing_is_saved(client, version, change, message):
    draft = start(client)
    complete_steps_before(client, version, "medicines")
    before = Draft.objects.get(pk=draft.pk).answers

    response = client.post(
        step_url(medicines_step(version)), section_post(version, "medicines") | change
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Draft.objects.get(pk=draft.pk).answers == before


def test_unknown_fields_in_a_post_are_ignored(client, version):
    draft = start(client)
    complete_steps_before(client, version, "medicines")
    data = section_post(version, "medicines") | {"is_staff": "1", "outcome": "cleared"}

    assert client.post(step_url(medicines_step(version)), data).status_code == 302
    draft.refresh_from_db()
    assert "is_staff" not in draft.answers and "outcome" not in draft.answers


def test_oversized_free_text_is_refused_with_a_message(client, version):
    start(client)
    check = complete_until_check(client, version)
    last = check - 1

    response = client.post(
        step_url(last), section_post(version, "anything_else", other_medicines="x" * 2001)
    )

    assert response.status_code == 400
    assert "in 2000 characters or fewer (your answer has 2001)" in response.content.decode()


def test_a_future_date_for_a_past_event_is_refused(client, version):
    start(client)
    complete_steps_before(client, version, "medicines")
    future = (TODAY + datetime.timedelta(days=40)).isoformat()
    data = section_post(
        version,
        "medicines",
        isotretinoin_last_12_months="yes",
        isotretinoin_taking_now="no",
        isotretinoin_last_dose=future,
    )

    response = client.post(step_url(medicines_step(version)), data)

    assert response.status_code == 400
    assert "Enter a date today or in the past for" in response.content.decode()


def test_posts_without_a_csrf_token_are_refused(version):
    client = Client(enforce_csrf_checks=True)

    assert client.post("/start/", {"treatment_date": ""}).status_code == 403
    assert Draft.objects.count() == 0


# Continue later


def test_save_and_continue_later_gives_a_link_on_screen_and_by_email(client, version):
    start(client)
    client.post(step_url(1), DETAILS | {"treatment_date": ""} | {"action": "save"})

    response = client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})

    page = response.content.decode()
    link = re.search(r'href="(http://testserver/continue/[^"]+/)"', page).group(1)
    assert response.status_code == 200
    assert "Your answers are saved" in page
    assert mail.outbox[-1].to == ["ann@example.com"]
    assert link in mail.outbox[-1].body
    assert "Ann" not in link and "1990" not in link

    elsewhere = Client()
    resumed = elsewhere.get(link.removeprefix("http://testserver"))
    assert resumed.status_code == 302
    assert resumed["Location"] == step_url(2)
    assert "Ann Example" in elsewhere.get(step_url(1)).content.decode()


def test_only_the_latest_continue_later_link_works(client, version):
    start(client)
    first = client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
    second = client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
    old = re.search(r"/continue/[^\"]+/", first.content.decode()).group(0)
    new = re.search(r"/continue/[^\"]+/", second.content.decode()).group(0)

    assert Client().get(old).status_code == 410
    assert Client().get(new).status_code == 302


def link_on(page) -> str:
    return re.search(r"/continue/[^\"]+/", page.content.decode()).group(0)


def test_an_earlier_continue_later_link_says_it_was_replaced_and_opens_nothing(client, version):
    start(client)
    old = link_on(client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"}))
    client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
    elsewhere = Client()

    response = elsewhere.get(old)

    text = response.content.decode()
    assert response.status_code == 410
    assert "This link has been replaced" in text
    assert "use the newest link" in text and "most recent email" in text
    assert 'href="/"' in text  # a way to start again
    # The old link gives no way into the questionnaire.
    assert elsewhere.get(step_url(1))["Location"] == "/"


def test_an_earlier_link_of_a_sent_or_expired_questionnaire_says_so(client, version, settings):
    settings.DRAFT_DAYS = 3
    sent, expired = Client(), Client()
    old_links = {}
    for patient in (sent, expired):
        patient.post("/start/", {"treatment_date": ""})
        saved = patient.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
        old_links[patient] = link_on(saved)
        patient.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
        if patient is sent:
            submit(sent, complete_until_check(sent, version))

    after_sending = Client().get(old_links[sent])
    with time_machine.travel(timezone.now() + datetime.timedelta(days=4)):
        after_expiry = Client().get(old_links[expired])

    assert after_sending.status_code == 410
    assert "already sent your answers" in after_sending.content.decode()
    assert after_expiry.status_code == 410
    assert "This link has expired" in after_expiry.content.decode()


def test_only_the_digest_of_a_replaced_link_is_kept(client, version):
    from intake.models import ReplacedResumeLink, token_digest

    start(client)
    old = link_on(client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"}))
    client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
    token = old.strip("/").rsplit("/", 1)[1]

    kept = ReplacedResumeLink.objects.values_list("token_digest", flat=True)
    assert token_digest(token) in kept
    assert token not in "".join(kept)


def test_links_given_in_two_tabs_at_once_are_both_known_afterwards(client, version):
    draft = start(client)
    first_tab, second_tab = Draft.objects.get(pk=draft.pk), Draft.objects.get(pk=draft.pk)

    earlier = first_tab.replace_resume_link()
    later = second_tab.replace_resume_link()  # its copy still holds the digest before `earlier`

    assert Client().get(f"/continue/{earlier}/").status_code == 410
    assert Client().get(f"/continue/{later}/").status_code == 302


def test_a_continue_link_gives_the_browser_a_new_session_key(client, version, settings):
    from django.contrib.sessions.models import Session

    start(client)
    saved = client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
    link = re.search(r"/continue/[^\"]+/", saved.content.decode()).group(0)
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    assert client.get(link).status_code == 302

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    # A browser that had no session gets one of its own.
    elsewhere = Client()
    assert elsewhere.get(link).status_code == 302
    assert elsewhere.cookies[settings.SESSION_COOKIE_NAME].value not in (before, after)


def test_a_forged_continue_link_is_not_found(client, version):
    assert client.get("/continue/forged-token/").status_code == 404


def test_unfinished_questionnaires_expire(client, version, settings):
    settings.DRAFT_DAYS = 3
    start(client)
    saved = client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
    link = re.search(r"/continue/[^\"]+/", saved.content.decode()).group(0)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=4)):
        resumed = Client().get(link)
        same_browser = client.get(step_url(2))

    assert resumed.status_code == 410
    assert same_browser.status_code == 410


# Check, consent and submit


def test_the_check_page_lists_every_answer_by_section_with_change_links(client, version):
    start(client)
    check = complete_until_check(client, version)

    page = client.get(step_url(check)).content.decode()

    for step in published.questionnaire(version).steps[:-1]:
        assert f'href="{step_url(step.number)}?change"' in page
    assert "Ann Example" in page
    assert "3 April 1990" in page
    assert "Are you pregnant or breastfeeding?" in page


def test_consent_needs_both_confirmations_and_the_typed_name(client, version):
    start(client)
    check = complete_until_check(client, version)

    missing = client.post(step_url(check), {"signature": "Ann Example"})
    wrong_name = submit(client, check, name="Someone Else")

    assert missing.status_code == 400
    assert "Confirm that your answers are accurate" in missing.content.decode()
    assert wrong_name.status_code == 400
    assert "exactly as you gave it" in wrong_name.content.decode()
    assert Submission.objects.count() == 0


def test_an_empty_post_to_the_check_page_says_what_is_missing(client, version):
    start(client)
    check = complete_until_check(client, version)

    response = client.post(step_url(check), {})

    assert response.status_code == 400
    assert "Confirm that your answers are accurate" in response.content.decode()
    assert Submission.objects.count() == 0


def test_submitting_stores_answers_patient_details_consent_and_flags(client, version):
    start(client)
    check = complete_until_check(
        client,
        version,
        cold_sore_ever="yes",
        cold_sore_last_start="2020-05",
        topical_retinoids_acids="yes",
    )

    response = submit(client, check, name="  ann   example ")

    assert response.status_code == 302
    assert response["Location"] == "/questionnaire/sent/"
    submission = Submission.objects.get()
    assert submission.version == version
    assert submission.patient_name == "Ann Example"
    assert submission.date_of_birth == datetime.date(1990, 4, 3)
    assert submission.consent_name == "ann example"
    assert submission.consented_at is not None
    assert submission.answers["cold_sore_ever"] == "yes"
    codes = set(
        Flag.objects.filter(assessment__submission=submission).values_list("code", flat=True)
    )
    assert codes == {"cold_sore_history", "topical_retinoid_acid"}
    assert submission.outcome == "need_to_know"
    draft = Draft.objects.get()
    assert draft.answers == {} and draft.details == {}


def test_submitting_twice_stores_one_submission_and_shows_the_same_confirmation(client, version):
    start(client)
    check = complete_until_check(client, version)

    first = submit(client, check)
    second = submit(client, check)
    back_again = client.get(step_url(2))

    assert first["Location"] == second["Location"] == "/questionnaire/sent/"
    assert back_again["Location"] == "/questionnaire/sent/"
    assert Submission.objects.count() == 1
    assert client.get("/questionnaire/sent/").status_code == 200


def test_the_confirmation_gives_tailored_guidance_without_tier_names(client, version):
    start(client)
    check = complete_until_check(
        client,
        version,
        cold_sore_ever="yes",
        topical_retinoids_acids="yes",
        pregnant_or_breastfeeding="yes",
    )
    submit(client, check)

    page = client.get("/questionnaire/sent/").content.decode()

    assert "antiviral" in page
    assert "7 days before your appointment" in page
    assert "we'll be in touch to talk them through with you" in page
    assert "Before your treatment" in page or "Before" in page
    for word in ("not_possible", "need_to_know", "Not possible", "rejected", "Rejected"):
        assert word not in page
    assert Submission.objects.get().reference in page


def test_the_confirmation_is_only_for_the_browser_that_submitted(client, version):
    start(client)
    submit(client, complete_until_check(client, version))

    assert Client().get("/questionnaire/sent/")["Location"] == "/"


def test_an_incomplete_questionnaire_cannot_be_submitted(client, version):
    draft = start(client)
    check = complete_until_check(client, version)
    Draft.objects.filter(pk=draft.pk).update(answers={"date_of_birth": "1990-04-03"})

    response = submit(client, check)

    assert response.status_code == 302
    assert response["Location"] == step_url(2)
    assert Submission.objects.count() == 0


def test_health_data_never_appears_in_urls(client, version):
    start(client)
    check = complete_until_check(client, version, cold_sore_ever="yes")
    response = submit(client, check)

    assert "?" not in response["Location"]
    assert "cold" not in response["Location"]


# Robustness


def test_an_invitation_link_carries_on_with_the_patients_unfinished_draft(client, version):
    _, token = make_invitation(version)
    client.post(f"/invitation/{token}/")
    client.post(step_url(1), DETAILS | {"treatment_date": ""})

    other_device = Client()
    response = other_device.post(f"/invitation/{token}/")

    assert response["Location"] == step_url(2)
    assert Draft.objects.count() == 1


def test_a_failing_mail_server_still_gives_the_patient_their_link(client, version, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9},
        }
    }
    start(client)

    response = client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "/continue/" in page
    assert "couldn't email it" in page


def test_the_date_of_birth_must_be_a_full_date(client, version):
    start(client)
    month_only = DETAILS | {"date_of_birth_day": "", "treatment_date": ""}

    response = client.post(step_url(1), month_only)

    assert response.status_code == 400
    assert Draft.objects.get().answers == {}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", "Ann\x00Example"),
        ("email", "ann\x00@example.com"),
        ("phone", "07700\x00900123"),
    ],
)
def test_a_nul_character_in_the_details_is_refused_in_plain_words(client, version, field, value):
    start(client)

    response = client.post(step_url(1), DETAILS | {field: value, "treatment_date": ""})

    assert response.status_code == 400
    assert "Please remove the unusual characters" in response.content.decode()
    assert Draft.objects.get().details == {}


def test_a_nul_character_in_the_signature_is_refused_in_plain_words(client, version):
    start(client)
    check = complete_until_check(client, version)

    response = submit(client, check, name="Ann\x00Example")

    assert response.status_code == 400
    assert "Please remove the unusual characters" in response.content.decode()
    assert Submission.objects.count() == 0


def test_question_help_text_is_escaped(version):
    from django.template import Context, Template

    from intake.patient.forms import PatientDetailsForm

    form = PatientDetailsForm(definition=published.questionnaire(version).definition, today=TODAY)
    form.fields["email"].help_text = "<script>alert(1)</script>"
    template = Template("{% load crispy_forms_filters %}{{ form.email|as_crispy_field }}")

    html = template.render(Context({"form": form}))

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;" in html


def test_a_tampered_session_is_treated_as_no_questionnaire(client, version):
    session = client.session
    session["intake_draft"] = "not-a-uuid"
    session.save()

    response = client.get(step_url(1))

    assert response.status_code == 302


def test_expired_drafts_are_purged_with_their_answers(client, version):
    from io import StringIO

    from django.core.management import call_command

    draft = start(client)
    client.post(step_url(1), DETAILS | {"treatment_date": ""})
    Draft.objects.filter(pk=draft.pk).update(expires_at=timezone.now())
    Client().post("/start/", {"treatment_date": ""})
    fresh = Draft.objects.exclude(pk=draft.pk).get()

    dry = StringIO()
    call_command("purge_expired", "--dry-run", stdout=dry)
    assert "1 expired draft" in dry.getvalue()
    assert Draft.objects.count() == 2
    call_command("purge_expired", stdout=StringIO())

    assert list(Draft.objects.all()) == [fresh]


# What pages cost


def submit_queries(version: QuestionSetVersion, **answers: Any) -> tuple[int, Submission]:
    """The queries of one final submit, for a questionnaire completed with these answers."""
    # A new address each time: the rate limit's counter costs the same for every first submit.
    client = Client(REMOTE_ADDR=f"198.51.100.{len(answers)}")
    start(client)
    check = complete_until_check(client, version, **answers)
    with CaptureQueriesContext(connection) as queries:
        assert submit(client, check).status_code == 302
    return len(queries), Submission.objects.get(pk=Draft.objects.get().submission_id)


def test_the_final_submit_costs_the_same_queries_whatever_the_answers_and_flags(version):
    few, plain = submit_queries(version, blood_thinner="yes")
    Draft.objects.all().delete()
    many, flagged = submit_queries(
        version,
        blood_thinner="yes",
        topical_retinoids_acids="yes",
        otc_nsaids_supplements="yes",
        tattoo_pmu="yes",
        immunosuppression="yes",
        immunosuppression_details="Methotrexate",
        skin_infection="yes",
        skin_infection_details="Impetigo on the chin",
        tattoo_pmu_details="Eyebrows",
    )

    assert len(flagged.answers) > len(plain.answers)
    assert flagged.current_flags().count() >= plain.current_flags().count() + 4
    assert many == few


def ticked(html: str, name: str) -> list[str]:
    """The values of the radio buttons or tick boxes called `name` that are checked."""
    tags = re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)
    return [re.search(r'value="([^"]*)"', tag).group(1) for tag in tags if " checked" in tag]


def test_an_empty_question_is_rendered_once_and_never_holds_an_answer(client, version):
    start(client)
    step = medicines_step(version)
    complete_steps_before(client, version, "medicines")
    empty = client.get(step_url(step)).content.decode()
    client.post(step_url(step), section_post(version, "medicines", blood_thinner="yes"))

    answered = client.get(step_url(step)).content.decode()
    Draft.objects.all().delete()
    other = Client()
    start(other)
    complete_steps_before(other, version, "medicines")

    assert ticked(empty, "blood_thinner") == []
    assert ticked(answered, "blood_thinner") == ["yes"]
    # Another patient on the same step gets the empty questions, never the first one's answer.
    assert ticked(other.get(step_url(step)).content.decode(), "blood_thinner") == []


def cold_sores_step(version: QuestionSetVersion) -> int:
    return next(
        s.number for s in published.questionnaire(version).steps if s.section_key == "cold_sores"
    )


def another_patient(version: QuestionSetVersion, before: str) -> Client:
    """A second patient, started and with every step before section `before` done."""
    patient = Client()
    assert patient.post("/start/", {"treatment_date": ""}).status_code == 302
    complete_steps_before(patient, version, before)
    return patient


def form_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_a_step_not_yet_answered_gives_each_patient_their_own_form_token(version):
    step = cold_sores_step(version)
    patients = [Client()]
    start(patients[0])
    complete_steps_before(patients[0], version, "cold_sores")
    patients.append(another_patient(version, "cold_sores"))
    pages = [patient.get(step_url(step)).content.decode() for patient in patients]
    first, second = pages

    # The same page for both, but for the token each browser's session needs to post it.
    assert form_token(first) != form_token(second)
    assert first.replace(form_token(first), "") == second.replace(form_token(second), "")
    answers = section_post(version, "cold_sores")
    patients[0].handler.enforce_csrf_checks = True
    refused = patients[0].post(
        step_url(step), answers | {"csrfmiddlewaretoken": form_token(second)}
    )
    accepted = patients[0].post(
        step_url(step), answers | {"csrfmiddlewaretoken": form_token(first)}
    )
    assert refused.status_code == 403
    assert accepted.status_code == 302


def test_the_start_page_gives_each_new_patient_their_own_form_token(version):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    pages = [patient.get("/").content.decode() for patient in (first, second)]

    assert form_token(pages[0]) != form_token(pages[1])
    assert pages[0].replace(form_token(pages[0]), "") == pages[1].replace(form_token(pages[1]), "")
    refused = first.post("/start/", {"csrfmiddlewaretoken": form_token(pages[1])})
    accepted = first.post("/start/", {"csrfmiddlewaretoken": form_token(pages[0])})
    assert refused.status_code == 403
    assert accepted.status_code == 302


def test_the_start_page_still_shows_a_message_meant_for_this_patient(client, version):
    client.get("/")  # kept for everyone from now on
    ended = client.get(step_url(2), follow=True)  # no questionnaire in this session

    assert ended.redirect_chain[-1][0] == "/"
    assert "Your session has ended" in ended.content.decode()
    assert "Your session has ended" not in Client().get("/").content.decode()


def test_a_follow_up_revealed_by_an_earlier_step_is_shown_only_to_whom_it_applies(version):
    step = cold_sores_step(version)
    about_you = next(
        s for s in published.questionnaire(version).steps if s.section_key == "about_you"
    )
    face = Client()
    start(face)
    complete_steps_before(face, version, "cold_sores")
    face_page = face.get(step_url(step)).content.decode()
    neck = another_patient(version, "cold_sores")
    areas = section_post(version, "about_you", treatment_areas=["neck"])
    assert neck.post(step_url(about_you.number), areas).status_code == 302
    for earlier in published.questionnaire(version).steps[about_you.number : step - 1]:
        neck.post(step_url(earlier.number), section_post(version, earlier.section_key))

    neck_page = neck.get(step_url(step)).content.decode()

    assert 'data-question="herpes_near_body_area"' not in face_page
    assert 'data-question="herpes_near_body_area"' in neck_page
    # The first patient's page, asked for again, has not picked up the other's follow-up.
    again = face.get(step_url(step)).content.decode()
    assert 'data-question="herpes_near_body_area"' not in again


def test_a_message_for_the_patient_is_shown_on_a_step_not_yet_answered(client, version):
    start(client)
    complete_steps_before(client, version, "cold_sores")
    client.get(step_url(cold_sores_step(version)))

    response = client.get(step_url(cold_sores_step(version) + 1), follow=True)

    assert response.redirect_chain[-1][0] == step_url(cold_sores_step(version))
    assert "Please finish this step first." in response.content.decode()


def test_with_the_database_task_backend_the_notice_is_stored_with_the_submission(
    client, version, settings, django_capture_on_commit_callbacks
):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    from intake.submissions import submit_questionnaire

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    draft = start(client)
    check = complete_until_check(client, version, pregnant_or_breastfeeding="yes")

    # A submission that is not stored after all is not announced either.
    with pytest.raises(RuntimeError), transaction.atomic():
        submit_questionnaire(draft.pk, consent_name="Ann Example", now=timezone.now())
        assert DBTaskResult.objects.count() == 1
        raise RuntimeError("the commit fails")
    assert Submission.objects.count() == DBTaskResult.objects.count() == 0

    with django_capture_on_commit_callbacks() as callbacks:
        assert submit(client, check).status_code == 302

    assert callbacks == []  # queued in the submission's own transaction, not after it
    assert Submission.objects.count() == 1
    assert DBTaskResult.objects.get().task_path == "intake.tasks.notify_practitioners"


def test_a_draft_changed_after_the_check_page_read_it_is_submitted_as_it_is_now(client, version):
    from intake.submissions import submit_questionnaire

    draft = start(client)
    complete_until_check(client, version)
    stale = Draft.objects.get(pk=draft.pk)
    # Another tab changes an answer between the read and the submit.
    complete_until_check(client, version, pregnant_or_breastfeeding="yes")

    submission = submit_questionnaire(
        draft.pk, consent_name="Ann Example", now=timezone.now(), read=stale
    )

    assert submission.answers["pregnant_or_breastfeeding"] == "yes"
    assert submission.outcome == "not_possible"
    assert Submission.objects.count() == 1


def test_a_draft_submitted_after_it_was_read_gives_the_first_submission(client, version):
    from intake.submissions import submit_questionnaire

    draft = start(client)
    check = complete_until_check(client, version)
    stale = Draft.objects.get(pk=draft.pk)
    submit(client, check)

    again = submit_questionnaire(
        draft.pk, consent_name="Ann Example", now=timezone.now(), read=stale
    )

    assert Submission.objects.get() == again
    assert (
        Flag.objects.filter(assessment__submission=again).count() == again.current_flags().count()
    )


@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_draft_at_the_same_moment_store_one_submission(client, version):
    import threading

    from django.db import connections

    from intake.submissions import submit_questionnaire

    if connection.vendor != "postgresql":
        pytest.skip("Row locks are PostgreSQL's; SQLite runs one writer at a time.")
    draft = start(client)
    complete_until_check(client, version, pregnant_or_breastfeeding="yes")
    both = threading.Barrier(2)
    made: list[Submission] = []

    def submit_as_read() -> None:
        read = Draft.objects.get(pk=draft.pk)
        both.wait()
        try:
            made.append(
                submit_questionnaire(draft.pk, consent_name="Ann", now=timezone.now(), read=read)
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit_as_read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(made) == 2
    assert made[0].pk == made[1].pk == Submission.objects.get().pk
    assert Flag.objects.count() == made[0].current_flags().count()


def test_a_step_saved_in_another_tab_keeps_the_latest_continue_later_link(client, version):
    draft = start(client)
    complete_steps_before(client, version, "medicines")
    # Two requests in flight at once: one gives a new link, the other saves a step.
    giving_link, saving_step = Draft.objects.get(pk=draft.pk), Draft.objects.get(pk=draft.pk)
    token = giving_link.issue_resume_token()
    giving_link.save(update_fields=["resume_digest", "updated_at"])

    saving_step.record_step(
        medicines_step(version),
        details=saving_step.details,
        answers=saving_step.answers,
        treatment_date=saving_step.treatment_date,
    )

    assert Client().get(f"/continue/{token}/").status_code == 302


def test_an_answer_that_fails_validation_is_never_dropped_on_the_way_to_storage(
    client, version, caplog
):
    draft = start(client)
    check = complete_until_check(client, version)
    answers = dict(Draft.objects.get(pk=draft.pk).answers)
    Draft.objects.filter(pk=draft.pk).update(
        answers=answers | {"pregnant_or_breastfeeding": "perhaps"}
    )

    response = submit(client, check)

    # Back to the step that asks it, to be answered again; nothing is stored.
    assert response["Location"] == step_url(
        published.questionnaire(version).step_of_question("pregnant_or_breastfeeding").number
    )
    assert Submission.objects.count() == 0

    # An answer no step asks cannot be put right by the patient: it is left out, and logged.
    Draft.objects.filter(pk=draft.pk).update(answers=answers | {"no_such_question": "yes"})
    assert submit(client, check).status_code == 302
    assert Submission.objects.get().answers == answers
    assert "answers to unknown questions left out" in caplog.text


@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u200f", "\u061c"])
def test_a_name_with_a_bidirectional_control_is_refused_but_joiners_are_kept(
    client, version, control
):
    start(client)

    refused = client.post(step_url(1), DETAILS | {"full_name": f"abc{control}gnp.exe"})
    # Persian and Indic names need the zero-width (non-)joiner.
    kept = client.post(step_url(1), DETAILS | {"full_name": "Mehr\u200cdad Ra\u200dhimi"})

    assert refused.status_code == 400
    assert "Please remove the unusual characters from what you typed." in refused.content.decode()
    assert kept.status_code == 302
    assert Draft.objects.get().details["full_name"] == "Mehr\u200cdad Ra\u200dhimi"
