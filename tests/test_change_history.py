"""Every change to a submission is kept with its value before and after and its reason, in a
history that lives (and goes) with the submission; the audit log keeps no health data."""

import datetime
import re

import pytest
from factories import ACCEPTED_PLAN, COLD_SORE, PREGNANT, TODAY, make_submission, record_plan, staff

from intake.models import AuditEntry, AuditLogIsAppendOnly, Submission, SubmissionChange
from intake.review.decisions import change_review_status, change_treatment_date, decide_flag

pytestmark = pytest.mark.django_db


def history(submission: Submission) -> list[tuple]:
    return [
        (c.kind, c.subject, c.old, c.new, c.reason, c.by)
        for c in submission.changes.order_by("at", "pk")
    ]


def test_a_status_change_keeps_the_old_status_the_new_and_why(version):
    submission = make_submission(version)
    practitioner = staff("p", "Practitioner")

    change_review_status(
        submission, status="in_review", reason="Calling her", by=practitioner, revision=0
    )

    assert history(submission) == [("status", "", "new", "in_review", "Calling her", practitioner)]


def test_a_date_change_keeps_both_dates_and_the_reason(version):
    submission = make_submission(version)
    before = submission.treatment_date
    later = TODAY + datetime.timedelta(days=40)
    practitioner = staff("p", "Practitioner")

    change_treatment_date(
        submission, treatment_date=later, reason="Moved by phone", by=practitioner, revision=0
    )

    assert history(submission) == [
        (
            "treatment_date",
            "",
            before.isoformat(),
            later.isoformat(),
            "Moved by phone",
            practitioner,
        )
    ]


def made_for(submission) -> dict:
    """ACCEPTED_PLAN as kept: with the treatment date it was made for."""
    return ACCEPTED_PLAN | {"planned_for": submission.treatment_date.isoformat()}


def test_a_decision_an_override_and_a_plan_are_each_kept(version):
    cold_sore = make_submission(version, COLD_SORE)
    pregnant = make_submission(version, PREGNANT)
    practitioner = staff("p", "Practitioner")
    lead = staff("lead", "Medical lead")
    flag = cold_sore.current_flags().get(code="cold_sore_history")

    record_plan(flag, practitioner, note="Discussed")
    decide_flag(
        pregnant.current_flags().get(),
        kind="overridden",
        note="Finished breastfeeding last week",
        by=lead,
        revision=0,
    )

    assert history(cold_sore) == [
        (
            "flag_decision",
            "cold_sore_history",
            None,
            {"kind": "acknowledged", "note": "Discussed"},
            "Discussed",
            practitioner,
        ),
        ("plan", "cold_sore_history", None, made_for(cold_sore), "Discussed", practitioner),
    ]
    [(kind, code, old, new, _, by)] = history(pregnant)
    assert (kind, code, old, by) == ("override", "pregnancy_breastfeeding", None, lead)
    assert new == {"kind": "overridden", "note": "Finished breastfeeding last week"}


def test_a_changed_plan_keeps_the_one_before(version):
    submission = make_submission(version, COLD_SORE)
    practitioner = staff("p", "Practitioner")
    flag = submission.current_flags().get(code="cold_sore_history")
    record_plan(flag, practitioner, note="First")
    declined = {"offered": True, "accepted": False, "risk_discussion": "Will call if tingling"}

    decide_flag(
        flag,
        kind="acknowledged",
        note="Changed her mind",
        by=practitioner,
        revision=1,
        antiviral_plan=declined,
    )

    plans = [(old, new) for kind, _, old, new, _, _ in history(submission) if kind == "plan"]
    assert plans[-1] == (
        made_for(submission),
        declined | {"planned_for": made_for(submission)["planned_for"]},
    )


def test_the_history_holds_health_data_so_the_audit_log_does_not(version):
    submission = make_submission(version, PREGNANT)
    lead = staff("lead", "Medical lead")

    decide_flag(
        submission.current_flags().get(),
        kind="overridden",
        note="Not pregnant",
        by=lead,
        revision=0,
    )

    entries = list(
        AuditEntry.objects.filter(submission=submission).values_list("detail", flat=True)
    )
    assert "pregnancy" not in str(entries)
    assert "Not pregnant" not in str(entries)


def test_the_history_goes_with_its_submission_and_is_never_changed(version):
    submission = make_submission(version)
    practitioner = staff("p", "Practitioner")
    change_review_status(submission, status="in_review", reason="x", by=practitioner, revision=0)
    change = submission.changes.get()

    with pytest.raises(AuditLogIsAppendOnly):
        change.reason = "something else"
        change.save()
    Submission.objects.filter(pk=submission.pk).delete()

    assert SubmissionChange.objects.count() == 0


# The history as people read it, where the submission itself is shown


