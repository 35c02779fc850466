"""What practitioners record about a submission, and the audit log of every access and decision.

Nothing here changes what the patient answered or the flags raised from it: decisions are rows of
their own, and the audit log is append-only.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class ReviewStatus(models.TextChoices):
    NEW = "new", "New"
    IN_REVIEW = "in_review", "In review"
    CLEARED = "cleared", "Cleared"
    CLEARED_WITH_CONDITIONS = "cleared_with_conditions", "Cleared with conditions"
    DEFERRED = "deferred", "Deferred"
    NOT_SUITABLE = "not_suitable", "Not suitable"
    # Final: the treatment was given. It needs a recorded on-the-day check unless the version
    # switches that off (`declarations.asked_again.treated_needs_on_the_day_check`).
    TREATED = "treated", "Treated"


# The queue lists unreviewed submissions first: new, then in review, then decided.
_REVIEW_ORDER = {ReviewStatus.NEW: 0, ReviewStatus.IN_REVIEW: 1}
_DECIDED = 2
CLEARING = {ReviewStatus.CLEARED, ReviewStatus.CLEARED_WITH_CONDITIONS}


def review_order(status: str) -> int:
    """Where the queue lists a submission with this review status (lower comes first)."""
    return _REVIEW_ORDER.get(ReviewStatus(status), _DECIDED)


def waiting_for_decision() -> models.Q:
    """Submissions still waiting for a decision (new or in review), as the queue's partial index
    `waiting_order_idx` states it: a query must say it in these words for the index to serve it."""
    return models.Q(review_order__lt=_DECIDED)


def review_order_expression() -> models.Case:
    """`review_order` as the database works it out, for the column generated from the status."""
    return models.Case(
        *(
            models.When(review_status=status, then=models.Value(order))
            for status, order in _REVIEW_ORDER.items()
        ),
        default=models.Value(_DECIDED),
    )


class ReviewEvent(models.Model):
    """One change of a submission's review status: who, when, to what, and why."""

    submission = models.ForeignKey(
        "intake.Submission", models.CASCADE, related_name="review_events"
    )
    status = models.CharField(max_length=30, choices=ReviewStatus.choices)
    reason = models.TextField()
    rebook_after = models.DateField(null=True, blank=True)
    # None when the patient's re-check reopened the review (nobody on the staff did it).
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} by {self.by} on {self.at:%d %b %Y}"


class FlagDecision(models.Model):
    """A practitioner's acknowledgement or override of one flag, with their note."""

    ACKNOWLEDGED = "acknowledged"
    OVERRIDDEN = "overridden"
    KINDS = [(ACKNOWLEDGED, "Acknowledged"), (OVERRIDDEN, "Overridden")]

    flag = models.ForeignKey("intake.Flag", models.CASCADE, related_name="decisions")
    kind = models.CharField(max_length=20, choices=KINDS)
    note = models.TextField()
    antiviral_plan = models.JSONField(
        null=True,
        blank=True,
        help_text="Cold-sore cover as recorded (the app never prescribes); its course in days "
        "relative to the treatment day (intake.review.plans).",
    )
    # The decision on the earlier assessment's flag this one carries over, when a change of
    # treatment date left the flag as it was; it keeps that decision's decider and time.
    carried_from = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.by}"


class ChangeKind(models.TextChoices):
    STATUS = "status", "Review status"
    TREATMENT_DATE = "treatment_date", "Treatment date"
    FLAG_DECISION = "flag_decision", "Flag decision"
    OVERRIDE = "override", "Override"
    PLAN = "plan", "Antiviral plan"
    CARRIED_OVER = "carried_over", "Decision carried over"
    # A signature locking the submission (old None, new the signature), or a reopening
    # releasing it (old the signature, new None).
    SIGNATURE = "signature", "Signature and lock"
    # A practitioner's correction of one of the patient's answers; the subject is its question's
    # key. The answers stay as the patient gave them: corrections apply on top (see
    # `Submission.corrected_answers`).
    ANSWER = "answer", "Answer"
    # The patient's re-check before treatment, and the practitioner's on-the-day check: new
    # answers to the questions asked again (kept on the `ReCheck`, never over the first ones).
    RECHECK = "recheck", "Re-check before treatment"
    ON_THE_DAY = "on_the_day", "On-the-day check"


