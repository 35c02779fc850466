"""Who is emailed when a submission needs review, what the email says, and when it is sent."""

import datetime

import pytest
from django.utils import dateformat
from factories import PREGNANT, TODAY, logged_in, make_submission, staff

from intake.models import Submission, User
from intake.review.decisions import change_treatment_date
from intake.review.notifications import notify_practitioners_of

pytestmark = pytest.mark.django_db


def member(name: str, *roles: str, **fields) -> User:
    """A staff account in these roles with an email address (unless `email` says otherwise)."""
    user = staff(name, *roles)
    User.objects.filter(pk=user.pk).update(**{"email": f"{name}@clinic.test", **fields})
    return User.objects.get(pk=user.pk)


def isotretinoin(version, *, last_dose_days_ago: int, treatment_in_days: int) -> Submission:
    """Last oral isotretinoin dose so many days ago: "not possible" within 6 months of the
    treatment date, "need to know" within 12 months, no flag after that."""
    answers = {
        "isotretinoin_last_12_months": "yes",
        "isotretinoin_taking_now": "no",
        "isotretinoin_last_dose": (TODAY - datetime.timedelta(days=last_dose_days_ago)).isoformat(),
    }
    return make_submission(
        version, answers, treatment_date=TODAY + datetime.timedelta(days=treatment_in_days)
    )


def need_to_know(version) -> Submission:
    submission = isotretinoin(version, last_dose_days_ago=150, treatment_in_days=60)
    assert submission.outcome == "need_to_know"
    return submission


def not_possible(version) -> Submission:
    submission = make_submission(version, PREGNANT)
    assert submission.outcome == "not_possible"
    return submission


def moved(submission: Submission, days: int, by: User) -> None:
    change_treatment_date(
        submission,
        treatment_date=TODAY + datetime.timedelta(days=days),
        reason="Moved by phone",
        by=by,
        revision=submission.revision,
    )


# Who


def test_practitioners_are_told_of_every_notice_and_the_medical_lead_of_not_possible(
    version, mailoutbox
):
    member("prac", "Practitioner")
    member("lead", "Medical lead")

    notify_practitioners_of(str(need_to_know(version).pk))
    notify_practitioners_of(str(not_possible(version).pk))

    assert [message.to for message in mailoutbox] == [
        ["prac@clinic.test"],
        ["lead@clinic.test", "prac@clinic.test"],
    ]


def test_clinic_admins_are_told_only_if_they_asked(version, mailoutbox):
    member("prac", "Practitioner")
    member("quiet", "Clinic admin")
    member("keen", "Clinic admin", notify_of_submissions=True)

    notify_practitioners_of(str(need_to_know(version).pk))

    assert mailoutbox[0].to == ["keen@clinic.test", "prac@clinic.test"]


def test_a_medical_lead_who_asked_is_told_of_need_to_know_too(version, mailoutbox):
    member("lead", "Medical lead", notify_of_submissions=True)

    notify_practitioners_of(str(need_to_know(version).pk))

    assert mailoutbox[0].to == ["lead@clinic.test"]


def test_inactive_accounts_those_without_an_email_and_those_without_a_role_are_skipped(
    version, mailoutbox
):
    member("gone", "Practitioner", is_active=False)
    member("blank", "Practitioner", email="")
    member("nobody", notify_of_submissions=True)
    member("prac", "Practitioner", "Medical lead")  # two roles, one email

    notify_practitioners_of(str(not_possible(version).pk))

    assert [message.to for message in mailoutbox] == [["prac@clinic.test"]]


def test_no_email_is_sent_when_no_one_is_to_be_told(version, mailoutbox):
    member("lead", "Medical lead")

    assert notify_practitioners_of(str(need_to_know(version).pk)) == 0
    assert mailoutbox == []


# What


def test_the_notice_gives_the_date_to_review_before_the_reference_and_a_link_only(
    version, settings, mailoutbox
):
    settings.SITE_URL = "https://intake.clinic.test/"
    member("prac", "Practitioner")
    submission = isotretinoin(version, last_dose_days_ago=100, treatment_in_days=9)
    day = submission.treatment_date

    notify_practitioners_of(str(submission.pk))

    (message,) = mailoutbox
    assert message.subject == (
        f"Needs review before {day.day} {day:%b %Y}: submission {submission.reference}"
    )
    assert f"before the treatment on {dateformat.format(day, 'l j F Y')}" in message.body
    assert (
        f"https://intake.clinic.test/admin/intake/submission/{submission.pk}/change/"
        in message.body
    )
    assert "https://intake.clinic.test/admin/notifications/" in message.body
    text = message.subject + message.body
    # Nothing of the patient: name, email, flag, tier, answers, or the question they answered.
    for private in (
        "Ann",
        "ann@example.com",
        "oral_isotretinoin",
        "not_possible",
        "Not possible",
        "isotretinoin",
        "retinoid",
        (TODAY - datetime.timedelta(days=100)).isoformat(),
        "1990",
    ):
        assert private not in text


