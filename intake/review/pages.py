"""What a submission's page (and its print view) shows: flags with their evidence, every answer
by section (as practitioners corrected it, each correction noted), what changed each time the
rules were checked again, and the submission's change history.

Everything is built from rows prefetched by the admin in a fixed number of queries. The rows of
the answers table and of each flag's evidence (the question as the patient saw it, and the answer
in words) are made here rather than in the templates: the page has dozens of them, and the
template engine's cost for each row was several times that of the row itself (bench/notes.md).
Every value is escaped (html.escape is what Django's escape applies), an answer's line breaks
kept as the linebreaksbr filter keeps them.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable
from html import escape
from typing import Any

from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from intake import published
from intake.models import ChangeKind, Flag, FlagDecision, Submission, SubmissionChange
from intake.questionnaire import change_in_words, display_answer, display_date
from intake.review import plans
from intake.review.decisions import (
    answers_now,
    asked_after_corrections,
    content_hash,
    flag_changes,
    signed_content,
)
from intake.review.forms import DRUGS, PROFESSIONAL_BODIES, FlagDecisionForm
from intake.review.queue import outcome_label
from intake.rules import PLAN_KINDS, Tier, visible_questions


def current_flags(submission: Submission) -> list[Flag]:
    """The flags of the current assessment, from the prefetched rows."""
    for assessment in submission.assessments.all():
        if assessment.is_current:
            return sorted(assessment.flags.all(), key=lambda flag: flag.position)
    return []


def _answer_row(
    question: str, answer: str, *, flagged: bool, notes: Iterable[str] = ()
) -> SafeString:
    text = escape(answer)
    if "\n" in text or "\r" in text:
        text = linebreaksbr(answer, autoescape=True)
    # What happened to the answer since the patient gave it (a correction, say), each on a line.
    noted = "".join(f'<br><span class="answer-note">{escape(note)}</span>' for note in notes)
    if flagged:
        cells = (
            f'<td>{escape(question)}</td><td>{text} <strong class="flag-mark">(flagged)</strong>'
        )
        return mark_safe(f'<tr class="flagged">{cells}{noted}</td></tr>')  # noqa: S308
    return mark_safe(f"<tr><td>{escape(question)}</td><td>{text}{noted}</td></tr>")  # noqa: S308


def _evidence_row(
    question: str, answer: str, *, uncertain: bool, check_date: bool = False
) -> SafeString:
    text = escape(answer) + (" <em>(uncertain)</em>" if uncertain else "")
    if check_date:
        text += (
            " <strong>(after the date the questionnaire was sent, so read as still ongoing: "
            "please check this date)</strong>"
        )
    return mark_safe(f"<tr><td>{escape(question)}</td><td>{text}</td></tr>")  # noqa: S308


def review_context(
    submission: Submission,
    *,
    flag_form: FlagDecisionForm | None = None,
    today: datetime.date | None = None,
) -> dict[str, Any]:
    """What the submission page and its print view show, built from prefetched rows.

    `flag_form`: a decision on one flag that was refused, shown again as it was typed.
    """
    definition = published.questionnaire(submission.version).definition
    today = today or timezone.localdate()
    changes = list(submission.changes.all())
    corrected = _Corrected(submission, definition, changes)
    flags = current_flags(submission)
    flagged_keys = {item["question_key"] for flag in flags for item in flag.evidence}
    flag_rows = []
    for flag in flags:
        refused = flag_form if flag_form is not None and _decides(flag_form, flag) else None
        evidence = []
        for item in flag.evidence:
            question = definition.questions.get(item["question_key"])
            answer = item["answer"]
            shown = "Not answered" if answer is None else str(answer)
            if question is not None and answer is not None:
                shown = display_answer(question, answer)
            evidence.append(
                _evidence_row(
                    item["question_text"],
                    shown,
                    uncertain=item["uncertain"],
                    check_date=item.get("check_date", False),
                )
            )
        values = _plan_values(flag, refused)
        flag_rows.append(
            {
                "flag": flag,
                # Written into the decision form's ids and fields ten times over.
                "id": str(flag.pk),
                "overridable": flag.tier == Tier.NOT_POSSIBLE,
                # The plan its version declares, with the answers to check beside it.
                "plan": flag.plan,
                "plan_label": PLAN_KINDS.get(flag.plan, ""),
                "plan_answers": _plan_answers(flag, definition, corrected.answers),
                "evidence": evidence,
                "decisions": [
                    _decision(decision, submission.treatment_date, today)
                    for decision in flag.decisions.all()
                ],
                # What was typed in this flag's refused decision, to show it again.
                "refused": refused,
                # What the plan's fields hold: as typed if refused, else the plan as it stands.
                "plan_values": values,
                # The course those days give, in words (the form's script keeps it up to date).
                "plan_course": plans.typed_course(
                    values.get("start_day"), values.get("end_day"), submission.treatment_date
                ),
            }
        )
    sections = _answer_sections(definition, corrected, flagged_keys)
    assessments = sorted(submission.assessments.all(), key=lambda a: (a.created_at, a.pk))
    history = []
    for earlier, later in itertools.pairwise(assessments):
        carried = _carried(later)
        history.append(
            {
                "assessment": later,
                "changes": flag_changes(list(earlier.flags.all()), list(later.flags.all())),
                # Decisions on the superseded flags stay visible, with the flag they were made
                # on, unless carried over to the same flag in the later assessment.
                "earlier_decisions": [
                    (flag, decision)
                    for flag in earlier.flags.all()
                    for decision in flag.decisions.all()
                    if decision.pk not in carried
                ],
                "carried_over": len(carried),
            }
        )
    return {
        **_signature(submission, flags),
        "submission": submission,
        "version_name": str(submission.version),
        "assessment_history": history[::-1],
        "flag_rows": flag_rows,
        "sections": sections,
        "date_of_birth": display_date(submission.date_of_birth.isoformat()),
        "events": submission.review_events.all(),
        # The submission's history, newest first: health data, shown only with the submission.
        "changes": [
            {"change": change, "words": change_in_words(change, definition)} for change in changes
        ],
        "missing_answers": [question.text for question in corrected.missing],
        "outcome_label": outcome_label(submission.outcome),
        "drugs": DRUGS,
        "professional_bodies": PROFESSIONAL_BODIES,
        "print_url": reverse("admin:intake_submission_print", args=[submission.pk]),
    }


def _carried(assessment: Any) -> set[int]:
    """The ids of the decisions carried over to this assessment's flags."""
    return {
        decision.carried_from_id
        for flag in assessment.flags.all()
        for decision in flag.decisions.all()
        if decision.carried_from_id is not None
    }


