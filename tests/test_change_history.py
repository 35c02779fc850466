"""Every change to a submission is kept with its value before and after and its reason, in a
history that lives (and goes) with the submission; the audit log keeps no health data."""

import datetime

import pytest
from factories import ACCEPTED_PLAN, CLINIC_TODAY, COLD_SORE, PREGNANT, make_submission, staff

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
    later = CLINIC_TODAY + datetime.timedelta(days=40)
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

    decide_flag(
        flag,
        kind="acknowledged",
        note="Discussed",
        by=practitioner,
        revision=0,
        antiviral_plan=ACCEPTED_PLAN,
    )
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
    decide_flag(
        flag,
        kind="acknowledged",
        note="First",
        by=practitioner,
        revision=0,
        antiviral_plan=ACCEPTED_PLAN,
    )
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