class SubmissionChange(models.Model):
    """One change to a submission: what changed, its value before and after, why, who and when.

    The values can be health data (a flag's code, a plan, an answer), so the history lives with
    the submission and goes with it (retention, erasure); the audit log goes on recording who did
    what to which submission, without them. Written once, never changed.
    """

    submission = models.ForeignKey("intake.Submission", models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    # What within the submission changed, where the kind needs it: a flag's code, say.
    subject = models.CharField(max_length=100, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # None for a change the app made itself (a re-evaluation reopening the review, say).
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} changed by {self.by} on {self.at:%d %b %Y}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditLogIsAppendOnly("A change in the history cannot itself be changed.")
        super().save(*args, **kwargs)


class SignatureMethod(models.TextChoices):
    PASSWORD = "password", "Password"
    AUTHENTICATOR = "authenticator", "Authenticator code"


class Signature(models.Model):
    """A practitioner's signature on clearing a submission: who, when, how, and what they signed.

    `content` is what was signed, in canonical form: the submission, the assessment, the status,
    and each flag (code, tier, provisional) with its decision then (kind, note, plan); its SHA-256
    is `content_hash`, so that a later look can tell whether the record still matches. The
    content is health data, so it lives and goes with the submission. Written once, never
    changed; a reopening releases the lock (`Submission.locked`) and keeps the signature.
    """

    submission = models.ForeignKey("intake.Submission", models.CASCADE, related_name="signatures")
    assessment = models.ForeignKey("intake.Assessment", models.CASCADE, related_name="+")
    status = models.CharField(max_length=30, choices=ReviewStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=20, choices=SignatureMethod.choices)
    content = models.JSONField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} signed by {self.by} on {self.at:%d %b %Y}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditLogIsAppendOnly("A signature cannot be changed.")
        super().save(*args, **kwargs)

    @property
    def short_hash(self) -> str:
        """The first twelve characters of the hash, enough to tell one signature from another."""
        return self.content_hash[:12]


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditLogIsAppendOnly("Audit entries cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit entries cannot be deleted.")


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit entry."""


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed submission"
    PRINT = "print", "Printed submission"
    EXPORT = "export", "Exported submissions"
    REVIEW = "review", "Changed review status"
    ACKNOWLEDGE = "acknowledge", "Acknowledged flag"
    OVERRIDE = "override", "Overrode flag"
    DATE_CHANGE = "date_change", "Changed treatment date"
    SIGN = "sign", "Signed a clearing decision"
    SIGN_REFUSED = "sign_refused", "Signature refused"
    REOPEN = "reopen", "Reopened a signed submission"
    ANSWER_CORRECTION = "answer_correction", "Corrected an answer"
    RECHECK_SENT = "recheck_sent", "Sent the re-check before treatment"
    RECHECK_ANSWERED = "recheck_answered", "Patient answered the re-check"
    ON_THE_DAY_CHECK = "on_the_day_check", "Recorded the on-the-day check"
    RETENTION_DELETE = "retention_delete", "Deleted at the end of its retention period"
    ACCESS_EXPORT = "access_export", "Exported a patient's data (subject access)"
    DATA_REQUEST = "data_request", "Recorded a patient's data request"
    ERASURE = "erasure", "Erased a patient's data"
    APPROVAL_SUBMIT = "approval_submit", "Submitted a question-set version for approval"
    APPROVAL_APPROVE = "approval_approve", "Approved a question-set version"
    APPROVAL_VOID = "approval_void", "Voided an approval (the version changed)"
    PUBLISH = "publish", "Published a question-set version"


class AuditEntry(models.Model):
    """Who did what to which submission, and when. Written once, never changed."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="audit_entries"
    )
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    submission = models.ForeignKey(
        "intake.Submission", models.SET_NULL, null=True, blank=True, related_name="audit_entries"
    )
    # Kept even if the submission is deleted at the end of its retention period.
    reference = models.CharField(max_length=9, blank=True)
    # For the question-set entries: submitted for approval, approved, voided, published.
    version = models.ForeignKey(
        "intake.QuestionSetVersion",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [
            # The audit list filtered by user, newest first.
            models.Index(fields=["user", "-at"], name="audit_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.reference} by {self.user} at {self.at}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditLogIsAppendOnly("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogIsAppendOnly("Audit entries cannot be deleted.")

    @classmethod
    def record_view(cls, user: Any, submission: Any) -> AuditEntry | None:
        """Record that `user` viewed `submission`, once within `AUDIT_VIEW_WINDOW_MINUTES`.

        A reload within the window adds nothing: the entry kept is the first view's (who, which
        submission, when). The check and the write are not one atomic step, so two loads at the
        very same moment may both be recorded; that costs one entry too many, never one too few.
        Returns the new entry, or None when the view was already recorded.
        """
        now = timezone.now()
        window = datetime.timedelta(minutes=settings.AUDIT_VIEW_WINDOW_MINUTES)
        recent = cls.objects.filter(
            user=user, submission=submission, action=AuditAction.VIEW, at__gt=now - window
        )
        if recent.exists():
            return None
        return cls.record(user, AuditAction.VIEW, submission, at=now)

    @classmethod
    def record(
        cls,
        user: Any,
        action: str,
        submission: Any = None,
        *,
        at: datetime.datetime | None = None,
        **detail: Any,
    ) -> AuditEntry:
        """Append one entry; `detail` must never hold health data."""
        return cls.objects.create(
            at=at or timezone.now(),
            user=user,
            action=action,
            submission=submission,
            reference=getattr(submission, "reference", ""),
            detail=detail,
        )
