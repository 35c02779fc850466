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
from intake.rules import ANTIVIRAL_PLAN, PLAN_KINDS, Tier, evaluate


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
    ensure_unlocked(submission)
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


def _check_clearable(submission: Submission) -> None:
    """What clearing needs: no standing not-possible flag, and every declared plan recorded."""
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
    if not submission.locked:
        raise DecisionRefused(
            "This submission is not signed and locked: there is nothing to reopen."
        )
    before = submission.review_status
    _claim(submission, revision, review_status=ReviewStatus.IN_REVIEW, locked=False)
    event = _record_reopening(submission, before=before, reason=reason, by=by, unlocked=True)
    AuditEntry.record(by, AuditAction.REOPEN, submission, automatic=False)
    return event


def reopen_after_reevaluation(submission: Submission, *, reason: str, by: User) -> bool:
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
    by: User,
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
    evaluation = evaluate(
        published.questionnaire(submission.version).definition,
        submission.answers,
        submitted_on=submission.submitted_on,
        reference_date=treatment_date,
    )
    before = list(submission.current_flags())
    old_tiers = {flag.code: flag.tier for flag in before}
    if old_tiers == {flag.code: flag.tier.value for flag in evaluation.flags}:
        ensure_unlocked(submission)
    old_date, old_outcome = submission.treatment_date, submission.outcome
    _claim(submission, revision, treatment_date=treatment_date)
    record_change(
        submission,
        ChangeKind.TREATMENT_DATE,
        old=old_date.isoformat() if old_date else None,
        new=treatment_date.isoformat() if treatment_date else None,
        reason=reason,
        by=by,
    )
    assessment = submission.record_assessment(
        evaluation,
        reference_date=treatment_date or submission.submitted_on,
        by=by,
        reason=reason,
    )
    notify_if_raised(submission, old_outcome, assessment.outcome)
    AuditEntry.record(
        by,
        AuditAction.DATE_CHANGE,
        submission,
        treatment_date=treatment_date.isoformat() if treatment_date else None,
    )
    after = list(assessment.flags.all())
    _carry_over(submission, before, after, by=by)
    if flag_changes(before, after):
        # A decision made on other flags no longer stands: the review opens again.
        signed = submission.locked
        reopen_after_reevaluation(
            submission,
            reason="Reopened: the flags changed when the treatment date changed."
            + (" The signature no longer covers them: clearing needs a new one." if signed else ""),
            by=by,
        )
    return assessment


CARRIED_OVER = (
    "Carried over from the earlier assessment: the new treatment date left this flag as it was."
)


def _carry_over(submission: Submission, before: list[Flag], after: list[Flag], *, by: User) -> None:
    """Give each flag the date change left unchanged the latest decision on its earlier self.

    The decision stays its decider's (kind, note and plan, who and when); the history records
    that it was carried over, by the practitioner who changed the date.
    """
    earlier = {flag.code: flag for flag in before}
    for flag in after:
        old = earlier.get(flag.code)
        if old is None or not _unchanged(old, flag):
            continue
        decision = old.decisions.order_by("-at", "-pk").first()
        if decision is None:
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


def flag_changes(before: list[Flag], after: list[Flag]) -> list[str]:
    """What a re-evaluation changed, in words: "oral_isotretinoin: Not possible → Need to know"."""
    old = {flag.code: flag.get_tier_display() for flag in before}
    new = {flag.code: flag.get_tier_display() for flag in after}
    changes = []
    for code in sorted(old.keys() | new.keys()):
        if old.get(code) != new.get(code):
            changes.append(f"{code}: {old.get(code, 'no flag')} → {new.get(code, 'no flag')}")
    return changes
