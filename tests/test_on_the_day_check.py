"""The on-the-day check: a practitioner asks the questions again with the patient present and
records the day's inspection; "treated" needs it unless the version switches that off."""

import datetime
import html

import pytest
from django.utils import timezone
from factories import (
    RECHECK_NOTHING_NEW,
    STAFF_PASSWORD,
    TODAY,
    logged_in,
    make_submission,
    record_plan,
    staff,
)

from intake.models import AuditAction, AuditEntry, ReCheck, ReviewStatus, Submission
from intake.review import decisions

pytestmark = pytest.mark.django_db

DAY = {"inspected_by": "Pat Practitioner", "inspected_at": "09:40"}


@pytest.fixture
def practitioner(client):
    user = staff("pat", "Practitioner")
    logged_in(client, user)
    client.user = user
    return client


def urls(submission):
    page = f"/admin/intake/submission/{submission.pk}/change/"
    return page, f"/admin/intake/submission/{submission.pk}/on-the-day/"


def cleared(version, answers=None):
    submission = make_submission(
        version, dict(RECHECK_NOTHING_NEW) | (answers or {}), treatment_date=TODAY
    )
    Submission.objects.filter(pk=submission.pk).update(
        review_status=ReviewStatus.CLEARED, locked=True
    )
    submission.refresh_from_db()
    return submission


def test_the_submission_page_opens_the_on_the_day_check_with_the_questions_asked_again(
    practitioner, version
):
    submission = cleared(version)
    page, check = urls(submission)

    assert check in practitioner.get(page).text
    text = practitioner.get(check).text

    assert "Do you have a cold sore right now" in text
    assert "Who inspected the lips and face?" in text
    assert "antiviral" not in text.lower()


def test_recording_the_check_keeps_who_and_when_audits_it_and_shows_it_in_print(
    practitioner, version
):
    submission = cleared(version)
    page, check = urls(submission)

    response = practitioner.post(check, RECHECK_NOTHING_NEW | DAY)

    assert response.status_code == 302
    recheck = ReCheck.objects.get(submission=submission, kind="on_the_day")
    assert recheck.recorded_by == practitioner.user
    assert recheck.extra["inspected_by"] == "Pat Practitioner"
    assert recheck.extra["inspected_at"] == f"{timezone.localdate().isoformat()}T09:40"
    assert AuditEntry.objects.filter(action=AuditAction.ON_THE_DAY_CHECK, user=practitioner.user)
    # Nothing changed: still signed and cleared.
    submission.refresh_from_db()
    assert (submission.review_status, submission.locked) == (ReviewStatus.CLEARED, True)
    printed = html.unescape(practitioner.get(page.replace("change/", "print/")).text)
    assert "On-the-day check" in printed
    assert "Lips and face inspected by" in printed
    assert "Pat Practitioner" in printed


def test_a_page_with_answers_missing_stores_nothing_and_says_what_is_missing(practitioner, version):
    submission = cleared(version)
    _, check = urls(submission)

    response = practitioner.post(
        check, {k: v for k, v in RECHECK_NOTHING_NEW.items() if k != "cold_sore_now"}
    )

    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert not ReCheck.objects.filter(submission=submission).exists()


def test_an_active_cold_sore_on_the_day_reopens_the_signed_review(practitioner, version):
    submission = cleared(version)
    _, check = urls(submission)

    practitioner.post(check, RECHECK_NOTHING_NEW | DAY | {"cold_sore_now": "yes"})

    submission.refresh_from_db()
    assert submission.review_status == ReviewStatus.IN_REVIEW
    assert not submission.locked
    assert "cold_sore_active" in submission.flag_codes
    assert submission.assessments.get(is_current=True).cause == "on_the_day"
    assert "pat recorded the on-the-day check" in practitioner.get(urls(submission)[0]).text


def test_with_an_antiviral_plan_the_first_dose_time_is_recorded(practitioner, version):
    submission = make_submission(
        version, dict(RECHECK_NOTHING_NEW) | {"cold_sore_ever": "yes"}, treatment_date=TODAY
    )
    record_plan(submission.current_flags().get(code="cold_sore_history"), practitioner.user)
    _, check = urls(submission)
    yesterday = TODAY - datetime.timedelta(days=1)

    missing = practitioner.post(check, RECHECK_NOTHING_NEW | DAY | {"antiviral_started": "yes"})
    assert "Enter when the first antiviral dose was taken" in missing.text
    practitioner.post(
        check,
        RECHECK_NOTHING_NEW
        | DAY
        | {"antiviral_started": "yes", "first_dose_at": f"{yesterday}T08:00"},
    )

    recheck = ReCheck.objects.get(submission=submission)
    assert recheck.extra["antiviral_started"] == "yes"
    assert recheck.extra["first_dose_at"] == f"{yesterday}T08:00"


def test_treated_needs_the_on_the_day_check(practitioner, version):
    submission = cleared(version)
    page, check = urls(submission)

    refused = practitioner.post(
        page, {"treated_reason": "Treated", "revision": submission.revision}
    )
    assert refused.status_code == 400
    assert "Record the on-the-day check before marking the patient as treated" in html.unescape(
        refused.text
    )
    practitioner.post(check, RECHECK_NOTHING_NEW | DAY)
    submission.refresh_from_db()
    done = practitioner.post(page, {"treated_reason": "Treated", "revision": submission.revision})

    assert done.status_code == 302
    submission.refresh_from_db()
    assert submission.review_status == ReviewStatus.TREATED
    # Final: no other status after it.
    with pytest.raises(decisions.DecisionRefused):
        decisions.change_review_status(
            submission,
            status=ReviewStatus.IN_REVIEW,
            reason="Again",
            by=practitioner.user,
            revision=submission.revision,
            signature=STAFF_PASSWORD,
        )
