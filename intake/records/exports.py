"""Spreadsheet exports: the review queue's selection as CSV, safe against spreadsheet formulas."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from intake.models import ReviewEvent, ReviewStatus, Submission
from intake.models.reviews import review_order

SUBMISSION_COLUMNS = [
    "reference",
    "submitted",
    "treatment_date",
    "outcome",
    "flag_codes",
    "review_status",
    "reviewer",
    "decided_at",
]
# Where a decided submission sorts in the queue (cleared, deferred, not suitable...).
_DECIDED = review_order(ReviewStatus.CLEARED)


def spreadsheet_safe(value: object) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_submissions_csv(out: Any, submissions: QuerySet[Submission]) -> list[str]:
    """Write the submissions' reference, dates, outcome, flag codes, review status, reviewer and
    decision time (no health details beyond the flag codes, and never a decision's reason) as
    CSV to `out`; returns the references written.

    The decision time is that of the last change of review status, for a submission decided
    (cleared, deferred, not suitable...); empty while it waits for a decision.
    """
    writer = csv.writer(out)
    writer.writerow(SUBMISSION_COLUMNS)
    last_change = ReviewEvent.objects.filter(submission=OuterRef("pk")).order_by("-at", "-pk")
    rows: Iterable[tuple[Any, ...]] = (
        submissions.order_by("submitted_at")
        .annotate(last_status_change=Subquery(last_change.values("at")[:1]))
        .values_list(
            "reference",
            "submitted_at",
            "treatment_date",
            "outcome",
            "flag_codes",
            "review_status",
            "reviewer__username",
            "review_order",
            "last_status_change",
        )
        .iterator()
    )
    references = []
    for row in rows:
        reference, submitted, treatment, outcome, codes, status, reviewer, order, changed = row
        decided = changed is not None and order == _DECIDED
        references.append(reference)
        writer.writerow(
            [
                spreadsheet_safe(reference),
                timezone.localtime(submitted).isoformat(timespec="minutes"),
                treatment.isoformat() if treatment else "",
                outcome or "none",
                spreadsheet_safe(codes),
                status,
                spreadsheet_safe(reviewer or ""),
                timezone.localtime(changed).isoformat(timespec="minutes") if decided else "",
            ]
        )
    return references
