"""Retention: deleting what the clinic no longer needs to keep (UK GDPR storage limitation).

Three kinds of record expire:
- unfinished questionnaires (drafts) once their "continue later" link has expired, with the
  digests of the earlier links it replaced;
- invitations that were never used, `EXPIRED_INVITATION_DAYS` after they expired;
- submissions, with their answers, flags and decisions, `SUBMISSION_RETENTION_YEARS` after the
  treatment date (or the submission date when no treatment was booked).

Every deleted submission leaves an audit entry holding only its reference and dates, never
health data, so the clinic can show when and why a record went.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from intake.models import AuditAction, AuditEntry, Draft, Invitation, Submission
from intake.models.data_requests import forget_admin_history


@dataclasses.dataclass(frozen=True)
class PurgeReport:
    drafts: int
    invitations: int
    submissions: int

    def __str__(self) -> str:
        return (
            f"{self.drafts} expired draft(s), {self.invitations} expired invitation(s), "
            f"{self.submissions} submission(s) past retention"
        )


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def retention_cutoff(today: datetime.date) -> datetime.date:
    """Submissions whose last treatment was before this date are past retention."""
    return years_before(today, settings.SUBMISSION_RETENTION_YEARS)


def expired_drafts(now: datetime.datetime) -> QuerySet[Draft]:
    # A submitted questionnaire's draft is only a working copy of what the submission holds.
    return Draft.objects.filter(expires_at__lte=now)


def expired_invitations(now: datetime.datetime) -> QuerySet[Invitation]:
    # An invitation that led to a submission stays as long as that submission does.
    grace = datetime.timedelta(days=settings.EXPIRED_INVITATION_DAYS)
    return Invitation.objects.filter(expires_at__lte=now - grace, submissions__isnull=True)


def submissions_past_retention(today: datetime.date) -> QuerySet[Submission]:
    cutoff = retention_cutoff(today)
    # Submissions without a treatment date count from the day they were submitted; the day is
    # compared as a datetime at the start of the cut-off day in the clinic's time zone.
    start_of_cutoff = timezone.make_aware(datetime.datetime.combine(cutoff, datetime.time()))
    return Submission.objects.filter(
        Q(treatment_date__lt=cutoff)
        | Q(treatment_date__isnull=True, submitted_at__lt=start_of_cutoff)
    )


def purge_expired(*, now: datetime.datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Delete everything past its retention period, or only count it with `dry_run`."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    drafts = expired_drafts(now)
    invitations = expired_invitations(now)
    submissions = submissions_past_retention(today)
    if dry_run:
        return PurgeReport(drafts.count(), invitations.count(), submissions.count())

    with transaction.atomic():
        gone = list(submissions.values_list("pk", "reference", "submitted_at", "treatment_date"))
        for _pk, reference, submitted_at, treatment_date in gone:
            AuditEntry.objects.create(
                at=now,
                user=None,
                action=AuditAction.RETENTION_DELETE,
                reference=reference,
                detail={
                    "submitted_on": timezone.localdate(submitted_at).isoformat(),
                    "treatment_date": treatment_date.isoformat() if treatment_date else None,
                    "retention_years": settings.SUBMISSION_RETENTION_YEARS,
                },
            )
        ids = [pk for pk, *_ in gone]
        # Drafts that led to these submissions, then the submissions (answers, assessments,
        # flags, decisions and review history cascade), then invitations left unused.
        Draft.objects.filter(submission__in=ids).delete()
        Submission.objects.filter(pk__in=ids).delete()
        # With them go the digests of the continue-later links each replaced.
        _, deleted = drafts.delete()
        draft_count = deleted.get(Draft._meta.label, 0)
        invitation_ids = list(invitations.values_list("pk", flat=True))
        Invitation.objects.filter(pk__in=invitation_ids).delete()
        forget_admin_history(Invitation, invitation_ids)
        forget_admin_history(Submission, ids)
    return PurgeReport(draft_count, len(invitation_ids), len(ids))
