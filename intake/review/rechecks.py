"""The questions asked again shortly before treatment: the patient's re-check, sent
`RECHECK_DAYS_BEFORE` days before the treatment date, and the practitioner's on-the-day check.

Which questions are asked again is the version's declaration (`Definition.asked_again`). Treatment
dates have no time of day, so a re-check is due at `RECHECK_HOUR` (clinic time) that many days
before; `send_due` (run by `manage.py send_rechecks`, again and again) makes and emails the
re-checks that are due, each once. Answers, from the patient or the practitioner, are stored on a
`ReCheck` and the rules run again through the one re-evaluation path
(`intake.review.decisions.check_again`).
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clinic import mail
from clinic.contact import clinic_contact
from intake import published
from intake.models import (
    AuditAction,
    AuditEntry,
    ChangeKind,
    Flag,
    ReCheck,
    ReCheckKind,
    ReviewStatus,
    Submission,
    User,
)
from intake.questionnaire import display_answer
from intake.review import decisions
from intake.rules import Tier

logger = logging.getLogger(__name__)

# Review statuses that need no re-check: nobody will be treated.
_NOT_TREATING = (ReviewStatus.NOT_SUITABLE, ReviewStatus.TREATED)


def asked_again(submission: Submission) -> tuple[str, ...]:
    """The questions the submission's version asks again before treatment (none: no re-check)."""
    return published.questionnaire(submission.version).definition.asked_again


def due_at(treatment_date: datetime.date) -> datetime.datetime:
    """When the re-check of a treatment on this date is due: `RECHECK_HOUR` in the clinic's time
    zone, `RECHECK_DAYS_BEFORE` days before it."""
    day = treatment_date - datetime.timedelta(days=settings.RECHECK_DAYS_BEFORE)
    moment = datetime.datetime.combine(day, datetime.time(settings.RECHECK_HOUR))
    return timezone.make_aware(moment)


def link_expires_at(treatment_date: datetime.date) -> datetime.datetime:
    """A re-check link works until the end of the treatment day (clinic time)."""
    end = datetime.datetime.combine(treatment_date + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(end)


def _latest_due_date(now: datetime.datetime) -> datetime.date:
    """The latest treatment date whose re-check is due at `now`."""
    local = timezone.localtime(now)
    latest = local.date() + datetime.timedelta(days=settings.RECHECK_DAYS_BEFORE)
    if local.time() < datetime.time(settings.RECHECK_HOUR):
        latest -= datetime.timedelta(days=1)
    return latest


@dataclass
class Sent:
    """What one run of the sender did."""

    made: int = 0
    sent: int = 0
    failed: int = 0


def send_due(now: datetime.datetime | None = None) -> Sent:
    """Make the re-checks that are due and email their links, each exactly once.

    Idempotent: a second run, or two at once, makes and sends nothing more. A re-check is made
    once per treatment date (a unique constraint), and sent under a row lock with the rows
    another run holds skipped; a message the mail server refuses is tried again on the next run.
    Skipped: versions that ask nothing again, submissions decided not suitable (or treated), and
    treatment dates already past.
    """
    now = now or timezone.now()
    report = Sent()
    today = timezone.localdate(now)
    candidates = (
        Submission.objects.filter(
            treatment_date__gte=today, treatment_date__lte=_latest_due_date(now)
        )
        .exclude(review_status__in=_NOT_TREATING)
        .select_related("version")
    )
    for submission in candidates.iterator():
        day = submission.treatment_date
        if day is None or not asked_again(submission):
            continue
        if submission.rechecks.filter(kind=ReCheckKind.BEFORE, treatment_date=day).exists():
            continue
        try:
            with transaction.atomic():
                ReCheck.objects.create(
                    submission=submission,
                    kind=ReCheckKind.BEFORE,
                    treatment_date=day,
                    due_at=due_at(day),
                )
        except IntegrityError:
            continue  # another run made it meanwhile
        report.made += 1
    unsent = ReCheck.objects.filter(
        kind=ReCheckKind.BEFORE, sent_at__isnull=True, treatment_date__gte=today
    ).values_list("pk", flat=True)
    for pk in list(unsent):
        outcome = _send_one(pk, now)
        if outcome is True:
            report.sent += 1
        elif outcome is False:
            report.failed += 1
    return report


def _send_one(pk: int, now: datetime.datetime) -> bool | None:
    """Email one re-check's link under a lock; None when another run has it, or it was sent."""
    with transaction.atomic():
        recheck = (
            ReCheck.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, sent_at__isnull=True)
            .select_related("submission")
            .first()
        )
        if recheck is None:
            return None
        submission = recheck.submission
        day = recheck.treatment_date
        if day is None or submission.treatment_date != day:
            return None  # the date changed: the new date gets a re-check of its own
        token = recheck.issue_token(now, link_expires_at(day))
        recheck.sent_at = now
        recheck.save(update_fields=["link_digest", "expires_at", "sent_at"])
        try:
            _email(submission, day, token)
        except (OSError, smtplib.SMTPException):
            logger.exception("re-check not sent; it is tried again on the next run")
            transaction.set_rollback(True)
            return False
        AuditEntry.record(None, AuditAction.RECHECK_SENT, submission, recheck_id=recheck.pk)
    return True


