"""A version's data dictionary as CSV: one row per question, for clinics that keep their forms in
spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from intake.records.exports import spreadsheet_safe
from intake.rules import IMPLICIT_CHOICES, condition_text, worded

COLUMNS = [
    "key",
    "section",
    "position",
    "text",
    "help_text",
    "type",
    "required",
    "choices",
    "follow_up_condition",
]


def data_dictionary_csv(document: Mapping[str, Any]) -> str:
    """One row per question: key, section, text, type, choices with codes, follow-up condition."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    document = worded(document)  # the texts as people read them
    for section in document.get("sections") or ():
        for position, question in enumerate(section.get("questions") or (), start=1):
            kind = question.get("type", "")
            choices = question.get("choices") or [
                {"code": code, "label": label} for code, label in IMPLICIT_CHOICES.get(kind, ())
            ]
            row = [
                question.get("key", ""),
                section.get("key", ""),
                str(position),
                question.get("text", ""),
                question.get("help_text", ""),
                kind,
                "yes" if question.get("required", True) else "no",
                "; ".join(f"{c['code']} = {c['label']}" for c in choices),
                condition_text(question.get("show_if")),
            ]
            writer.writerow([spreadsheet_safe(str(value)) for value in row])
    return out.getvalue()
