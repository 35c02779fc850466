"""Practitioners' decisions on a submission: review status, flag acknowledgements and overrides.

Each decision is checked against the revision the practitioner was looking at, so that when two
people change the same submission at once the second is refused instead of overwriting the first.
Every decision is audited (who did what, no health data), and every change is kept in the
submission's history with its value before and after and its reason (`SubmissionChange`).

Clearing a submission is signed (`Signature`, with the practitioner's password or a fresh
authenticator code) and locks it: every decision starts with `ensure_unlocked`, and nothing
changes until someone reopens it with a reason (`reopen`), or a re-evaluation that changes its
flags reopens it (`reopen_after_reevaluation`, the one way any re-evaluation does).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
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
    ReCheck,
    ReviewEvent,
    ReviewStatus,
    Signature,
    Submission,
    SubmissionChange,
    User,
)
from intake.models.reviews import CLEARING
from intake.review import plans
from intake.review.notifications import notify_if_raised
from intake.review.signing import SigningRefused, confirm_signer
from intake.rules import (
    ANTIVIRAL_PLAN,
    DATE_OF_BIRTH,
    DEFAULT_MAX_LENGTH,
    PLAN_KINDS,
    Definition,
    Evaluation,
    QuestionSpec,
    Tier,
    check_answers,
    evaluate,
    is_unanswered,
    visible_questions,
)


class DecisionRefused(Exception):
    """The decision breaks a rule of the review; the message says which, for the practitioner.

    `problems`: where the fault lies with particular fields, each one's message by field name.
    """

    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or {}


class ConcurrentChange(DecisionRefused):
    """Someone else changed the submission since this practitioner loaded it."""

    def __init__(self) -> None:
        super().__init__(
            "Someone else has changed this submission since you opened it. Nothing was saved: "
            "please look at their changes and try again."
        )


class RecordLocked(DecisionRefused):
    """The submission is signed and locked: it has to be reopened, with a reason, first."""

    def __init__(self) -> None:
        super().__init__(
            "This submission is signed and locked. Nothing was changed: to change it, reopen it "
            "first with the reason."
        )


class SignatureRefused(DecisionRefused):
    """Clearing needs the practitioner's signature, and it was missing or wrong."""


def ensure_unlocked(submission: Submission) -> None:
    """Refuse any change to a signed submission: the check every decision makes first.

    Read from the database, not from the object in hand, which may have been loaded before
    someone signed.
    """
    locked = Submission.objects.filter(pk=submission.pk).values_list("locked", flat=True).first()
    if locked:
        raise RecordLocked


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