def _decision(
    decision: FlagDecision, treatment_date: datetime.date | None, today: datetime.date
) -> dict[str, Any]:
    """A decision as the page shows it, its plan's course worked out for the treatment date."""
    plan = decision.antiviral_plan
    return {
        "decision": decision,
        "plan": plans.view(plan, treatment_date=treatment_date, today=today) if plan else None,
    }


def _plan_values(flag: Flag, refused: FlagDecisionForm | None) -> Any:
    """The plan form's values: the refused form's data, or the flag's latest plan (to amend)."""
    if refused is not None:
        return refused.data
    plan = next((d.antiviral_plan for d in flag.decisions.all() if d.antiviral_plan), None)
    if plan is None:
        return {}
    values: dict[str, Any] = {}
    for name, value in plan.items():
        if isinstance(value, bool) and name in ("offered", "accepted"):
            values[name] = "yes" if value else "no"
        elif isinstance(value, bool):
            values[name] = "on" if value else ""
        elif value is not None:
            values[name] = str(value)
    return values


def _signature(submission: Submission, flags: list[Flag]) -> dict[str, Any]:
    """The latest signature, and whether the record still matches what it signed: the same
    assessment, status, flags and decisions."""
    signature = next(iter(submission.signatures.all()), None)
    if signature is None:
        return {"signature": None, "signature_matches": False}
    current = next((a.pk for a in submission.assessments.all() if a.is_current), None)
    content = signed_content(submission, current or 0, flags, submission.review_status)
    return {
        "signature": signature,
        "signature_matches": content_hash(content) == signature.content_hash,
    }


