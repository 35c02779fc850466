"""A practitioner corrects one of the patient's answers, with a reason, when the patient confirms
it was wrong: the answer given is kept and shown as corrected, the rules run again against the
submission's own version, and the correction is in the history (the audit log says only that an
answer was corrected)."""

import datetime
import html
import json

import pytest
import time_machine
from django.utils import timezone
from factories import (
    COLD_SORE,
    RECHECK_NOTHING_NEW,
    STAFF_PASSWORD,
    TODAY,
    logged_in,
    make_submission,
    page,
    record_plan,
    staff,
)

from intake.models import (
    AuditAction,
    AuditEntry,
    ChangeKind,
    ReviewStatus,
    Submission,
    SubmissionChange,
)
from intake.review import rechecks
from intake.review.decisions import (
    ConcurrentChange,
    DecisionRefused,
    RecordLocked,
    change_review_status,
    change_treatment_date,
    correct_answer,
)

pytestmark = pytest.mark.django_db

# The patient typed a last dose after the day they sent the questionnaire: the rules read it as
# still ongoing (not possible) and ask the practitioner to check the date.
LAST_DOSE_LATER = (TODAY + datetime.timedelta(days=20)).isoformat()
# What she confirms at consultation: about eight months before, inside the review band.
EIGHT_MONTHS_AGO = (TODAY - datetime.timedelta(days=240)).isoformat()
ISOTRETINOIN = {
    "isotretinoin_last_12_months": "yes",
    "isotretinoin_taking_now": "no",
    "isotretinoin_last_dose": LAST_DOSE_LATER,
}


def text(response) -> str:
    return html.unescape(response.content.decode())


def tiers(submission: Submission) -> dict[str, tuple[str, bool]]:
    return {
        flag.code: (flag.tier, flag.provisional)
        for flag in Submission.objects.get(pk=submission.pk).current_flags()
    }


def test_correcting_a_date_to_check_runs_the_rules_again_and_keeps_the_answer_given(version):
    submission = make_submission(version, ISOTRETINOIN)
    practitioner = staff("p", "Practitioner")
    [flag] = submission.current_flags()
    assert (flag.code, flag.tier) == ("oral_isotretinoin", "not_possible")
    assert flag.evidence[-1]["check_date"] is True

    assessment = correct_answer(
        submission,
        question_key="isotretinoin_last_dose",
        value=EIGHT_MONTHS_AGO,
        reason="She confirmed the last dose was in the spring; she mistyped the year",
        by=practitioner,
        revision=0,
    )

    # Eight months before the treatment date: the 6-12-month review band, need to know.
    assert tiers(submission) == {"oral_isotretinoin": ("need_to_know", False)}
    assert assessment.cause == ChangeKind.ANSWER and assessment.by == practitioner
    [evidence] = [e for e in assessment.flags.get().evidence if e["answer"] == EIGHT_MONTHS_AGO]
    assert not evidence.get("check_date")
    stored = Submission.objects.get(pk=submission.pk)
    assert stored.answers["isotretinoin_last_dose"] == LAST_DOSE_LATER  # as the patient gave it
    assert stored.corrected_answers()["isotretinoin_last_dose"] == EIGHT_MONTHS_AGO
    change = stored.changes.get(kind=ChangeKind.ANSWER)
    assert (change.subject, change.old, change.new, change.by) == (
        "isotretinoin_last_dose",
        LAST_DOSE_LATER,
        EIGHT_MONTHS_AGO,
        practitioner,
    )
    assert stored.revision == 1


def test_the_page_shows_the_answer_as_corrected_and_the_change_in_the_history(client, version):
    submission = make_submission(version, ISOTRETINOIN)
    logged_in(client, staff("p", "Practitioner"))
    typed = datetime.date.fromisoformat(EIGHT_MONTHS_AGO)

    chosen = client.get(page(submission) + "?correct=isotretinoin_last_dose")
    response = client.post(
        page(submission),
        {
            "answer_question": "isotretinoin_last_dose",
            "answer": f"{typed.day} {typed.month} {typed.year}",
            "answer_reason": "Confirmed at consultation",
            "revision": 0,
        },
    )
    shown = text(client.get(page(submission)))
    printed = text(client.get(f"/admin/intake/submission/{submission.pk}/print/"))

    assert chosen.status_code == 200
    assert 'name="answer_question" value="isotretinoin_last_dose"' in text(chosen)
    assert response.status_code == 302
    before = datetime.date.fromisoformat(LAST_DOSE_LATER)
    written_before = f"{before.day} {before:%B %Y}"
    written_after = f"{typed.day} {typed:%B %Y}"
    corrected = (
        f"Corrected from {written_before} to {written_after} by p on "
        f"{TODAY.day} {TODAY:%b %Y}: Confirmed at consultation"
    )
    for seen in (shown, printed):
        assert corrected in seen
        assert f"{written_before} → {written_after}" in seen  # the change history
        assert "Need to know" in seen
    assert "p corrected an answer (checked against" in shown