def test_a_submission_without_a_treatment_date_says_it_is_not_yet_booked(version, mailoutbox):
    member("prac", "Practitioner")
    submission = make_submission(version, PREGNANT, treatment_date=None)

    notify_practitioners_of(str(submission.pk))

    (message,) = mailoutbox
    assert message.subject == f"Needs review, not yet booked: submission {submission.reference}"
    assert "No treatment date is booked yet" in message.body
    assert "pregnan" not in message.body.lower()


# When: again, when running the rules again raises the outcome


def test_a_date_change_that_raises_need_to_know_to_not_possible_tells_staff_again(
    version, mailoutbox, django_capture_on_commit_callbacks
):
    practitioner = member("prac", "Practitioner")
    member("lead", "Medical lead")
    submission = need_to_know(version)

    with django_capture_on_commit_callbacks(execute=True):
        moved(submission, 7, by=practitioner)

    assert Submission.objects.get(pk=submission.pk).outcome == "not_possible"
    (message,) = mailoutbox
    assert message.to == ["lead@clinic.test", "prac@clinic.test"]
    assert message.subject.startswith("Needs review again before ")
    assert submission.reference in message.subject
    assert "isotretinoin" not in message.body


def test_a_date_change_that_raises_no_flag_to_need_to_know_tells_practitioners(
    version, mailoutbox, django_capture_on_commit_callbacks
):
    practitioner = member("prac", "Practitioner")
    submission = isotretinoin(version, last_dose_days_ago=340, treatment_in_days=60)
    assert submission.outcome == ""

    with django_capture_on_commit_callbacks(execute=True):
        moved(submission, 10, by=practitioner)

    assert Submission.objects.get(pk=submission.pk).outcome == "need_to_know"
    assert [message.to for message in mailoutbox] == [["prac@clinic.test"]]


@pytest.mark.parametrize(
    ("last_dose_days_ago", "treatment_in_days", "moved_to", "outcomes"),
    [
        (150, 7, 60, ("not_possible", "need_to_know")),
        (150, 60, 90, ("need_to_know", "need_to_know")),
        (100, 7, 14, ("not_possible", "not_possible")),
        (150, 60, 400, ("need_to_know", "")),
    ],
)
def test_a_date_change_that_lowers_or_keeps_the_outcome_tells_no_one(
    version,
    mailoutbox,
    django_capture_on_commit_callbacks,
    last_dose_days_ago,
    treatment_in_days,
    moved_to,
    outcomes,
):
    practitioner = member("prac", "Practitioner")
    member("lead", "Medical lead", notify_of_submissions=True)
    submission = isotretinoin(
        version, last_dose_days_ago=last_dose_days_ago, treatment_in_days=treatment_in_days
    )
    before = submission.outcome

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        moved(submission, moved_to, by=practitioner)

    assert (before, Submission.objects.get(pk=submission.pk).outcome) == outcomes
    assert callbacks == [] and mailoutbox == []


def test_with_the_database_backend_the_second_notice_is_queued_with_the_date_change(
    version, settings
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    practitioner = member("prac", "Practitioner")
    submission = need_to_know(version)

    moved(submission, 7, by=practitioner)

    task = DBTaskResult.objects.get()
    assert task.task_path == "intake.tasks.notify_practitioners"
    assert (task.args_kwargs["args"], task.args_kwargs["kwargs"]) == (
        [str(submission.pk)],
        {"again": True},
    )


# The preference, on the staff member's own page


def test_a_clinic_admin_asks_to_be_told_on_their_own_notifications_page(
    client, version, mailoutbox
):
    admin = member("keen", "Clinic admin")
    logged_in(client, admin)

    home = client.get("/admin/").content.decode()
    assert 'href="/admin/notifications/"' in home
    page = client.get("/admin/notifications/").content.decode()
    assert "Notify me of new submissions" in page
    response = client.post("/admin/notifications/", {"notify_of_submissions": "on"}, follow=True)

    assert "Saved: you will be emailed when a submission needs review." in (
        response.content.decode()
    )
    assert User.objects.get(pk=admin.pk).notify_of_submissions
    notify_practitioners_of(str(need_to_know(version).pk))
    assert mailoutbox[0].to == ["keen@clinic.test"]

    client.post("/admin/notifications/", {})  # the box unticked

    assert not User.objects.get(pk=admin.pk).notify_of_submissions


def test_a_practitioner_has_nothing_to_choose_and_cannot_post_a_choice(client):
    practitioner = member("prac", "Practitioner")
    logged_in(client, practitioner)

    page = client.get("/admin/notifications/").content.decode()
    response = client.post("/admin/notifications/", {"notify_of_submissions": "on"})

    assert "you are emailed of every submission that needs review" in page
    assert 'name="notify_of_submissions"' not in page
    assert response.status_code == 403
    assert not User.objects.get(pk=practitioner.pk).notify_of_submissions


def test_the_page_says_when_no_email_can_reach_the_account(client):
    logged_in(client, member("lead", "Medical lead", email=""))

    page = client.get("/admin/notifications/").content.decode()

    assert "Your account has no email address" in page
    assert "only when treatment is not possible" in page


def test_the_notifications_page_needs_a_signed_in_member_of_staff(client):
    assert client.get("/admin/notifications/")["Location"].startswith("/admin/login/")
    client.force_login(member("prac", "Practitioner"))  # no second step yet

    assert client.get("/admin/notifications/")["Location"].startswith("/staff/two-factor/")