def test_the_page_and_the_print_view_show_each_change_in_words(client, version):
    import html

    from factories import logged_in, page

    from intake.review.decisions import correct_answer

    submission = make_submission(version, COLD_SORE)
    practitioner = staff("p", "Practitioner")
    before = submission.treatment_date
    later = TODAY + datetime.timedelta(days=40)
    flag = submission.current_flags().get(code="cold_sore_history")
    change_review_status(
        submission, status="in_review", reason="Calling her", by=practitioner, revision=0
    )
    record_plan(flag, practitioner, note="Discussed")
    change_treatment_date(
        submission, treatment_date=later, reason="Moved by phone", by=practitioner, revision=2
    )
    correct_answer(
        submission,
        question_key="cold_sore_last_start",
        value="2021-05",
        reason="It was 2021",
        by=practitioner,
        revision=3,
    )
    logged_in(client, practitioner)

    shown = html.unescape(client.get(page(submission)).content.decode())
    printed = html.unescape(
        client.get(f"/admin/intake/submission/{submission.pk}/print/").content.decode()
    )

    def written(day: datetime.date) -> str:
        return f"{day.day} {day:%B %Y}"

    for text in (shown, printed):
        history = " ".join(
            re.sub(r"<[^>]+>", " ", text[text.index('id="changes-heading"') :]).split()
        )
        assert "Review status : New → In review" in history
        assert f"Treatment date : {written(before)} → {written(later)}" in history
        assert "Flag decision on cold_sore_history : none → Acknowledged" in history
        assert "drug: valaciclovir" in history
        assert "offered: yes; accepted: yes" in history
        assert "Answer to “When did your last one start?” : May 2020 → May 2021" in history
        assert ", p – It was 2021" in history
    # Newest first.
    assert shown.index("May 2020 → May 2021") < shown.index("New → In review")


def test_the_history_has_no_page_of_its_own(client, version):
    from factories import logged_in

    logged_in(client, staff("admin", superuser=True))

    assert client.get("/admin/intake/submissionchange/").status_code == 404


def test_the_audit_log_says_what_was_done_without_the_values(version):
    from intake.review.decisions import correct_answer

    submission = make_submission(version, COLD_SORE)
    practitioner = staff("p", "Practitioner")
    later = TODAY + datetime.timedelta(days=40)
    change_review_status(
        submission, status="in_review", reason="Calling her", by=practitioner, revision=0
    )
    record_plan(
        submission.current_flags().get(code="cold_sore_history"),
        practitioner,
        note="Discussed at length",
    )
    change_treatment_date(
        submission, treatment_date=later, reason="Moved by phone", by=practitioner, revision=2
    )
    correct_answer(
        submission,
        question_key="cold_sore_last_start",
        value="2021-05",
        reason="It was 2021",
        by=practitioner,
        revision=3,
    )

    entries = AuditEntry.objects.filter(submission=submission)
    assert {e.action for e in entries} == {
        "review",
        "acknowledge",
        "date_change",
        "answer_correction",
    }
    details = str(list(entries.values_list("detail", flat=True)))
    assert all(e.user == practitioner for e in entries)
    for value in ("2020-05", "2021-05", "cold_sore", "valaciclovir", "Discussed", "Moved", "2021"):
        assert value not in details
    assert "old" not in details and "new" not in details


# The history is the patient's data: in their copy, and gone with the submission


def test_a_subject_access_copy_holds_the_history(version):
    from django.utils import timezone

    from intake.models import PatientRecords
    from intake.records.subject_access import patient_data
    from intake.review.decisions import correct_answer

    submission = make_submission(version, COLD_SORE)
    practitioner = staff("p", "Practitioner")
    change_review_status(
        submission, status="in_review", reason="Calling her", by=practitioner, revision=0
    )
    correct_answer(
        submission,
        question_key="cold_sore_last_start",
        value="2021-05",
        reason="It was 2021",
        by=practitioner,
        revision=1,
    )

    data = patient_data(PatientRecords.for_email("ann@example.com"), exported_at=timezone.now())

    [copy] = data["submissions"]
    assert [
        (c["what"], c["before"], c["after"], c["reason"], c["by"]) for c in copy["changes"]
    ] == [
        ("Review status", "New", "In review", "Calling her", "p"),
        ("Answer to “When did your last one start?”", "May 2020", "May 2021", "It was 2021", "p"),
    ]
    assert copy["changes"][1]["old"] == "2020-05" and copy["changes"][1]["new"] == "2021-05"
    # The answers themselves are as the patient gave them.
    assert {"question": "When did your last one start?", "answer": "May 2020"}.items() <= next(
        row for row in copy["answers"] if row["question"] == "When did your last one start?"
    ).items()


def test_erasure_deletes_the_history_with_the_submission(version):
    from django.utils import timezone

    from intake.models import PatientRecords
    from intake.models.data_requests import erase

    ann = make_submission(version)
    zed = make_submission(version, email="zed@example.com")
    practitioner = staff("p", "Practitioner")
    for submission in (ann, zed):
        change_review_status(
            submission, status="in_review", reason="x", by=practitioner, revision=0
        )

    erase(PatientRecords.for_email("ann@example.com"), by=practitioner, at=timezone.now())

    assert [c.submission for c in SubmissionChange.objects.all()] == [zed]


def test_retention_deletes_the_history_with_the_submission(version):
    from intake.records.retention import purge_expired, years_before

    due = make_submission(
        version, treatment_date=years_before(TODAY, 8) - datetime.timedelta(days=1)
    )
    kept = make_submission(version)
    practitioner = staff("p", "Practitioner")
    for submission in (due, kept):
        change_review_status(
            submission, status="in_review", reason="x", by=practitioner, revision=0
        )

    purge_expired()

    assert [c.submission for c in SubmissionChange.objects.all()] == [kept]
