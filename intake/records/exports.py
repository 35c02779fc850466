"""Spreadsheet exports: the review queue's selection as CSV, safe against spreadsheet formulas."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from intake.models import Submission

SUBMISSION_COLUMNS = [
    "reference",
    "submitted",
    "treatment_date",
    "outcome",
    "flag_codes",
    "review_status",
]


def spreadsheet_safe(value: object) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_submissions_csv(out: Any, submissions: QuerySet[Submission]) -> list[str]:
    """Write the submissions' reference, dates, outcome, flag codes and review status (no health
    details beyond the flag codes) as CSV to `out`; returns the references written."""
    writer = csv.writer(out)
    writer.writerow(SUBMISSION_COLUMNS)
    rows: Iterable[tuple[Any, ...]] = (
        submissions.order_by("submitted_at")
        .values_list(
            "reference",
            "submitted_at",
            "treatment_date",
            "outcome",
            "flag_codes",
            "review_status",
        )
        .iterator()
    )
    references = []
    for reference, submitted, treatment, outcome, codes, status in rows:
        references.append(reference)
        writer.writerow(
            [
                spreadsheet_safe(reference),
                timezone.localtime(submitted).isoformat(timespec="minutes"),
                treatment.isoformat() if treatment else "",
                outcome or "none",
                spreadsheet_safe(codes),
                status,
            ]
        )
    return references
