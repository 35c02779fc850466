"""The patient's re-check before treatment: one page of the questions asked again, from a link
that works once; the answers run the rules again, kept beside the first ones."""

import datetime
import html

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from factories import RECHECK_NOTHING_NEW, TODAY, make_submission, record_plan, staff

from intake.models import (
    AuditAction,
    AuditEntry,
    ChangeKind,
    ReCheck,
    ReviewStatus,
)
from intake.review import decisions, rechecks
from intake.review.rechecks import link_expires_at

pytestmark = pytest.mark.django_db

TREATMENT = TODAY + datetime.timedelta(days=2)


def sent_recheck(submission):
    recheck = ReCheck(submission=submission, kind="before", treatment_date=TREATMENT)
    token = recheck.issue_token(timezone.now(), link_expires_at(TREATMENT))
    recheck.sent_at = timezone.now()
    recheck.save()
    return recheck, f"/recheck/{token}/"


@pytest.fixture
def submission(version):
    return make_submission(version, dict(RECHECK_NOTHING_NEW), treatment_date=TREATMENT)


def test_the_page_asks_only_the_questions_asked_again(client, submission):
    _, link = sent_recheck(submission)

    page = client.get(link).content.decode()

    assert "Do you have a cold sore right now" in page
    assert "Is the skin in the area broken or irritated right now" in page
    assert "Are you pregnant or breastfeeding?" in page
    assert "Do you take a prescribed medicine to thin your blood" in page
    assert "Do you have diabetes?" not in page
    # No plan recorded: no question about the tablets.
    assert "antiviral tablets" not in page
    # Asked afresh: nothing ticked from the first answers.
    assert "checked" not in page
    # The questionnaire's promise to ask again is not repeated when asking again.
    assert "ask you again" not in page


def test_a_page_sent_with_answers_missing_says_what_to_fix_and_stores_nothing(client, submission):
    recheck, link = sent_recheck(submission)

    response = client.post(
        link, {k: v for k, v in RECHECK_NOTHING_NEW.items() if k != "skin_infection"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Error: " in page
    recheck.refresh_from_db()
    assert recheck.answered_at is None


def test_unchanged_answers_thank_the_patient_and_keep_the_first_answers(client, submission):
    recheck, link = sent_recheck(submission)
    first = dict(submission.answers)

    response = client.post(link, RECHECK_NOTHING_NEW)

    assert response.status_code == 200
    assert "We'll see you on" in response.content.decode()
    recheck.refresh_from_db()
    assert recheck.answered_at is not None
    assert recheck.answers["cold_sore_now"] == "no"
    submission.refresh_from_db()
    assert submission.answers == first
    assert submission.assessments.get(is_current=True).cause == ChangeKind.RECHECK
    assert AuditEntry.objects.filter(action=AuditAction.RECHECK_ANSWERED).count() == 1


def test_an_active_cold_sore_reopens_the_review_notifies_and_tells_the_patient_it_will_move(
    client, submission, mailoutbox, django_capture_on_commit_callbacks
):
    lead = staff("lena", "Medical lead")
    lead.email = "lena@clinic.example"
    lead.save()
    type(submission).objects.filter(pk=submission.pk).update(review_status=ReviewStatus.CLEARED)
    _, link = sent_recheck(submission)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(link, RECHECK_NOTHING_NEW | {"cold_sore_now": "yes"})

    page = html.unescape(response.content.decode())
    assert "We'll need to move your appointment until your cold sore has completely healed" in page
    assert "we'll be in touch" in page
    submission.refresh_from_db()
    assert submission.review_status == ReviewStatus.IN_REVIEW
    assert "cold_sore_active" in submission.flag_codes
    assert submission.outcome == "not_possible"
    assert [m.to for m in mailoutbox] == [["lena@clinic.example"]]
    # The patient's first answer stays as given.
    assert submission.answers["cold_sore_now"] == "no"
    event = submission.review_events.first()
    assert event.by is None
    assert "re-check" in event.reason


def test_the_answers_replace_the_re_asked_ones_and_leave_the_others_as_given(submission):
    # A later re-evaluation (a new date) still reads the re-check's answers.
    recheck, _ = sent_recheck(submission)
    rechecks.record(
        submission,
        kind="before",
        answers=RECHECK_NOTHING_NEW | {"skin_infection": "yes"},
        extra={},
        by=None,
        recheck=recheck,
    )
    submission.refresh_from_db()
    decisions.change_treatment_date(
        submission,
        treatment_date=TREATMENT + datetime.timedelta(days=1),
        reason="Moved",
        by=staff("rita"),
        revision=submission.revision,
    )

    assert "active_skin_infection" in submission.flag_codes
    assert submission.answers["skin_infection"] == "no"


def test_the_link_works_once(client, submission):
    _, link = sent_recheck(submission)
    client.post(link, RECHECK_NOTHING_NEW)

    again = client.get(link)

    assert again.status_code == 410
    assert "already answered" in again.content.decode()
    assert client.post(link, RECHECK_NOTHING_NEW).status_code == 410
    assert submission.assessments.count() == 2


def test_the_link_expires_at_the_end_of_the_treatment_day(client, submission):
    _, link = sent_recheck(submission)

    with time_machine.travel(link_expires_at(TREATMENT), tick=False):
        response = client.get(link)

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


@override_settings(RATE_LIMIT_LINK_MISSES_PER_HOUR=2)
def test_an_unknown_link_is_a_guess_counted_like_a_continue_later_link(client, submission):
    _, link = sent_recheck(submission)

    assert client.get("/recheck/not-a-real-token/").status_code == 404
    assert client.get("/recheck/another-guess/").status_code == 404
    assert client.get("/recheck/a-third-guess/").status_code == 429
    # A link that works is never refused.
    assert client.get(link).status_code == 200


def test_with_an_accepted_antiviral_plan_the_page_asks_whether_the_tablets_are_started(
    client, version
):
    submission = make_submission(
        version, dict(RECHECK_NOTHING_NEW) | {"cold_sore_ever": "yes"}, treatment_date=TREATMENT
    )
    flag = submission.current_flags().get(code="cold_sore_history")
    record_plan(flag, staff("pat", "Practitioner"))
    recheck, link = sent_recheck(submission)

    assert "Have you started the antiviral tablets?" in client.get(link).content.decode()
    missing = client.post(link, RECHECK_NOTHING_NEW)
    assert "Select whether you have started the antiviral tablets" in missing.content.decode()
    assert client.post(link, RECHECK_NOTHING_NEW | {"antiviral_started": "yes"}).status_code == 200
    recheck.refresh_from_db()
    assert recheck.extra == {"antiviral_started": "yes"}
