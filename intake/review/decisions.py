"""Practitioners' decisions on a submission: review status, flag acknowledgements and overrides.

Each decision is checked against the revision the practitioner was looking at, so that when two
people change the same submission at once the second is refused instead of overwriting the first.
Every decision is audited (who did what, no health data), and every change is kept in the
submission's history with its value before and after and its reason (`SubmissionChange`).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from intake import published
from intake.models import (
    Assessment,
    AuditAction,
    AuditEntry,
    ChangeKind,
    Flag,
    FlagDecision,
    ReviewEvent,
    ReviewStatus,
    Submission,
    SubmissionChange,
    User,
)
from intake.models.reviews import CLEARING
from intake.questionnaire import DATE_OF_BIRTH
from intake.rules import (
    ANTIVIRAL_PLAN,
    DEFAULT_MAX_LENGTH,
    PLAN_KINDS,
    Definition,
    QuestionSpec,
    Tier,
    check_answers,
    evaluate,
    is_unanswered,
    visible_questions,
)


class DecisionRefused(Exception):
    """The decision breaks a rule of the review; the message says which, for the practitioner."""


class ConcurrentChange(DecisionRefused):
    """Someone else changed the submission since this practitioner loaded it."""

    def __init__(self) -> None:
        super().__init__(
            "Someone else has changed this submission since you opened it. Nothing was saved: "
            "please look at their changes and try again."
        )


def standing_not_possible(submission: Submission) -> list[Flag]:
    """Current not-possible flags that no one with the authority has overridden."""
    return list(
        submission.current_flags()
        .filter(tier=Tier.NOT_POSSIBLE)
        .exclude(decisions__kind=FlagDecision.OVERRIDDEN)
    )


def record_change(
    submission: Submission,
    kind: str,
    *,
    old: Any,
    new: Any,
    reason: str,
    by: User | None,
    subject: str = "",
) -> SubmissionChange:
    """Keep one change in the submission's history: before, after, why, who."""
    return SubmissionChange.objects.create(
        submission=submission,
        kind=kind,
        subject=subject,
        old=old,
        new=new,
        reason=reason,
        by=by,
        at=timezone.now(),
    )


def _claim(submission: Submission, revision: int, **changes: Any) -> None:
    """Apply `changes` only if the submission is still at `revision`; bump the revision."""
    updated = Submission.objects.filter(pk=submission.pk, revision=revision).update(
        revision=F("revision") + 1, **changes
    )
    if not updated:
        raise ConcurrentChange
    submission.refresh_from_db()


@transaction.atomic
def change_review_status(
    submission: Submission,
    *,
    status: str,
    reason: str,
    by: User,
    revision: int,
    rebook_after: datetime.date | None = None,
) -> ReviewEvent:
    """Move the review on (new → in review → a decision), recording who, when and why."""
    if status not in ReviewStatus.values:
        raise DecisionRefused("Choose a review status from the list.")
    if not reason.strip():
        raise DecisionRefused("Please give a reason for the change.")
    if status == ReviewStatus.NEW:
        raise DecisionRefused("A review cannot go back to new; choose in review to reopen it.")
    if status == ReviewStatus.DEFERRED and rebook_after is None:
        raise DecisionRefused("A deferral needs the earliest date the patient can rebook.")
    if status in CLEARING:
        unanswered = asked_after_corrections(
            published.questionnaire(submission.version).definition,
            submission,
            submission.corrected_answers(),
        )
        if unanswered:
            raise DecisionRefused(
                "This submission cannot be cleared until the answers a correction made "
                "necessary are recorded: " + "; ".join(q.text for q in unanswered)
            )
        standing = standing_not_possible(submission)
        if standing:
            codes = ", ".join(flag.code for flag in standing)
            raise DecisionRefused(
                f"This submission cannot be cleared while a not-possible flag stands ({codes}). "
                "Only the medical lead can override it, with a reason."
            )
        # Flags whose version declares a plan need it recorded (a not-possible one is overridden
        # instead, which the check above covers).
        undecided = (
            submission.current_flags()
            .filter(declarations__has_key="plan")
            .exclude(tier=Tier.NOT_POSSIBLE)
            .exclude(decisions__isnull=False)
        )
        if undecided.exists():
            missing = list(undecided)
            raise DecisionRefused(
                "Record the "
                + " and the ".join(sorted({PLAN_KINDS.get(f.plan, "plan") for f in missing}))
                + " on "
                + ", ".join(flag.code for flag in missing)
                + " before clearing this submission."
            )
    before = submission.review_status
    _claim(
        submission,
        revision,
        review_status=status,
        reviewer=by,
        rebook_after=rebook_after if status == ReviewStatus.DEFERRED else None,
    )
    record_change(
        submission,
        ChangeKind.STATUS,
        old=before,
        new=status,
        reason=reason,
        by=by,
    )
    event = ReviewEvent.objects.create(
        submission=submission, status=status, reason=reason, rebook_after=rebook_after, by=by
    )
    AuditEntry.record(by, AuditAction.REVIEW, submission, status=status)
    return event