def test_a_correction_that_changes_the_flags_reopens_a_decided_review(version):
    submission = make_submission(version, {"acne_now": "a_few"})
    practitioner = staff("p", "Practitioner")
    change_review_status(
        submission,
        status="not_suitable",
        reason="Wants a different treatment",
        by=practitioner,
        revision=0,
    )

    correct_answer(
        submission,
        question_key="acne_now",
        value="lots_inflamed",
        reason="Flared up since she filled it in",
        by=practitioner,
        revision=1,
    )

    stored = Submission.objects.get(pk=submission.pk)
    assert tiers(stored) == {"active_acne": ("not_possible", False)}
    assert stored.review_status == ReviewStatus.IN_REVIEW
    reopened = stored.changes.filter(kind=ChangeKind.STATUS).order_by("-at", "-pk").first()
    assert (reopened.old, reopened.new, reopened.by) == ("not_suitable", "in_review", None)
    assert reopened.reason == "Reopened: the flags changed when an answer was corrected."


def test_a_signed_submission_is_reopened_before_an_answer_is_corrected(version):
    submission = make_submission(version, {"acne_now": "a_few"})
    practitioner = staff("p", "Practitioner")
    change_review_status(
        submission,
        status="cleared",
        reason="Few spots, fine",
        by=practitioner,
        revision=0,
        signature=STAFF_PASSWORD,
    )

    with pytest.raises(RecordLocked):
        correct_answer(
            submission,
            question_key="acne_now",
            value="lots_inflamed",
            reason="Flared up since she filled it in",
            by=practitioner,
            revision=1,
        )
    assert tiers(Submission.objects.get(pk=submission.pk)) == {
        "active_acne": ("need_to_know", False)
    }


def test_a_follow_up_the_correction_now_asks_is_listed_as_missing_until_answered(client, version):
    submission = make_submission(version, COLD_SORE)
    practitioner = staff("p", "Practitioner")
    logged_in(client, practitioner)
    recent = (TODAY - datetime.timedelta(days=3)).isoformat()

    correct_answer(
        submission,
        question_key="cold_sore_last_start",
        value=recent,
        reason="It was last week, not 2020",
        by=practitioner,
        revision=0,
    )

    # Whether it has healed is now asked, and unanswered: the rules cannot tell whether the cold
    # sore is still active, so the page says what to record and clearing waits for it.
    assert "cold_sore_active" not in tiers(submission)
    shown = text(client.get(page(submission)))
    assert "these questions are asked but not answered" in shown
    assert "<li>Has it completely healed — no blister, crust or scab?</li>" in shown
    assert "Asked after a correction: please ask the patient and record it." in shown
    with pytest.raises(DecisionRefused, match="cannot be cleared until the answers"):
        change_review_status(
            Submission.objects.get(pk=submission.pk),
            status="cleared",
            reason="Fine",
            by=practitioner,
            revision=1,
        )

    correct_answer(
        Submission.objects.get(pk=submission.pk),
        question_key="cold_sore_healed",
        value="no",
        reason="Still crusting",
        by=practitioner,
        revision=1,
    )

    assert tiers(submission)["cold_sore_active"] == ("not_possible", False)
    answered = SubmissionChange.objects.get(subject="cold_sore_healed")
    assert (answered.old, answered.new) == (None, "no")
    shown = text(client.get(page(submission)))
    assert "these questions are asked but not answered" not in shown
    assert "Corrected from not answered to No by p" in shown


def test_a_follow_up_the_correction_hides_is_dropped_from_the_rules(client, version):
    submission = make_submission(version, COLD_SORE)
    practitioner = staff("p", "Practitioner")
    logged_in(client, practitioner)

    correct_answer(
        submission,
        question_key="cold_sore_ever",
        value="no",
        reason="She was thinking of her sister",
        by=practitioner,
        revision=0,
    )

    assert "cold_sore_history" not in tiers(submission)
    shown = text(client.get(page(submission)))
    assert "No longer asked after a correction: the rules do not read it." in shown
    # A question no longer asked cannot be corrected either.
    with pytest.raises(DecisionRefused, match="questions this patient was asked"):
        correct_answer(
            submission,
            question_key="cold_sore_last_start",
            value="2021-05",
            reason="x",
            by=practitioner,
            revision=1,
        )


