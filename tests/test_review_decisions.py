"""A refused review decision shows the page again, with what was typed and what is wrong."""

import datetime
import html

import pytest
from django.utils import timezone
from factories import (
    ACCEPTED_PLAN_FORM,
    COLD_SORE,
    logged_in,
    make_submission,
    page,
    staff,
)

from intake.models import FlagDecision, Submission

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_refused_antiviral_plan_keeps_everything_the_practitioner_typed(client, version):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))
    typed = ACCEPTED_PLAN_FORM | {"start_day": "3", "end_day": "-1", "drug_other": "n/a"}

    response = client.post(
        page(submission),
        {
            "flag": flag.pk,
            "revision": 0,
            "kind": "acknowledged",
            "note": "Discussed the cold sore from May 2020 at length",
        }
        | typed,
    )

    assert response.status_code == 400
    page_text = text(response)
    assert (
        f'<a href="#end_day-{flag.pk}">Last day: The antiviral course cannot end before it '
        "starts.</a>" in page_text
    )
    assert "Discussed the cold sore from May 2020 at length</textarea>" in page_text
    for name in (
        "strength",
        "dose",
        "route",
        "frequency",
        "quantity",
        "prescriber",
        "prescriber_registration",
        "issued_by",
        "drug_other",
        "start_day",
        "end_day",
        "consultation_date",
        "issued_on",
    ):
        assert f'id="{name}-{flag.pk}"' in page_text
        assert f'value="{typed[name]}"' in page_text, name
    assert '<option value="valaciclovir" selected>' in page_text
    assert '<option value="GMC" selected>' in page_text
    # offered and accepted "yes", and the four confirmations.
    assert page_text.count(" checked>") == 6
    # The flag's decision form is open, and nothing was stored.
    assert '<details class="decide" open>' in page_text
    assert not FlagDecision.objects.exists()


@pytest.mark.parametrize(
    ("missing", "field", "label"),
    [
        ("strength", "strength", "Strength"),
        ("route", "route", "Route"),
        ("consultation_date", "consultation_date", "Date of the face-to-face consultation"),
        ("prescriber_registration", "prescriber_registration", "Registration number"),
        ("kidney_checked", "kidney_checked", "Kidney function checked"),
        ("patient_told", "patient_told", "The patient was told how to take it"),
    ],
)
def test_each_missing_part_of_an_accepted_plan_is_named_and_linked(
    client, version, missing, field, label
):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))
    posted = {k: v for k, v in ACCEPTED_PLAN_FORM.items() if k != missing}

    response = client.post(
        page(submission),
        {"flag": flag.pk, "revision": 0, "kind": "acknowledged", "note": "Discussed"} | posted,
    )

    assert response.status_code == 400
    page_text = text(response)
    assert f'<a href="#{field}-{flag.pk}">{label}: ' in page_text
    assert not FlagDecision.objects.exists()


def test_another_drug_needs_its_name(client, version):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission),
        {"flag": flag.pk, "revision": 0, "kind": "acknowledged", "note": "Discussed"}
        | ACCEPTED_PLAN_FORM
        | {"drug": "other"},
    )

    assert response.status_code == 400
    assert f'<a href="#drug_other-{flag.pk}">Name of the other drug: Name the drug.</a>' in (
        text(response)
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"consultation_date": "2099-01-01"}, "consultation_date", "cannot be in the future"),
        ({"issued_on": "2000-01-01"}, "issued_on", "before the date of the face-to-face"),
        ({"start_day": "-500"}, "start_day", "greater than or equal to -60"),
        ({"end_day": "two"}, "end_day", "Enter a whole number"),
    ],
)
def test_impossible_prescription_details_are_refused_on_their_field(
    client, version, changes, field, message
):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission),
        {"flag": flag.pk, "revision": 0, "kind": "acknowledged", "note": "Discussed"}
        | ACCEPTED_PLAN_FORM
        | changes,
    )

    assert response.status_code == 400
    page_text = text(response)
    assert f'<a href="#{field}-{flag.pk}">' in page_text
    assert message in page_text
    assert not FlagDecision.objects.exists()