@transaction.atomic
def decide_flag(
    flag: Flag,
    *,
    kind: str,
    note: str,
    by: User,
    revision: int,
    antiviral_plan: dict[str, Any] | None = None,
) -> FlagDecision:
    """Acknowledge a flag with a note, or override it (a not-possible flag needs the authority)."""
    submission = flag.assessment.submission
    if not note.strip():
        raise DecisionRefused("Please write a note (for an override, the reason).")
    if kind == FlagDecision.OVERRIDDEN:
        if flag.tier != Tier.NOT_POSSIBLE:
            raise DecisionRefused("Only not-possible flags are overridden; acknowledge this one.")
        if not by.has_perm("intake.override_not_possible"):
            raise DecisionRefused("Only the medical lead can override a not-possible flag.")
    elif kind != FlagDecision.ACKNOWLEDGED:
        raise DecisionRefused("Choose to acknowledge or override the flag.")
    with_plan = kind == FlagDecision.ACKNOWLEDGED and flag.plan == ANTIVIRAL_PLAN
    if with_plan:
        _check_antiviral_plan(antiviral_plan)
    _claim(submission, revision)
    previous = flag.decisions.order_by("-at", "-pk").first()
    decision = FlagDecision.objects.create(
        flag=flag,
        kind=kind,
        note=note,
        antiviral_plan=antiviral_plan if with_plan else None,
        by=by,
        at=timezone.now(),
    )
    record_change(
        submission,
        ChangeKind.OVERRIDE if kind == FlagDecision.OVERRIDDEN else ChangeKind.FLAG_DECISION,
        subject=flag.code,
        old={"kind": previous.kind, "note": previous.note} if previous else None,
        new={"kind": kind, "note": note},
        reason=note,
        by=by,
    )
    if with_plan or (previous is not None and previous.antiviral_plan):
        old_plan = previous.antiviral_plan if previous else None
        new_plan = antiviral_plan if with_plan else None
        if old_plan != new_plan:
            record_change(
                submission,
                ChangeKind.PLAN,
                subject=flag.code,
                old=old_plan,
                new=new_plan,
                reason=note,
                by=by,
            )
    action = AuditAction.OVERRIDE if kind == FlagDecision.OVERRIDDEN else AuditAction.ACKNOWLEDGE
    # The flag's id, not its code: a code such as "pregnancy_breastfeeding" is health data.
    AuditEntry.record(by, action, submission, flag_id=flag.pk)
    return decision


def _check_antiviral_plan(plan: dict[str, Any] | None) -> None:
    """The antiviral plan, for flags whose version declares it (screening specification §4.4)."""
    if not plan:
        raise DecisionRefused("This flag needs the antiviral plan recorded first.")
    if plan.get("offered") is None:
        raise DecisionRefused("Record whether antiviral cover was offered.")
    if plan.get("offered"):
        if plan.get("accepted") is None:
            raise DecisionRefused("Record whether the patient accepted antiviral cover.")
        if plan.get("accepted"):
            missing = [
                label
                for name, label in (
                    ("drug", "drug"),
                    ("dose", "dose"),
                    ("start_date", "start date"),
                    ("end_date", "end date"),
                    ("prescriber", "prescriber's name"),
                )
                if not plan.get(name)
            ]
            if missing:
                raise DecisionRefused("The antiviral plan needs the " + ", ".join(missing) + ".")
            if plan["end_date"] < plan["start_date"]:
                raise DecisionRefused("The antiviral course cannot end before it starts.")
        elif not plan.get("risk_discussion"):
            raise DecisionRefused(
                "Cover was declined: record the discussion of the risk and your decision."
            )