class _Corrected:
    """The answers as practitioners' corrections leave them, and what the corrections changed:
    a note on each corrected answer, which questions are asked now (a correction may reveal a
    follow-up nobody has answered yet, or hide one whose answer the rules no longer read), and
    the required ones now missing."""

    def __init__(
        self, submission: Submission, definition: Any, changes: list[SubmissionChange]
    ) -> None:
        corrections = sorted(
            (c for c in changes if c.kind == ChangeKind.ANSWER), key=lambda c: (c.at, c.pk)
        )
        self.answers = submission.corrected_answers(corrections)
        self.asked: frozenset[str] | None = None
        self.notes: dict[str, list[str]] = {}
        # What clearing waits for, from the answers as the rules read them (re-checks too).
        self.missing = asked_after_corrections(
            definition, submission, *answers_now(submission, definition, changes)
        )
        if not corrections:
            return
        self.asked = visible_questions(
            definition,
            self.answers,
            submitted_on=submission.submitted_on,
            reference_date=submission.treatment_date,
        )
        for change in corrections:
            words = change_in_words(change, definition)
            self.notes.setdefault(change.subject, []).append(
                f"Corrected from {words.old} to {words.new} by {change.by} on "
                f"{_day(change.at)}: {change.reason}"
            )


_NO_LONGER_ASKED = "No longer asked after a correction: the rules do not read it."
_ASKED_NOW = "Asked after a correction: please ask the patient and record it."


def _answer_sections(
    definition: Any, corrected: _Corrected, flagged_keys: set[str]
) -> list[dict[str, Any]]:
    """Every answer by section, as corrected, each correction noted under its answer."""
    answers = corrected.answers
    missing = {question.key for question in corrected.missing}
    sections = []
    for section in definition.sections:
        rows = []
        for question in section.questions:
            key = question.key
            if key in answers:
                notes = corrected.notes.get(key, [])
                if corrected.asked is not None and key not in corrected.asked:
                    notes = [*notes, _NO_LONGER_ASKED]
                rows.append(
                    _answer_row(
                        question.text,
                        display_answer(question, answers[key]),
                        flagged=key in flagged_keys,
                        notes=notes,
                    )
                )
            elif key in missing:
                rows.append(
                    _answer_row(question.text, "Not answered", flagged=False, notes=[_ASKED_NOW])
                )
        if rows:
            sections.append({"title": section.title, "rows": rows})
    return sections


def _day(moment: datetime.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y}"


def _decides(form: FlagDecisionForm, flag: Flag) -> bool:
    return form.data.get("flag") == str(flag.pk)


def _plan_answers(flag: Flag, definition: Any, answers: dict[str, Any]) -> list[SafeString]:
    """The answers the flag's version shows beside its plan, as rows of the answers table."""
    rows = []
    for key in flag.declarations.get("plan_answers", ()):
        question = definition.questions.get(key)
        if question is None:
            continue
        shown = display_answer(question, answers[key]) if key in answers else "Not asked"
        rows.append(_answer_row(question.text, shown, flagged=False))
    return rows


def date_changes(submission: Submission) -> list[dict[str, Any]]:
    """The treatment date's changes from the submission's history, oldest first, for print."""
    changes = (
        SubmissionChange.objects.filter(submission=submission, kind=ChangeKind.TREATMENT_DATE)
        .select_related("by")
        .order_by("at", "pk")
    )
    return [
        {
            "at": change.at,
            "by": change.by,
            "old_date": _shown_date(change.old),
            "new_date": _shown_date(change.new),
            "reason": change.reason,
        }
        for change in changes
    ]


def _shown_date(value: Any) -> str:
    """An ISO date from the history as the page writes dates ("" for none)."""
    if not value:
        return ""
    try:
        day = datetime.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return plans.short_date(day)
