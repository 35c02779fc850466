"""The one write path for patients' answers: start a draft, stop one the question set's
eligibility rules exclude, and submit a questionnaire."""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from intake import published
from intake.models import (
    Draft,
    Flag,
    IneligibleAttempt,
    Invitation,
    QuestionSetVersion,
    ReCheck,
    Submission,
)
from intake.questionnaire import PatientDetails, Step
from intake.review.rechecks import record as record_recheck
from intake.rules import DATE_OF_BIRTH, RaisedFlag, check_answers, evaluate
from intake.tasks import NOTIFY_TIERS, queue_notice

logger = logging.getLogger(__name__)


class IncompleteQuestionnaire(Exception):
    """A required answer is missing or invalid; `step` is where the patient can put it right."""

    def __init__(self, step: Step) -> None:
        self.step = step
        super().__init__(f"Step {step.number} ({step.title}) needs attention.")


class InvitationAlreadyUsed(Exception):
    """The invitation has already been used for a submission."""


def start_draft(
    version: QuestionSetVersion,
    *,
    now: datetime.datetime,
    invitation: Invitation | None = None,
    treatment_date: datetime.date | None = None,
) -> tuple[Draft, str]:
    """Create a draft for a new questionnaire; returns it and its "continue later" token."""
    draft = Draft(
        version=version,
        invitation=invitation,
        treatment_date=invitation.treatment_date if invitation else treatment_date,
        expires_at=now + datetime.timedelta(days=settings.DRAFT_DAYS),
    )
    if invitation is not None:
        # What the clinic already knows, for the patient to confirm on the details step.
        draft.details = {"full_name": invitation.patient_name, "email": invitation.email}
    token = draft.issue_resume_token()
    draft.save()
    return draft, token


def stop_ineligible(draft: Draft, stopped: tuple[RaisedFlag, ...]) -> bool:
    """Forget a draft whose patient the question set's eligibility rules exclude (under 18, say):
    their details and any answers go, and only that someone was stopped, and why, is kept
    (`IneligibleAttempt`: the day, the version, the flag code, the invitation if any).

    Returns False, changing nothing, when the draft is no longer there to forget: submitted
    meanwhile from another tab (what was sent stays with the clinic), or already forgotten.
    """
    with transaction.atomic():
        locked = (
            Draft.objects.select_for_update()
            .filter(pk=draft.pk, submission__isnull=True)
            .only("pk")
            .first()
        )
        if locked is None:
            return False
        for flag in stopped:
            IneligibleAttempt.objects.create(
                version_id=draft.version_id, flag=flag.code, invitation_id=draft.invitation_id
            )
        locked.delete()
    return True


class _DraftChanged(Exception):
    """The draft changed after the caller read it (another tab saved a step, or submitted)."""


def submit_questionnaire(
    draft_id: uuid.UUID,
    *,
    consent_name: str,
    now: datetime.datetime,
    read: Draft | None = None,
) -> Submission:
    """Store the submission, its answers and its flags in one transaction; idempotent.

    Submitting a draft that was already submitted (a double click, a refreshed POST, Back and
    Submit again) returns the submission made the first time.

    `read`: the draft as the caller has just read it, which spares reading it again. The draft is
    only marked submitted if it has not changed since; otherwise that transaction is rolled back
    and the submission is made again from the draft read afresh, under lock.
    """
    if read is not None and read.submission_id is None:
        try:
            with transaction.atomic():
                return _submit(read, consent_name=consent_name, now=now, locked=False)
        except _DraftChanged:
            pass
    try:
        with transaction.atomic():
            # Only the draft is locked (not the version every patient shares), and the version's
            # large definition is not loaded: its parsed form is cached per process.
            draft = Draft.objects.for_patient(draft_id, lock=True)
            if draft is None:
                raise Draft.DoesNotExist(f"No draft {draft_id}.")
            return _submit(draft, consent_name=consent_name, now=now, locked=True)
    except _DraftChanged:
        # Only where the database cannot lock a row (SQLite): another request submitted it first.
        return Submission.objects.get(draft__pk=draft_id)


def _submit(draft: Draft, *, consent_name: str, now: datetime.datetime, locked: bool) -> Submission:
    if draft.submission_id is not None:
        return Submission.objects.get(pk=draft.submission_id)
    if draft.invitation_id is not None:
        # Lock the invitation too: two drafts from one link must not both be submitted.
        invitation = Invitation.objects.select_for_update().get(pk=draft.invitation_id)
        if invitation.submissions.exists():
            raise InvitationAlreadyUsed
    questionnaire = published.questionnaire(draft.version)
    definition = questionnaire.definition
    submitted_on = timezone.localdate(now)
    problems = check_answers(definition, draft.answers, submitted_on=submitted_on)
    evaluation = evaluate(
        definition,
        draft.answers,
        submitted_on=submitted_on,
        reference_date=draft.treatment_date,
    )
    for problem in problems:
        if problem.kind == "question" and problem.key in definition.questions:
            raise IncompleteQuestionnaire(questionnaire.step_of_question(problem.key))
    unknown = [problem for problem in problems if problem.code == "unknown_question"]
    if unknown:
        # No step asks them, so the patient could not put them right: they are left out, and
        # said so (the count only: a key can say something about the patient's health).
        logger.warning(
            "answers to unknown questions left out",
            extra={"draft": str(draft.pk), "count": len(unknown)},
        )
    for key in evaluation.unanswered:
        raise IncompleteQuestionnaire(questionnaire.step_of_question(key))
    details = PatientDetails.from_stored(draft.details)
    if details is None:
        raise IncompleteQuestionnaire(questionnaire.step_of_question(DATE_OF_BIRTH))

    submission = Submission(
        version=draft.version,
        invitation_id=draft.invitation_id,
        patient_name=details.full_name,
        date_of_birth=details.date_of_birth,
        email=details.email,
        phone=details.phone,
        answers=evaluation.answers,
        submitted_at=now,
        treatment_date=draft.treatment_date,
        consent_name=consent_name,
        consented_at=now,
    )
    submission.record_assessment(
        evaluation, reference_date=draft.treatment_date or submitted_on, at=now
    )
    # The submission now holds the answers; the draft keeps only what idempotency needs. It is
    # marked only if not submitted meanwhile and, unless locked, only as it was read: otherwise
    # all this is undone.
    unchanged = Draft.objects.filter(pk=draft.pk, submission__isnull=True)
    if not locked:
        unchanged = unchanged.filter(updated_at=draft.updated_at)
    if not unchanged.update(submission=submission, answers={}, details={}, updated_at=now):
        raise _DraftChanged
    if submission.outcome in NOTIFY_TIERS:
        queue_notice(str(submission.pk))
    return submission


class ReCheckAlreadyAnswered(Exception):
    """The re-check's link has been used: it works once."""


def answer_recheck(
    recheck: ReCheck, *, answers: dict[str, Any], extra: dict[str, Any]
) -> list[Flag]:
    """Store the patient's answers to their re-check before treatment, once, and run the rules
    again with them; returns the not-possible flags they newly raised.

    The link works once: the re-check's row is locked and checked unanswered in the same
    transaction, so that two tabs posting at once store one set of answers.
    """
    with transaction.atomic():
        locked = ReCheck.objects.select_for_update().filter(pk=recheck.pk).first()
        if locked is None or locked.answered_at is not None:
            raise ReCheckAlreadyAnswered
        _, raised = record_recheck(
            locked.submission,
            kind=locked.kind,
            answers=answers,
            extra=extra,
            by=None,
            recheck=locked,
        )
    return raised