def change_review_status(
    submission: Submission,
    *,
    status: str,
    reason: str,
    by: User,
    revision: int,
    rebook_after: datetime.date | None = None,
    signature: str = "",
) -> ReviewEvent:
    """Move the review on (new → in review → a decision), recording who, when and why.

    Clearing (`CLEARING`) is signed: `signature` is the practitioner's password or a fresh code
    from their authenticator app. It records a `Signature` and locks the submission.
    """
    if status == ReviewStatus.TREATED:
        return mark_treated(submission, reason=reason, by=by, revision=revision)
    ensure_unlocked(submission)
    _refuse_if_treated(submission)
    if status not in ReviewStatus.values:
        raise DecisionRefused("Choose a review status from the list.")
    if not reason.strip():
        raise DecisionRefused("Please give a reason for the change.")
    if status == ReviewStatus.NEW:
        raise DecisionRefused("A review cannot go back to new; choose in review to reopen it.")
    if status == ReviewStatus.DEFERRED and rebook_after is None:
        raise DecisionRefused("A deferral needs the earliest date the patient can rebook.")
    method = ""
    if status in CLEARING:
        # A stale page is refused as such, before anyone is asked to sign it.
        if not Submission.objects.filter(pk=submission.pk, revision=revision).exists():
            raise ConcurrentChange
        _check_clearable(submission)
        # Before the decision's transaction: a refusal is counted and audited all the same.
        try:
            method = confirm_signer(by, signature, submission)
        except SigningRefused as refused:
            raise SignatureRefused(str(refused)) from None
    with transaction.atomic():
        before = submission.review_status
        _claim(
            submission,
            revision,
            review_status=status,
            reviewer=by,
            rebook_after=rebook_after if status == ReviewStatus.DEFERRED else None,
            locked=bool(method),
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
        if method:
            _sign(submission, status=status, method=method, reason=reason, by=by)
    return event


def _refuse_if_treated(submission: Submission) -> None:
    if Submission.objects.filter(pk=submission.pk, review_status=ReviewStatus.TREATED).exists():
        raise DecisionRefused("This patient has been treated: that is the review's final status.")


def on_the_day_check_done(submission: Submission) -> bool:
    """Whether an on-the-day check is recorded for the current treatment date."""
    return ReCheck.objects.filter(
        submission=submission,
        kind="on_the_day",
        treatment_date=submission.treatment_date,
        answered_at__isnull=False,
    ).exists()


def mark_treated(submission: Submission, *, reason: str, by: User, revision: int) -> ReviewEvent:
    """Record that the patient was treated: the review's final status, from a clearing decision.

    It needs the on-the-day check recorded for the treatment date, unless the submission's
    version switches that off. A signed submission stays signed: treating it changes no decision.
    """
    if not reason.strip():
        raise DecisionRefused("Please give a reason for the change.")
    _refuse_if_treated(submission)
    submission.refresh_from_db(fields=["review_status", "treatment_date"])
    if submission.review_status not in CLEARING:
        raise DecisionRefused("Only a cleared submission can be marked as treated.")
    definition = published.questionnaire(submission.version).definition
    if definition.declarations.treated_needs_check and not on_the_day_check_done(submission):
        raise DecisionRefused("Record the on-the-day check before marking the patient as treated.")
    with transaction.atomic():
        before = submission.review_status
        _claim(submission, revision, review_status=ReviewStatus.TREATED)
        record_change(
            submission,
            ChangeKind.STATUS,
            old=before,
            new=ReviewStatus.TREATED,
            reason=reason,
            by=by,
        )
        event = ReviewEvent.objects.create(
            submission=submission, status=ReviewStatus.TREATED, reason=reason, by=by
        )
        AuditEntry.record(by, AuditAction.REVIEW, submission, status=ReviewStatus.TREATED)
    return event


def _check_clearable(submission: Submission) -> None:
    """What clearing needs: every answer a correction made necessary recorded, no standing
    not-possible flag, and every declared plan recorded."""
    definition = published.questionnaire(submission.version).definition
    unanswered = asked_after_corrections(
        definition, submission, *answers_now(submission, definition)
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
    # A plan recorded before the prescription had all its fields (or whose dates could not be
    # read when plans moved to days around the treatment) is recorded again before clearing.
    for flag in submission.current_flags().filter(declarations__plan=ANTIVIRAL_PLAN):
        latest = flag.decisions.order_by("-at", "-pk").first()
        if latest is None or latest.kind != FlagDecision.ACKNOWLEDGED:
            continue
        try:
            if (latest.antiviral_plan or {}).get("needs_reentry"):
                raise plans.PlanProblems("It needs recording again.", {})
            plans.check(latest.antiviral_plan)
        except plans.PlanProblems as incomplete:
            raise DecisionRefused(
                f"The antiviral plan on {flag.code} is not complete: {incomplete} Record it "
                "again before clearing this submission."
            ) from None


def signed_content(
    submission: Submission, assessment_id: int, flags: Iterable[Flag], status: str
) -> dict[str, Any]:
    """What a signature covers, in canonical form: the submission, its assessment, the status,
    and each flag (code, tier, provisional) with its current decision (kind, note, plan).

    Works from prefetched rows as well as from the database, so that the page can check a
    signature without a query.
    """
    return {
        "submission": str(submission.pk),
        "assessment": assessment_id,
        "status": status,
        "flags": [
            {
                "code": flag.code,
                "tier": flag.tier,
                "provisional": flag.provisional,
                "decision": _decision_content(flag),
            }
            for flag in sorted(flags, key=lambda flag: (flag.position, flag.code))
        ],
    }


def _decision_content(flag: Flag) -> dict[str, Any] | None:
    latest = max(flag.decisions.all(), key=lambda d: (d.at, d.pk), default=None)
    if latest is None:
        return None
    return {"kind": latest.kind, "note": latest.note, "plan": latest.antiviral_plan}


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 of the content as canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _sign(submission: Submission, *, status: str, method: str, reason: str, by: User) -> None:
    assessment = submission.assessments.get(is_current=True)
    flags = list(assessment.flags.prefetch_related("decisions"))
    content = signed_content(submission, assessment.pk, flags, status)
    signature = Signature.objects.create(
        submission=submission,
        assessment=assessment,
        status=status,
        by=by,
        at=timezone.now(),
        method=method,
        content=content,
        content_hash=content_hash(content),
    )
    record_change(
        submission,
        ChangeKind.SIGNATURE,
        old=None,
        new={"signature": signature.pk, "content_hash": signature.content_hash},
        reason=reason,
        by=by,
    )
    AuditEntry.record(by, AuditAction.SIGN, submission, status=status, method=method)


@transaction.atomic
def reopen(submission: Submission, *, reason: str, by: User, revision: int) -> ReviewEvent:
    """Release a signed submission's lock, for a reason: it goes back to in review, and clearing
    it again needs a new signature."""
    if not reason.strip():
        raise DecisionRefused("Please give the reason for reopening this submission.")
    _refuse_if_treated(submission)
    if not submission.locked:
        raise DecisionRefused(
            "This submission is not signed and locked: there is nothing to reopen."
        )
    before = submission.review_status
    _claim(submission, revision, review_status=ReviewStatus.IN_REVIEW, locked=False)
    event = _record_reopening(submission, before=before, reason=reason, by=by, unlocked=True)
    AuditEntry.record(by, AuditAction.REOPEN, submission, automatic=False)
    return event


def reopen_after_reevaluation(submission: Submission, *, reason: str, by: User | None) -> bool:
    """Reopen a decided review because a re-evaluation changed its flags: the one way a
    re-evaluation (a date change, an answer corrected, a re-check) reopens one.

    A signed submission is unlocked too, and clearing it again needs a new signature. Call it
    once the new assessment is stored, in the same transaction; `reason` says what changed.
    Returns whether the review was reopened (one still undecided is left as it is).
    """
    submission.refresh_from_db(fields=["review_status", "locked", "revision"])
    decided = submission.review_status not in (ReviewStatus.NEW, ReviewStatus.IN_REVIEW)
    if not decided and not submission.locked:
        return False
    before, unlocked = submission.review_status, submission.locked
    Submission.objects.filter(pk=submission.pk).update(
        review_status=ReviewStatus.IN_REVIEW, locked=False
    )
    submission.refresh_from_db()
    # The person whose change set it off; the history records the app as the one reopening.
    _record_reopening(
        submission, before=before, reason=reason, by=by, unlocked=unlocked, automatic=True
    )
    AuditEntry.record(by, AuditAction.REOPEN, submission, automatic=True)
    return True


def _record_reopening(
    submission: Submission,
    *,
    before: str,
    reason: str,
    by: User | None,
    unlocked: bool,
    automatic: bool = False,
) -> ReviewEvent:
    event = ReviewEvent.objects.create(
        submission=submission, status=ReviewStatus.IN_REVIEW, reason=reason, by=by
    )
    changed_by = None if automatic else by
    record_change(
        submission,
        ChangeKind.STATUS,
        old=before,
        new=ReviewStatus.IN_REVIEW,
        reason=reason,
        by=changed_by,
    )
    if unlocked:
        signature = submission.signatures.order_by("-at", "-pk").first()
        record_change(
            submission,
            ChangeKind.SIGNATURE,
            old={"signature": signature.pk, "content_hash": signature.content_hash}
            if signature
            else None,
            new=None,
            reason=reason,
            by=changed_by,
        )
    return event


def _as_prescribed(plan: dict[str, Any] | None) -> dict[str, Any] | None:
    """A plan without the treatment date it was made for: the same prescription saved again
    after a date change is no change to the plan."""
    if plan is None:
        return None
    return {key: value for key, value in plan.items() if key != "planned_for"}


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
    ensure_unlocked(submission)
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
        try:
            plans.check(antiviral_plan)
        except plans.PlanProblems as problems:
            raise DecisionRefused(str(problems), problems.problems) from None
        # The treatment date it was made against, so that the page can say when it moves.
        antiviral_plan = dict(antiviral_plan or {}) | {
            "planned_for": submission.treatment_date.isoformat()
            if submission.treatment_date
            else None
        }
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
        if _as_prescribed(old_plan) != _as_prescribed(new_plan):
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
    A decision on a flag the new date leaves as it was (same code, tier and evidence) carries
    over to the new flag, so that only new or changed flags need deciding again. A decided
    review whose flags change opens again, a signed one included; on a signed one, a date that
    leaves the flags as they were is refused until someone reopens it.
    """
    if not reason.strip():
        raise DecisionRefused("Please give a reason for the change of date.")
    if treatment_date == submission.treatment_date:
        raise DecisionRefused("That is already the treatment date.")
    _refuse_if_locked_and_unchanged(submission, treatment_date=treatment_date)
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
    assessment = check_again(submission, by=by, reason=reason, cause=ChangeKind.TREATMENT_DATE)
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
    ChangeKind.RECHECK: "Reopened: the flags changed when the patient answered the re-check.",
    ChangeKind.ON_THE_DAY: "Reopened: the flags changed at the on-the-day check.",
}


def check_again(
    submission: Submission,
    *,
    by: User | None,
    reason: str,
    cause: str,
    changed_answers: frozenset[str] = frozenset(),
) -> Assessment:
    """Run the rules again on the answers as they stand (`answers_now`), against the submission's
    own version and its treatment date, and record the result as the current assessment: the one
    path every re-evaluation takes (a new treatment date, a corrected answer, a re-check; `by` is
    None for the patient's re-check). `changed_answers`: the questions whose answers this change
    altered, so that a plan checked against them is not carried over.

    The previous assessment and its decisions stay as history. A decision on a flag left as it
    was carries over; a raised outcome notifies again; and when the flags changed, the review
    opens again (a signed one included), since a decision made on other flags no longer stands.
    """
    evaluation = _evaluate_again(submission)
    before = list(submission.current_flags())
    old_outcome = submission.outcome
    assessment = submission.record_assessment(
        evaluation, reference_date=submission.reference_date, by=by, reason=reason, cause=cause
    )
    notify_if_raised(submission, old_outcome, assessment.outcome)
    after = list(assessment.flags.all())
    _carry_over(submission, before, after, by=by, changed_answers=changed_answers)
    if flag_changes(before, after):
        signed = submission.locked
        reopen_after_reevaluation(
            submission,
            reason=_REOPENED[ChangeKind(cause)]
            + (" The signature no longer covers them: clearing needs a new one." if signed else ""),
            by=by,
        )
    return assessment


def _evaluate_again(submission: Submission) -> Evaluation:
    """The rules on the answers as they stand, for the submission's version and treatment date."""
    definition = published.questionnaire(submission.version).definition
    answers, submitted_on = answers_now(submission, definition)
    return evaluate(
        definition,
        answers,
        submitted_on=submitted_on,
        reference_date=submission.treatment_date,
    )


def answers_now(
    submission: Submission,
    definition: Definition,
    changes: Iterable[SubmissionChange] | None = None,
) -> tuple[dict[str, Any], datetime.date]:
    """The answers the rules run on, and the day that counts as their submission date.

    The answers as the patient first gave them, then, in the order they happened, each
    practitioner's correction and each answered re-check (the patient's before treatment, or
    the on-the-day check), as the submission's history records them. A re-check replaces the
    answers of the questions asked again and their follow-ups, and its day becomes the
    submission date (it decides what counts as past); a correction replaces the one answer it
    corrects, so one made after a re-check stands over the re-check's answer. Every other answer
    stays as first given. `changes`: the submission's history if already loaded (any order, any
    kinds); otherwise it is read here.
    """
    if changes is None:
        changes = submission.changes.filter(kind__in=_ANSWERING)
    answers = dict(submission.answers)
    submitted_on = submission.submitted_on
    replaced = set(definition.asked_again)
    for change in sorted(changes, key=lambda c: (c.at, c.pk)):
        if change.kind == ChangeKind.ANSWER:
            answers[change.subject] = change.new
        elif change.kind in _RECHECKS:
            given = (change.new or {}).get("answers", {})
            kept = {key: value for key, value in answers.items() if key not in replaced}
            fresh = {key: value for key, value in given.items() if key in replaced}
            answers = kept | fresh
            submitted_on = timezone.localdate(change.at)
    return answers, submitted_on


# The history's entries that change what the rules read: corrections and answered re-checks.
_RECHECKS = frozenset((ChangeKind.RECHECK, ChangeKind.ON_THE_DAY))
_ANSWERING = (ChangeKind.ANSWER, *_RECHECKS)


def _refuse_if_locked_and_unchanged(submission: Submission, **changes: Any) -> None:
    """A signed submission takes a change that makes the rules run again only if it changes the
    flags (it then reopens); one that leaves them as they are waits for an explicit reopen.

    `changes` are the submission's fields as the change would set them (treatment_date=...).
    """
    if not Submission.objects.filter(pk=submission.pk, locked=True).exists():
        return
    trial = Submission.objects.get(pk=submission.pk)
    for name, value in changes.items():
        setattr(trial, name, value)
    current = {flag.code: flag.tier for flag in submission.current_flags()}
    if current == {flag.code: flag.tier.value for flag in _evaluate_again(trial).flags}:
        ensure_unlocked(submission)


def flags_would_change(submission: Submission) -> bool:
    """Whether running the rules again now would change the current flags (codes and tiers)."""
    current = {flag.code: flag.tier for flag in submission.current_flags()}
    return current != {flag.code: flag.tier.value for flag in _evaluate_again(submission).flags}


CARRIED_OVER = (
    "Carried over from the earlier assessment: checking the rules again left this flag as it was."
)


def _carry_over(
    submission: Submission,
    before: list[Flag],
    after: list[Flag],
    *,
    by: User | None,
    changed_answers: frozenset[str] = frozenset(),
) -> None:
    """Give each flag a re-evaluation left unchanged the latest decision on its earlier self.

    The decision stays its decider's (kind, note and plan, who and when); the history records
    that it was carried over, by the practitioner whose change made the rules run again.
    """
    earlier = {flag.code: flag for flag in before}
    for flag in after:
        old = earlier.get(flag.code)
        if old is None or not _unchanged(old, flag):
            continue
        decision = old.decisions.order_by("-at", "-pk").first()
        if decision is None:
            continue
        checked = set(flag.declarations.get("plan_answers", ()))
        if decision.antiviral_plan and not checked.isdisjoint(changed_answers):
            # The plan's checks were confirmed against answers that have since been corrected.
            continue
        FlagDecision.objects.create(
            flag=flag,
            kind=decision.kind,
            note=decision.note,
            antiviral_plan=decision.antiviral_plan,
            by=decision.by,
            at=decision.at,
            carried_from=decision,
        )
        record_change(
            submission,
            ChangeKind.CARRIED_OVER,
            subject=flag.code,
            old=None,
            new={"kind": decision.kind, "note": decision.note},
            reason=CARRIED_OVER,
            by=by,
        )


def _unchanged(old: Flag, new: Flag) -> bool:
    return (old.code, old.tier, old.evidence) == (new.code, new.tier, new.evidence)


def asked_after_corrections(
    definition: Definition,
    submission: Submission,
    answers: dict[str, Any],
    submitted_on: datetime.date,
) -> list[QuestionSpec]:
    """Required questions that the answers as they stand (`answers` and `submitted_on`, as
    `answers_now` gives them: corrections and re-checks applied) made the patient's questionnaire
    ask, still without an answer, in the order the patient would see them.

    The rules read a missing answer as no answer, so the flags that depend on these cannot be
    known until a practitioner records them (as corrections).
    """
    if answers == submission.answers:
        return []
    asked_now, asked_before = (
        visible_questions(
            definition, given, submitted_on=day, reference_date=submission.treatment_date
        )
        for given, day in ((answers, submitted_on), (submission.answers, submission.submitted_on))
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
    those the patient is asked given the answers as they stand (`answers_now`: a follow-up a
    correction or a re-check reveals included), their personal details apart."""
    definition = published.questionnaire(submission.version).definition
    answers, submitted_on = answers_now(submission, definition)
    shown = visible_questions(
        definition, answers, submitted_on=submitted_on, reference_date=submission.treatment_date
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
    `value` is in the engine's answer format, as the patient's form would have sent it. A signed
    submission is reopened first, with a reason, like any deliberate change to it.
    """
    ensure_unlocked(submission)
    if not reason.strip():
        raise DecisionRefused("Please give a reason for the correction.")
    question = next((q for q in correctable_questions(submission) if q.key == question_key), None)
    if question is None:
        raise DecisionRefused("Choose one of the questions this patient was asked.")
    if is_unanswered(value):
        raise DecisionRefused("Enter the corrected answer.")
    definition = published.questionnaire(submission.version).definition
    answers, submitted_on = answers_now(submission, definition)
    problems = check_answers(definition, {question_key: value}, submitted_on=submitted_on)
    if problems:
        raise DecisionRefused(
            _problem_in_words(problems[0].code, question, submission, submitted_on)
        )
    old = answers.get(question_key)
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
    assessment = check_again(
        submission,
        by=by,
        reason=reason,
        cause=ChangeKind.ANSWER,
        changed_answers=frozenset((question_key,)),
    )
    # Which change, not which question or answer: those are health data, kept in the history.
    AuditEntry.record(by, AuditAction.ANSWER_CORRECTION, submission, change_id=change.pk)
    return assessment


def _problem_in_words(
    code: str, question: QuestionSpec, submission: Submission, submitted_on: datetime.date
) -> str:
    """What the engine's answer check found wrong with a corrected answer, for the practitioner;
    `submitted_on`: the day the rules read as the answers' (`answers_now`: the questionnaire's,
    or its latest re-check's)."""
    sent = f"{submitted_on.day} {submitted_on:%B %Y}, the day " + (
        "the patient sent the questionnaire"
        if submitted_on == submission.submitted_on
        else "of the patient's latest re-check"
    )
    if code == "date_after_submission":
        return f"The question asks about the past: the date cannot be after {sent}."
    if code == "date_before_submission":
        return f"The question asks about the future: the date cannot be before {sent}."
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
