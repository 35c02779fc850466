"""A patient's copy of their data (UK GDPR right of access): everything held under their email.

The same plain structure becomes the JSON download and the readable HTML page, so the two always
say the same thing. Answers are shown as the patient was asked them, with the question text of
the exact version they answered.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings

from intake import published
from intake.models import Draft, Invitation, PatientRecords, Submission
from intake.questionnaire import change_in_words, display_answer

FORMAT = "consultation-intake/subject-access/1"


def _when(value: datetime.datetime | datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _answers(version: Any, answers: dict[str, Any]) -> list[dict[str, str]]:
    definition = published.questionnaire(version).definition
    return [
        {
            "section": section.title,
            "question": question.text,
            "answer": display_answer(question, answers[question.key]),
        }
        for section in definition.sections
        for question in section.questions
        if question.key in answers
    ]


def _submission(submission: Submission) -> dict[str, Any]:
    current = next((a for a in submission.assessments.all() if a.is_current), None)
    flags = sorted(current.flags.all(), key=lambda f: f.position) if current else []
    version = submission.version
    return {
        "reference": submission.reference,
        "submitted_at": _when(submission.submitted_at),
        "questionnaire": {
            "name": version.question_set.title,
            "version": version.number,
            "content_hash": version.content_hash,
        },
        "details": {
            "full_name": submission.patient_name,
            "date_of_birth": _when(submission.date_of_birth),
            "email": submission.email,
            "phone": submission.phone,
        },
        "treatment_date": _when(submission.treatment_date),
        # As the patient gave them; a practitioner's correction is in "changes".
        "answers": _answers(version, submission.answers),
        "consent": {"name": submission.consent_name, "given_at": _when(submission.consented_at)},
        "flags": [
            {
                "code": flag.code,
                "tier": flag.get_tier_display(),
                "practitioner_message": flag.practitioner_message,
                "patient_guidance": flag.patient_guidance,
                "decisions": [
                    {
                        "kind": decision.get_kind_display(),
                        "note": decision.note,
                        "antiviral_plan": decision.antiviral_plan,
                        "by": str(decision.by),
                        "at": _when(decision.at),
                    }
                    for decision in flag.decisions.all()
                ],
            }
            for flag in flags
        ],
        "review": {
            "status": submission.get_review_status_display(),
            "rebook_after": _when(submission.rebook_after),
            "history": [
                {
                    "status": event.get_status_display(),
                    "reason": event.reason,
                    "by": str(event.by) if event.by else "the clinic's system",
                    "at": _when(event.at),
                }
                for event in submission.review_events.all()
            ],
        },
        # Every change since the questionnaire was sent, in words and as stored, oldest first.
        "changes": _changes(submission),
        # Who has seen or changed the record: the patient is entitled to know the recipients.
        "access_log": [
            {"at": _when(entry.at), "action": entry.get_action_display(), "by": str(entry.user)}
            for entry in submission.audit_entries.all()
        ],
    }


def _changes(submission: Submission) -> list[dict[str, Any]]:
    definition = published.questionnaire(submission.version).definition
    changes = sorted(submission.changes.all(), key=lambda change: (change.at, change.pk))
    rows = []
    for change in changes:
        words = change_in_words(change, definition)
        rows.append(
            {
                "at": _when(change.at),
                "what": words.what,
                "before": words.old,
                "after": words.new,
                "reason": change.reason,
                "by": str(change.by) if change.by else "the clinic's system",
                "kind": change.kind,
                "old": change.old,
                "new": change.new,
            }
        )
    return rows


def _draft(draft: Draft) -> dict[str, Any]:
    return {
        "started_at": _when(draft.created_at),
        "last_saved_at": _when(draft.updated_at),
        "deleted_after": _when(draft.expires_at),
        "details": draft.details,
        "answers": _answers(draft.version, draft.answers),
    }


def _invitation(invitation: Invitation) -> dict[str, Any]:
    return {
        "name": invitation.patient_name,
        "email": invitation.email,
        "treatment_date": _when(invitation.treatment_date),
        "sent_at": _when(invitation.created_at),
        "expires_at": _when(invitation.expires_at),
    }


def patient_data(records: PatientRecords, *, exported_at: datetime.datetime) -> dict[str, Any]:
    """Everything held about one patient, as plain JSON-ready data."""
    submissions = records.submissions.select_related("version__question_set").prefetch_related(
        "assessments__flags__decisions__by",
        "review_events__by",
        "changes__by",
        "audit_entries__user",
    )
    return {
        "format": FORMAT,
        "clinic": settings.CLINIC_NAME,
        "email": records.email,
        "exported_at": _when(exported_at),
        "submissions": [_submission(submission) for submission in submissions],
        "unfinished_questionnaires": [
            _draft(draft) for draft in records.drafts.select_related("version")
        ],
        "invitations": [_invitation(invitation) for invitation in records.invitations],
    }