def test_a_complete_plan_is_saved_and_shown_with_its_dates_from_the_treatment_day(client, version):
    treatment = datetime.date(2026, 12, 18)
    submission = make_submission(version, COLD_SORE, treatment_date=treatment)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission),
        {"flag": flag.pk, "revision": 0, "kind": "acknowledged", "note": "Discussed"}
        | ACCEPTED_PLAN_FORM
        | {"end_day": "3"},
    )

    assert response.status_code == 302
    plan = FlagDecision.objects.get().antiviral_plan
    assert (plan["start_day"], plan["end_day"], plan["planned_for"]) == (-1, 3, "2026-12-18")
    assert plan["kidney_checked"] is plan["patient_told"] is True
    page_text = text(client.get(page(submission)))
    assert "from 17 Dec 2026 (day −1) for 5 days, to 21 Dec 2026 (day +3)" in page_text
    assert "Valaciclovir 500 mg, 1 tablet, oral, twice daily; quantity 14 tablets" in page_text
    assert "Dr A Prescriber, GMC 7654321" in page_text


def test_a_refused_date_change_keeps_the_date_and_reason_typed(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))
    far = timezone.localdate() + datetime.timedelta(days=3000)

    response = client.post(
        page(submission),
        {
            "treatment_date": far.isoformat(),
            "date_reason": "Patient asked to move it",
            "revision": 0,
        },
    )

    assert response.status_code == 400
    page_text = text(response)
    assert "Enter a date within a year before or two years after today." in page_text
    assert f'value="{far.isoformat()}"' in page_text
    assert "Patient asked to move it</textarea>" in page_text
    assert Submission.objects.get(pk=submission.pk).treatment_date == submission.treatment_date


def test_a_refused_status_change_keeps_the_reason_and_links_to_the_field(client, version):
    submission = make_submission(version, {"pregnant_or_breastfeeding": "yes"})
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission), {"status": "cleared", "reason": "Seen her today", "revision": 0}
    )

    assert response.status_code == 400
    page_text = text(response)
    assert "cannot be cleared while a not-possible flag stands" in page_text
    assert "Seen her today</textarea>" in page_text
    assert '<option value="cleared" selected>' in page_text
    assert Submission.objects.get(pk=submission.pk).review_status == "new"


def test_each_problem_in_the_summary_links_to_its_field(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(page(submission), {"status": "deferred", "reason": "", "revision": 0})

    assert response.status_code == 400
    assert '<a href="#id_reason">Reason: This field is required.</a>' in response.content.decode()


def test_a_saved_decision_still_goes_back_to_the_page(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission), {"status": "in_review", "reason": "Calling her", "revision": 0}
    )

    assert response.status_code == 302
    assert response["Location"] == page(submission)


def test_a_plan_without_a_treatment_date_or_with_unreadable_old_dates_says_so():
    from intake.review import plans

    unbooked = plans.view(
        {"accepted": True, "start_day": -1, "end_day": 5},
        treatment_date=None,
        today=datetime.date(2026, 12, 1),
    )
    reentry = plans.view(
        {"accepted": True, "start_day": None, "end_day": None, "needs_reentry": True},
        treatment_date=datetime.date(2026, 12, 18),
        today=datetime.date(2026, 12, 1),
    )

    assert unbooked.course == "from day −1 for 7 days, to day +5"
    assert unbooked.warnings == [
        "No treatment date is booked: the course's dates follow once it is."
    ]
    assert reentry.course == ""
    assert "please record it again" in reentry.warnings[0]


# Every form on the page that refuses a save shows again what was typed: a concurrency refusal
# (someone saved in between: the posted revision is stale), a missing reason, an invalid value.

STALE = "Someone else has changed this submission since you opened it. Nothing was saved"


def someone_else_saves(submission: Submission) -> None:
    from intake.review.decisions import change_review_status

    change_review_status(
        submission,
        status="in_review",
        reason="Colleague",
        by=staff("q", "Practitioner"),
        revision=0,
    )


def test_a_status_change_refused_as_stale_keeps_the_reason_typed(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))
    someone_else_saves(submission)

    response = client.post(
        page(submission), {"status": "not_suitable", "reason": "She is away", "revision": 0}
    )

    assert response.status_code == 400
    page_text = text(response)
    assert STALE in page_text
    assert "She is away</textarea>" in page_text
    assert '<option value="not_suitable" selected>' in page_text
    # The page now carries the new revision, so saving again after a look goes through.
    assert '<input type="hidden" name="revision" value="1">' in page_text


def test_a_date_change_refused_as_stale_keeps_the_date_and_reason(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))
    someone_else_saves(submission)
    later = (timezone.localdate() + datetime.timedelta(days=50)).isoformat()

    response = client.post(
        page(submission),
        {"treatment_date": later, "date_reason": "Moved to March", "revision": 0},
    )

    assert response.status_code == 400
    page_text = text(response)
    assert STALE in page_text
    assert f'value="{later}"' in page_text and "Moved to March</textarea>" in page_text
    assert Submission.objects.get(pk=submission.pk).treatment_date == submission.treatment_date