@transaction.atomic
def change_treatment_date(
    submission: Submission,
    *,
    treatment_date: datetime.date | None,
    reason: str,
    by: User,
    revision: int,
) -> Assessment:
    """Set a new treatment date and run the rules again against the pinned version.

    The new flags become current; the previous assessment and its decisions stay as history.
    """
    if not reason.strip():
        raise DecisionRefused("Please give a reason for the change of date.")
    if treatment_date == submission.treatment_date:
        raise DecisionRefused("That is already the treatment date.")
    old_date = submission.treatment_date
    _claim(submission, revision, treatment_date=treatment_date)
    record_change(
        submission,
        ChangeKind.TREATMENT_DATE,
        old=old_date.isoformat() if old_date else None,
        new=treatment_date.isoformat() if treatment_date else None,
        reason=reason,
        by=by,
    )
    assessment = _check_again(submission, by=by, reason=reason, cause=ChangeKind.TREATMENT_DATE)
    AuditEntry.record(
        by,
        AuditAction.DATE_CHANGE,
        submission,
        treatment_date=treatment_date.isoformat() if treatment_date else None,
    )
    return assessment


# Why a review that had been decided is open again, by what made the rules run again.
_REOPENED = {
    ChangeKind.TREATMENT_DATE: "Reopened: the flags changed when the treatment date changed.",
    ChangeKind.ANSWER: "Reopened: the flags changed when an answer was corrected.",
}


def _check_again(submission: Submission, *, by: User, reason: str, cause: str) -> Assessment:
    """Run the rules again on the answers as corrected, against the submission's own version and
    its treatment date, and record the result as the current assessment.

    The previous assessment and its decisions stay as history. A review already decided opens
    again when the flags changed: a decision made on other flags no longer stands.
    """
    evaluation = evaluate(
        published.questionnaire(submission.version).definition,
        submission.corrected_answers(),
        submitted_on=submission.submitted_on,
        reference_date=submission.treatment_date,
    )
    before = list(submission.current_flags())
    assessment = submission.record_assessment(
        evaluation, reference_date=submission.reference_date, by=by, reason=reason, cause=cause
    )
    decided = submission.review_status not in (ReviewStatus.NEW, ReviewStatus.IN_REVIEW)
    if decided and flag_changes(before, list(assessment.flags.all())):
        reopened = _REOPENED[ChangeKind(cause)]
        Submission.objects.filter(pk=submission.pk).update(review_status=ReviewStatus.IN_REVIEW)
        ReviewEvent.objects.create(
            submission=submission, status=ReviewStatus.IN_REVIEW, reason=reopened, by=by
        )
        record_change(
            submission,
            ChangeKind.STATUS,
            old=submission.review_status,
            new=ReviewStatus.IN_REVIEW,
            reason=reopened,
            by=None,
        )
        submission.refresh_from_db()
    return assessment


def asked_after_corrections(
    definition: Definition,
    submission: Submission,
    answers: dict[str, Any],
) -> list[QuestionSpec]:
    """Required questions that corrections (`answers`: as corrected) made the patient's
    questionnaire ask, still without an answer, in the order the patient would see them.

    The rules read a missing answer as no answer, so the flags that depend on these cannot be
    known until a practitioner records them (as corrections too).
    """
    if answers == submission.answers:
        return []
    asked_now, asked_before = (
        visible_questions(
            definition,
            given,
            submitted_on=submission.submitted_on,
            reference_date=submission.treatment_date,
        )
        for given in (answers, submission.answers)
    )
    return [
        question
        for section in definition.sections
        for question in section.questions
        if question.required
        and question.key in asked_now
        and question.key not in asked_before
        and is_unanswered(answers.get(question.key))
    ]


