"""Who is signing: a practitioner confirms a clearing decision with their password or a fresh
code from their authenticator app, as at signing in.

A code from the authenticator is accepted once only (django-otp keeps the last one used), and the
device slows down wrong codes itself. Wrong passwords are counted in the audit log: after
`ATTEMPTS` wrong signatures within `WINDOW` no more are checked until the window has passed.
Every refusal is audited with how the practitioner tried to sign and why it was refused, never
with what they typed.
"""

from __future__ import annotations

import datetime
import re

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from intake.models import AuditAction, AuditEntry, SignatureMethod, Submission, User

ATTEMPTS = 5
WINDOW = datetime.timedelta(minutes=15)
# Passwords are at least twelve characters (AUTH_PASSWORD_VALIDATORS): six digits are a code.
_CODE = re.compile(r"\d{6}")


class SigningRefused(Exception):
    """The practitioner could not be confirmed as the signer; the message says what to do."""


def confirm_signer(user: User, secret: str, submission: Submission) -> str:
    """How `user` signed (a `SignatureMethod`), once `secret` proves it is them.

    Raises SigningRefused otherwise. Runs outside the decision's transaction, so that a refusal
    is counted and audited even though the decision is not saved. One attempt per practitioner
    is checked at a time (their row is locked while it is), so that wrong passwords sent at the
    same moment are counted one after another and no more than `ATTEMPTS` are ever tried.
    """
    secret = secret.strip()
    code = "".join(secret.split())
    method = SignatureMethod.AUTHENTICATOR if _CODE.fullmatch(code) else SignatureMethod.PASSWORD
    if not secret:
        raise SigningRefused(
            "Clearing is signed: enter your password or a new code from your authenticator app."
        )
    with transaction.atomic():
        # The row as it is now, locked: a password changed meanwhile is the one checked.
        signer = User.objects.select_for_update().get(pk=user.pk)
        if _recent_failures(user) >= ATTEMPTS:
            refusal: str | None = "too_many"
        elif method == SignatureMethod.AUTHENTICATOR:
            refusal = _check_code(user, code)
        else:
            refusal = None if signer.check_password(secret) else "wrong"
        if refusal is not None:
            _refused(user, submission, method, refusal)
    if refusal is None:
        return method
    if refusal == "too_many":
        minutes = int(WINDOW.total_seconds() // 60)
        raise SigningRefused(
            f"Too many wrong signatures. Nothing was saved: please wait {minutes} minutes "
            "and try again."
        )
    if method == SignatureMethod.PASSWORD:
        raise SigningRefused("That password is not right. Nothing was saved: please try again.")
    raise SigningRefused(
        {
            "no_device": "You have no authenticator app set up: sign with your password.",
            "device_paused": "Too many wrong codes for now. Wait a minute for a new code, or "
            "sign with your password.",
            "wrong": "That code is not right, or has been used already. Wait for a new code "
            "from your authenticator app, or sign with your password.",
        }[refusal]
    )


def _check_code(user: User, code: str) -> str | None:
    """None if `code` is a code from the user's confirmed authenticator not used before;
    otherwise why it is refused."""
    # Locked, so that two requests with the same code cannot both be accepted.
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=True)
        .order_by("pk")
        .first()
    )
    if device is None:
        return "no_device"
    if not device.verify_is_allowed()[0]:
        return "device_paused"
    if not device.verify_token(code):
        return "wrong"
    return None


def _recent_failures(user: User) -> int:
    return AuditEntry.objects.filter(
        user=user,
        action=AuditAction.SIGN_REFUSED,
        at__gte=timezone.now() - WINDOW,
        detail__reason="wrong",
    ).count()


def _refused(user: User, submission: Submission, method: str, reason: str) -> None:
    AuditEntry.record(user, AuditAction.SIGN_REFUSED, submission, method=method, reason=reason)
