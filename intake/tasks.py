"""Background tasks: what runs outside a request, each a thin wrapper around its side's code."""

from __future__ import annotations

from django.tasks import task

from intake.records.retention import purge_expired
from intake.review.notifications import NOTIFY_TIERS, notify_practitioners_of

__all__ = ["NOTIFY_TIERS", "notify_practitioners", "purge_expired_records"]


@task()
def notify_practitioners(submission_id: str) -> int:
    """Email practitioners a link to a flagged submission; no health details in the message."""
    return notify_practitioners_of(submission_id)


@task()
def purge_expired_records() -> dict[str, int]:
    """Delete what is past its retention period (the same as `manage.py purge_expired`)."""
    report = purge_expired()
    return {
        "drafts": report.drafts,
        "invitations": report.invitations,
        "submissions": report.submissions,
    }