def _email(submission: Submission, treatment_date: datetime.date, token: str) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse("intake:recheck", args=[token])
    treatment = published.questionnaire(submission.version).definition.treatment
    day = f"{treatment_date:%A} {treatment_date.day} {treatment_date:%B}"
    mail.send(
        "recheck",
        f"A few questions before your {treatment} appointment – {settings.CLINIC_NAME}",
        (
            f"Your {treatment} appointment is on {day}. A few things can change in the days "
            "before it, so please answer a few short questions again — it takes about "
            "2 minutes:\n\n"
            f"{link}\n\n"
            "The link works once, until the end of your appointment day.\n\n"
            f"{clinic_contact().as_text()}"
        ),
        [submission.email],
    )


def record(
    submission: Submission,
    *,
    kind: str,
    answers: dict[str, Any],
    extra: dict[str, Any],
    by: User | None,
    recheck: ReCheck | None = None,
) -> tuple[ReCheck, list[Flag]]:
    """Store a re-check's answers and run the rules again with them; returns the re-check and the
    not-possible flags it newly raised (whose guidance the patient is shown).

    `answers`: the re-asked questions' answers as the page validated them. The patient's own are
    never changed; the evaluation takes these in place of the re-asked questions' answers, the
    re-check's day as the submission date and the treatment date as the reference date.
    """
    now = timezone.now()
    with transaction.atomic():
        if recheck is None:
            recheck = ReCheck(
                submission=submission, kind=kind, treatment_date=submission.treatment_date
            )
        recheck.answers = answers
        recheck.extra = extra
        recheck.answered_at = now
        recheck.recorded_by = by
        recheck.save()
        before = {flag.code for flag in submission.current_flags().filter(tier=Tier.NOT_POSSIBLE)}
        cause = ChangeKind.RECHECK if kind == ReCheckKind.BEFORE else ChangeKind.ON_THE_DAY
        decisions.record_change(
            submission,
            cause,
            old=None,
            new={"recheck": recheck.pk, "answers": answers, **extra},
            reason=ChangeKind(cause).label,
            by=by,
        )
        reason = (
            "The patient answered the re-check before treatment."
            if kind == ReCheckKind.BEFORE
            else "The on-the-day check was recorded."
        )
        raised: list[Flag] = []
        # A signed submission whose flags the answers leave as they were stays as signed; one
        # whose flags they change is reopened by the re-evaluation.
        submission.refresh_from_db(fields=["locked"])
        if not submission.locked or decisions.flags_would_change(submission):
            assessment = decisions.check_again(submission, by=by, reason=reason, cause=cause)
            raised = [
                flag
                for flag in assessment.flags.filter(tier=Tier.NOT_POSSIBLE)
                if flag.code not in before
            ]
        action = (
            AuditAction.RECHECK_ANSWERED
            if kind == ReCheckKind.BEFORE
            else AuditAction.ON_THE_DAY_CHECK
        )
        AuditEntry.record(by, action, submission, recheck_id=recheck.pk)
    return recheck, raised


@dataclass
class CheckShown:
    """One answered re-check as the submission page and the print view show it."""

    kind: str
    at: datetime.datetime
    by: str
    treatment_date: datetime.date | None
    answers: list[tuple[str, str]]
    recorded: list[tuple[str, str]]


_RECORDED_LABELS = {
    ReCheck.ANTIVIRAL_STARTED: "Antiviral tablets started",
    ReCheck.FIRST_DOSE_AT: "First antiviral dose taken",
    ReCheck.INSPECTED_BY: "Lips and face inspected by",
    ReCheck.INSPECTED_AT: "Lips and face inspected at",
}


def checks_shown(submission: Submission) -> list[CheckShown]:
    """The submission's answered re-checks, newest first, with their answers in words."""
    definition = published.questionnaire(submission.version).definition
    shown = []
    for recheck in submission.rechecks.filter(answered_at__isnull=False).select_related(
        "recorded_by"
    ):
        assert recheck.answered_at is not None  # noqa: S101 - filtered above
        answers = [
            (definition.questions[key].text, display_answer(definition.questions[key], value))
            for key in definition.asked_again
            if key in recheck.answers and key in definition.questions
            for value in [recheck.answers[key]]
        ]
        recorded = [
            (label, _recorded_value(key, str(recheck.extra[key])))
            for key, label in _RECORDED_LABELS.items()
            if key in recheck.extra
        ]
        shown.append(
            CheckShown(
                kind=recheck.get_kind_display(),
                at=recheck.answered_at,
                by=recheck.recorded_by.get_username() if recheck.recorded_by else "the patient",
                treatment_date=recheck.treatment_date,
                answers=answers,
                recorded=recorded,
            )
        )
    return shown


def _recorded_value(key: str, value: str) -> str:
    if key == ReCheck.ANTIVIRAL_STARTED:
        return {"yes": "Yes", "no": "No"}.get(value, value)
    if key in (ReCheck.FIRST_DOSE_AT, ReCheck.INSPECTED_AT):
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        return f"{moment.day} {moment:%b %Y %H:%M}"
    return value