def test_a_later_date_change_keeps_the_correction(version):
    submission = make_submission(version, ISOTRETINOIN)
    practitioner = staff("p", "Practitioner")
    correct_answer(
        submission,
        question_key="isotretinoin_last_dose",
        value=EIGHT_MONTHS_AGO,
        reason="Confirmed",
        by=practitioner,
        revision=0,
    )

    change_treatment_date(
        submission,
        treatment_date=TODAY + datetime.timedelta(days=200),
        reason="Moved to the summer",
        by=practitioner,
        revision=1,
    )

    # Over a year after the corrected last dose by then: no flag, not the not-possible one
    # the original answer would raise.
    assert tiers(submission) == {}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("isotretinoin_last_dose", LAST_DOSE_LATER, "The question asks about the past"),
        ("acne_now", "somewhat", "not an answer this question takes"),
        ("date_of_birth", "1990-04-04", "questions this patient was asked"),
        ("no_such_question", "yes", "questions this patient was asked"),
        ("isotretinoin_last_dose", "", "Enter the corrected answer"),
    ],
)
def test_a_correction_is_checked_as_the_patients_answer_was(version, key, value, message):
    submission = make_submission(version, ISOTRETINOIN | {"acne_now": "none"})

    with pytest.raises(DecisionRefused, match=message):
        correct_answer(
            submission,
            question_key=key,
            value=value,
            reason="Confirmed",
            by=staff("p", "Practitioner"),
            revision=0,
        )

    assert not SubmissionChange.objects.exists()
    assert Submission.objects.get(pk=submission.pk).revision == 0


def test_a_correction_needs_a_reason_and_a_new_answer(version):
    submission = make_submission(version, {"acne_now": "a_few"})
    practitioner = staff("p", "Practitioner")

    with pytest.raises(DecisionRefused, match="reason"):
        correct_answer(
            submission, question_key="acne_now", value="none", reason=" ", by=practitioner,
            revision=0,
        )  # fmt: skip
    with pytest.raises(DecisionRefused, match="already the answer"):
        correct_answer(
            submission, question_key="acne_now", value="a_few", reason="x", by=practitioner,
            revision=0,
        )  # fmt: skip
    with pytest.raises(ConcurrentChange):
        correct_answer(
            submission, question_key="acne_now", value="none", reason="x", by=practitioner,
            revision=7,
        )  # fmt: skip
    assert not SubmissionChange.objects.exists()


def test_the_audit_log_records_the_correction_without_the_answers(version):
    submission = make_submission(version, ISOTRETINOIN)
    practitioner = staff("p", "Practitioner")

    correct_answer(
        submission,
        question_key="isotretinoin_last_dose",
        value=EIGHT_MONTHS_AGO,
        reason="Mistyped the year",
        by=practitioner,
        revision=0,
    )

    entry = AuditEntry.objects.get(action=AuditAction.ANSWER_CORRECTION)
    assert (entry.user, entry.submission) == (practitioner, submission)
    logged = json.dumps(list(AuditEntry.objects.values_list("detail", flat=True)))
    for private in ("isotretinoin", EIGHT_MONTHS_AGO, LAST_DOSE_LATER, "Mistyped"):
        assert private not in logged


def test_a_corrected_text_answer_and_its_reason_are_escaped_wherever_shown(client, version):
    attack = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    submission = make_submission(version, {"other_medicines": "Vitamin D"})
    practitioner = staff("p", "Practitioner")
    correct_answer(
        submission,
        question_key="other_medicines",
        value=attack,
        reason=attack,
        by=practitioner,
        revision=0,
    )
    logged_in(client, practitioner)

    for path in (page(submission), f"/admin/intake/submission/{submission.pk}/print/"):
        body = client.get(path).content.decode()
        assert "<script>alert(2)" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body


def test_a_plan_is_not_carried_over_when_an_answer_it_was_checked_against_is_corrected(version):

    submission = make_submission(version, COLD_SORE | {"kidney_problems": "no"})
    practitioner = staff("p", "Practitioner")
    flag = submission.current_flags().get(code="cold_sore_history")
    record_plan(flag, practitioner, note="Cover agreed")

    correct_answer(
        submission,
        question_key="kidney_problems",
        value="yes",
        reason="She has chronic kidney disease",
        by=practitioner,
        revision=1,
    )

    now = Submission.objects.get(pk=submission.pk).current_flags().get(code="cold_sore_history")
    assert now.tier == "need_to_know"
    assert not now.decisions.exists()  # the kidney check is to be done again


