"""A refused review decision shows the page again, with what was typed and what is wrong."""

import datetime
import html

import pytest
from django.utils import timezone
from factories import COLD_SORE, logged_in, make_submission, page, staff

from intake.models import FlagDecision, Submission

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_refused_antiviral_plan_keeps_everything_the_practitioner_typed(client, version):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission),
        {
            "flag": flag.pk,
            "revision": 0,
            "kind": "acknowledged",
            "note": "Discussed the cold sore from May 2020 at length",
            "offered": "yes",
            "accepted": "yes",
            "drug": "valaciclovir",
            "dose": "500 mg twice daily",
            "start_date": "2026-12-10",
            "end_date": "2026-12-01",
            "prescriber": "Dr A Prescriber",
        },
    )

    assert response.status_code == 400
    page_text = text(response)
    assert (
        f'<a href="#note-{flag.pk}">The antiviral course cannot end before it starts.</a>'
        in page_text
    )
    assert "Discussed the cold sore from May 2020 at length</textarea>" in page_text
    for typed in ("valaciclovir", "500 mg twice daily", "2026-12-10", "Dr A Prescriber"):
        assert f'value="{typed}"' in page_text
    assert page_text.count(" checked>") == 2  # offered and accepted, both "yes"
    # The flag's decision form is open, and nothing was stored.
    assert '<details class="decide" open>' in page_text
    assert not FlagDecision.objects.exists()


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
