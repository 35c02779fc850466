"""Telling practitioners that a submission needs their attention, without health details."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from clinic import mail
from intake.models import Submission, User
from intake.rules import Tier

# Outcomes that practitioners are told about as soon as the submission is stored.
NOTIFY_TIERS = frozenset({Tier.NOT_POSSIBLE, Tier.NEED_TO_KNOW})
REVIEWER_ROLES = ("Practitioner", "Clinic admin", "Medical lead")


def notify_practitioners_of(submission_id: str) -> int:
    """Email practitioners a link to a flagged submission; returns how many were told."""
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
    mail.send(
        "review-notice",
        f"A questionnaire needs review ({submission.reference})",
        (
            f"A pre-consultation questionnaire ({submission.reference}) has flags that need a "
            f"practitioner's review before the appointment:\n\n{link}\n\n"
            "Please log in to see it."
        ),
        recipients,
    )
    return len(recipients)
