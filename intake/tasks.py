"""Background work: telling practitioners that a submission needs their attention."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.urls import reverse

from intake.models import Submission, User
from intake.records.retention import purge_expired

NOTIFY_TIERS = ("not_possible", "need_to_know")
REVIEWER_ROLES = ("Practitioner", "Clinic admin", "Medical lead")


@task()
def notify_practitioners(submission_id: str) -> int:
    """Email practitioners a link to a flagged submission; no health details in the message."""
    submission = Submission.objects.filter(pk=submission_id).only("pk", "reference").first()
    if submission is None:
        return 0
    recipients = list(
        User.objects.filter(is_active=True, groups__name__in=REVIEWER_ROLES)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    if not recipients:
        return 0
    link = settings.SITE_URL.rstrip("/") + reverse(
        "admin:intake_submission_change", args=[submission.pk]
    )
    send_mail(
        f"A questionnaire needs review ({submission.reference})",
        (
            f"A pre-consultation questionnaire ({submission.reference}) has flags that need a "
            f"practitioner's review before the appointment:\n\n{link}\n\n"
            "Please log in to see it."
        ),
        None,
        recipients,
    )
    return len(recipients)


@task()
def purge_expired_records() -> dict[str, int]:
    """Delete what is past its retention period (the same as `manage.py purge_expired`)."""
    report = purge_expired()
    return {
        "drafts": report.drafts,
        "invitations": report.invitations,
        "submissions": report.submissions,
    }