def correctable_questions(submission: Submission) -> list[QuestionSpec]:
    """The questions whose answers a practitioner may correct, in the order the patient saw them:
    those the patient is asked given the answers as corrected so far (a follow-up a correction
    reveals included), their personal details apart."""
    definition = published.questionnaire(submission.version).definition
    shown = visible_questions(
        definition,
        submission.corrected_answers(),
        submitted_on=submission.submitted_on,
        reference_date=submission.treatment_date,
    )
    return [
        question
        for section in definition.sections
        for question in section.questions
        if question.key in shown and question.key != DATE_OF_BIRTH
    ]


@transaction.atomic
def correct_answer(
    submission: Submission,
    *,
    question_key: str,
    value: Any,
    reason: str,
    by: User,
    revision: int,
) -> Assessment:
    """Correct one of the patient's answers, as the patient confirmed it, and run the rules again.

    The answer the patient gave is kept (`Submission.answers` never changes); the correction is
    in the submission's history, with the answer before it, and applies on top from then on.
    `value` is in the engine's answer format, as the patient's form would have sent it.
    """
    if not reason.strip():
        raise DecisionRefused("Please give a reason for the correction.")
    question = next((q for q in correctable_questions(submission) if q.key == question_key), None)
    if question is None:
        raise DecisionRefused("Choose one of the questions this patient was asked.")
    if is_unanswered(value):
        raise DecisionRefused("Enter the corrected answer.")
    definition = published.questionnaire(submission.version).definition
    problems = check_answers(
        definition, {question_key: value}, submitted_on=submission.submitted_on
    )
    if problems:
        raise DecisionRefused(_problem_in_words(problems[0].code, question, submission))
    old = submission.corrected_answers().get(question_key)
    if old == value:
        raise DecisionRefused("That is already the answer.")
    _claim(submission, revision)
    change = record_change(
        submission,
        ChangeKind.ANSWER,
        subject=question_key,
        old=old,
        new=value,
        reason=reason,
        by=by,
    )
    assessment = _check_again(submission, by=by, reason=reason, cause=ChangeKind.ANSWER)
    # Which change, not which question or answer: those are health data, kept in the history.
    AuditEntry.record(by, AuditAction.ANSWER_CORRECTION, submission, change_id=change.pk)
    return assessment


def _problem_in_words(code: str, question: QuestionSpec, submission: Submission) -> str:
    """What the engine's answer check found wrong with a corrected answer, for the practitioner."""
    sent = f"{submission.submitted_on.day} {submission.submitted_on:%B %Y}"
    if code == "date_after_submission":
        return (
            f"The question asks about the past: the date cannot be after {sent}, the day the "
            "patient sent the questionnaire."
        )
    if code == "date_before_submission":
        return (
            f"The question asks about the future: the date cannot be before {sent}, the day the "
            "patient sent the questionnaire."
        )
    if code == "month_year_not_allowed":
        return "This question needs a full date: day, month and year."
    if code == "not_sure_not_allowed":
        return "This question does not take “not sure” for an answer."
    if code == "out_of_range":
        return (
            f"The number must be between {question.min} and {question.max}."
            if question.min is not None and question.max is not None
            else f"The number must be at least {question.min}."
            if question.min is not None
            else f"The number must be at most {question.max}."
        )
    if code == "too_long":
        limit = question.max_length or DEFAULT_MAX_LENGTH.get(question.type)
        return f"The answer is too long: the limit is {limit} characters."
    return "That is not an answer this question takes."


def flag_changes(before: list[Flag], after: list[Flag]) -> list[str]:
    """What a re-evaluation changed, in words: "oral_isotretinoin: Not possible → Need to know"."""
    old = {flag.code: flag.get_tier_display() for flag in before}
    new = {flag.code: flag.get_tier_display() for flag in after}
    changes = []
    for code in sorted(old.keys() | new.keys()):
        if old.get(code) != new.get(code):
            changes.append(f"{code}: {old.get(code, 'no flag')} → {new.get(code, 'no flag')}")
    return changes