def test_a_decision_typed_while_someone_moved_the_date_comes_back_on_the_flag_as_it_is_now(
    client, version
):
    from intake.review.decisions import change_treatment_date

    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))
    change_treatment_date(
        submission,
        treatment_date=submission.treatment_date + datetime.timedelta(days=7),
        reason="Moved",
        by=staff("q", "Practitioner"),
        revision=0,
    )
    now = Submission.objects.get(pk=submission.pk).current_flags().get(code="cold_sore_history")
    assert now.pk != flag.pk

    response = client.post(
        page(submission),
        {
            "flag": flag.pk,
            "revision": 0,
            "kind": "acknowledged",
            "note": "Talked it through",
            "offered": "yes",
            "accepted": "no",
            "risk_discussion": "Will ring at the first tingle",
        },
    )

    assert response.status_code == 400
    page_text = text(response)
    assert STALE in page_text
    assert "Talked it through</textarea>" in page_text
    assert f'name="flag" value="{now.pk}"' in page_text
    assert not FlagDecision.objects.exists()


def test_a_flag_decision_refused_as_stale_keeps_the_note_and_plan(client, version):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))
    someone_else_saves(submission)

    response = client.post(
        page(submission),
        {
            "flag": flag.pk,
            "revision": 0,
            "kind": "acknowledged",
            "note": "Talked it through",
            "offered": "yes",
            "accepted": "no",
            "risk_discussion": "Will ring at the first tingle",
        },
    )

    assert response.status_code == 400
    page_text = text(response)
    assert STALE in page_text
    assert "Talked it through</textarea>" in page_text
    assert "Will ring at the first tingle</textarea>" in page_text
    assert '<details class="decide" open>' in page_text
    assert not FlagDecision.objects.exists()


def test_a_flag_decision_without_a_note_keeps_the_plan_typed(client, version):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission),
        {"flag": flag.pk, "revision": 0, "kind": "acknowledged", "note": "", "drug": "aciclovir"},
    )

    assert response.status_code == 400
    page_text = text(response)
    assert f'<a href="#note-{flag.pk}">' in page_text
    assert 'value="aciclovir"' in page_text


def correction(**fields):
    return {
        "answer_question": "acne_now",
        "answer": "lots_inflamed",
        "answer_reason": "Flared up this week",
        "revision": 0,
    } | fields


def test_a_correction_refused_as_stale_keeps_the_answer_and_reason(client, version):
    submission = make_submission(version, {"acne_now": "a_few"})
    logged_in(client, staff("p", "Practitioner"))
    someone_else_saves(submission)

    response = client.post(page(submission), correction())

    assert response.status_code == 400
    page_text = text(response)
    assert STALE in page_text
    assert 'value="lots_inflamed" required id="id_answer_2" checked>' in page_text
    assert "Flared up this week</textarea>" in page_text
    assert not Submission.objects.get(pk=submission.pk).changes.filter(kind="answer").exists()


def test_a_correction_without_a_reason_keeps_the_answer_typed(client, version):
    submission = make_submission(version, {"acne_now": "a_few"})
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(page(submission), correction(answer_reason=""))

    assert response.status_code == 400
    page_text = text(response)
    assert (
        '<a href="#id_answer_reason">Reason for the correction: This field is required.</a>'
        in page_text
    )
    assert 'value="lots_inflamed" required id="id_answer_2" checked>' in page_text


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("31 2 2024", "Enter a real date, for example 14 3 2024"),
        ("spring", "Enter a date, for example 14 3 2024"),
        ("3 2099", "The question asks about the past"),
    ],
)
def test_a_corrected_date_that_does_not_fit_is_shown_again_with_the_problem(
    client, version, typed, problem
):
    submission = make_submission(version, COLD_SORE)
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission),
        correction(answer_question="cold_sore_last_start", answer=typed, answer_reason="Checked"),
    )

    assert response.status_code == 400
    page_text = text(response)
    assert problem in page_text
    assert f'value="{typed}"' in page_text and "Checked</textarea>" in page_text


def test_choosing_a_question_the_patient_was_not_asked_is_refused_with_a_message(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))

    response = client.get(page(submission) + "?correct=no_such_question")
    posted = client.post(page(submission), correction(answer_question="no_such_question"))

    assert response.status_code == 400
    assert "Choose one of the questions this patient was asked." in text(response)
    assert posted.status_code == 400
    assert "Select a valid choice" in text(posted)