def test_a_plan_that_needs_recording_again_stops_clearing(version):

    from intake.models import FlagDecision
    from intake.review.decisions import DecisionRefused

    submission = make_submission(version, COLD_SORE)
    practitioner = staff("p", "Practitioner")
    flag = submission.current_flags().get(code="cold_sore_history")
    record_plan(flag, practitioner, note="Cover agreed")
    # As plans recorded with dates that could not be read were migrated.
    FlagDecision.objects.filter(flag=flag).update(
        antiviral_plan={"offered": True, "accepted": True, "needs_reentry": True}
    )

    with pytest.raises(DecisionRefused, match="not complete"):
        change_review_status(
            submission,
            status="cleared",
            reason="ok",
            by=practitioner,
            revision=1,
            signature=STAFF_PASSWORD,
        )


def test_a_correction_after_a_re_check_stands_over_the_re_checks_answer(version):
    """The patient ticked "pregnant" on the re-check by mistake and says so on the phone: the
    correction, the later of the two, is what the rules read."""
    now = timezone.now()
    submission = make_submission(
        version, dict(RECHECK_NOTHING_NEW), treatment_date=TODAY + datetime.timedelta(days=2)
    )
    with time_machine.travel(now + datetime.timedelta(minutes=1)):
        rechecks.record(
            submission,
            kind="before",
            answers=RECHECK_NOTHING_NEW | {"pregnant_or_breastfeeding": "yes"},
            extra={},
            by=None,
        )
    assert tiers(submission) == {"pregnancy_breastfeeding": ("not_possible", False)}
    revision = Submission.objects.get(pk=submission.pk).revision

    with time_machine.travel(now + datetime.timedelta(minutes=2)):
        correct_answer(
            submission,
            question_key="pregnant_or_breastfeeding",
            value="no",
            reason="Ticked by mistake on the re-check, she confirmed by phone",
            by=staff("p", "Practitioner"),
            revision=revision,
        )

    assert tiers(submission) == {}
    change = SubmissionChange.objects.get(submission=submission, kind=ChangeKind.ANSWER)
    # What was corrected is the re-check's answer, not the "no" first given.
    assert (change.old, change.new) == ("yes", "no")


def test_a_re_check_after_a_correction_replaces_the_corrected_answer(version):
    now = timezone.now()
    submission = make_submission(
        version, dict(RECHECK_NOTHING_NEW), treatment_date=TODAY + datetime.timedelta(days=2)
    )
    with time_machine.travel(now + datetime.timedelta(minutes=1)):
        correct_answer(
            submission,
            question_key="acne_now",
            value="lots_inflamed",
            reason="A flare she mentioned at consultation",
            by=staff("p", "Practitioner"),
            revision=0,
        )
    assert tiers(submission) == {"active_acne": ("not_possible", False)}

    with time_machine.travel(now + datetime.timedelta(minutes=2)):
        rechecks.record(submission, kind="before", answers=RECHECK_NOTHING_NEW, extra={}, by=None)

    # The flare has settled by the re-check, two days before the treatment.
    assert tiers(submission) == {}


def test_a_date_corrected_after_a_re_check_is_checked_against_the_re_checks_day(version):
    """Answers given at the re-check are about the days up to it: a last dose the patient
    remembers as five days ago is accepted, though it is after the questionnaire was sent."""
    now = timezone.now()
    submission = make_submission(
        version, dict(RECHECK_NOTHING_NEW), treatment_date=TODAY + datetime.timedelta(days=2)
    )
    Submission.objects.filter(pk=submission.pk).update(
        submitted_at=now - datetime.timedelta(days=10)
    )
    submission.refresh_from_db()
    started = RECHECK_NOTHING_NEW | {
        "isotretinoin_last_12_months": "yes",
        "isotretinoin_taking_now": "no",
        "isotretinoin_last_dose": (TODAY - datetime.timedelta(days=200)).isoformat(),
    }
    rechecks.record(submission, kind="before", answers=started, extra={}, by=None)
    five_days_ago = (TODAY - datetime.timedelta(days=5)).isoformat()
    practitioner = staff("p", "Practitioner")

    correct_answer(
        submission,
        question_key="isotretinoin_last_dose",
        value=five_days_ago,
        reason="She found the date on the box",
        by=practitioner,
        revision=Submission.objects.get(pk=submission.pk).revision,
    )

    change = SubmissionChange.objects.get(submission=submission, kind=ChangeKind.ANSWER)
    assert (change.old, change.new) == (started["isotretinoin_last_dose"], five_days_ago)
    # A date after the re-check's day is still refused, naming that day.
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    with pytest.raises(DecisionRefused, match="the day of the patient's latest re-check"):
        correct_answer(
            submission,
            question_key="isotretinoin_last_dose",
            value=tomorrow,
            reason="Typed the wrong year",
            by=practitioner,
            revision=Submission.objects.get(pk=submission.pk).revision,
        )
