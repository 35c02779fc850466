"""Telling staff that a submission needs their attention, without health details.

Who is told is decided here, by role (the question set does not say): every practitioner; the
medical lead too when treatment is not possible as things stand; anyone else in a staff role (a
clinic admin, say) only if they asked for it on their "Notifications" page. Inactive accounts and
accounts without an email address are skipped.

When: on submission, if its outcome is one of NOTIFY_TIERS (intake.submissions), and again when
running the rules again raises the outcome to one of them (`notify_if_raised`).

What: the urgency (the treatment date), the reference and a link to the submission's page, which
asks for a sign-in. Never the patient's name, answers, flags or outcome.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q
from django.dispatch import Signal
from django.urls import reverse
from django.utils import dateformat

from clinic import mail
from intake.models import Submission, User
from intake.rules import Tier

# Outcomes that staff are told about as soon as the submission is stored.
NOTIFY_TIERS = frozenset({Tier.NOT_POSSIBLE, Tier.NEED_TO_KNOW})
PRACTITIONER = "Practitioner"
MEDICAL_LEAD = "Medical lead"
# The roles whose members may ask for notices (practitioners get them anyway).
OPT_IN_ROLES = ("Clinic admin", MEDICAL_LEAD)

# Sent, with `submission_id`, when running the rules again raised a submission's outcome to one
# of NOTIFY_TIERS; intake.tasks queues the notice on it, as on submission.
outcome_raised = Signal()


def _severity(outcome: str) -> int:
    """Lower is more severe; no flag at all is the least severe."""
    return Tier(outcome).severity if outcome else len(Tier)


def notify_if_raised(submission: Submission, before_outcome: str, after_outcome: str) -> bool:
    """After the rules ran again: tell staff again if the outcome went up to one of NOTIFY_TIERS
    (need to know → not possible, or no flag → need to know); not if it went down or stayed.
    Returns whether a notice is on its way."""
    if after_outcome not in NOTIFY_TIERS:
        return False
    if _severity(after_outcome) >= _severity(before_outcome):
        return False
    outcome_raised.send(sender=Submission, submission_id=str(submission.pk))
    return True


def recipients(outcome: str) -> list[str]:
    """The email addresses of the staff to tell of a submission with this outcome."""
    told = Q(groups__name=PRACTITIONER) | Q(
        groups__name__in=OPT_IN_ROLES, notify_of_submissions=True
    )
    if outcome == Tier.NOT_POSSIBLE:
        told |= Q(groups__name=MEDICAL_LEAD)
    return list(
        User.objects.filter(told, is_active=True, is_staff=True)
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )


def notice(submission: Submission, *, again: bool = False) -> tuple[str, str]:
    """The subject and body of the notice: urgency, reference and link, no health details."""
    link = settings.SITE_URL.rstrip("/") + reverse(
        "admin:intake_submission_change", args=[submission.pk]
    )
    preferences = settings.SITE_URL.rstrip("/") + reverse("notification_preference")
    needs = "Needs review again" if again else "Needs review"
    reference = submission.reference
    if submission.treatment_date is None:
        subject = f"{needs}, not yet booked: submission {reference}"
        when = "No treatment date is booked yet: please review it before one is."
    else:
        day = dateformat.format(submission.treatment_date, "j M Y")
        subject = f"{needs} before {day}: submission {reference}"
        long_day = dateformat.format(submission.treatment_date, "l j F Y")
        when = f"Please review it before the treatment on {long_day}."
    opening = (
        f"Submission {reference} was assessed again after a change and needs review again."
        if again
        else f"Submission {reference} needs a practitioner's review."
    )
    body = (
        f"{opening}\n{when}\n\n"
        f"Open it (you will be asked to sign in):\n{link}\n\n"
        "This email holds no details of the patient; the submission's page shows them.\n\n"
        f"Why you get these emails, and how to choose whether you do:\n{preferences}\n\n"
        f"{settings.CLINIC_NAME}"
    )
    return subject, body


def notify_practitioners_of(submission_id: str, *, again: bool = False) -> int:
    """Email staff a link to a submission that needs review; returns how many were told."""
    submission = (
        Submission.objects.filter(pk=submission_id)
        .only("pk", "reference", "outcome", "treatment_date")
        .first()
    )
    if submission is None:
        return 0
    to = recipients(submission.outcome)
    if not to:
        return 0
    subject, body = notice(submission, again=again)
    mail.send("review-notice", subject, body, to)
    return len(to)
