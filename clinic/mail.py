"""Email: how the app sends a message, and where it goes on a server with no email configured.

Every message the app sends names its kind (`send`). In production without an `EMAIL_BACKEND`,
`LogOnlyBackend` writes one log line per message: its kind and a keyed digest of each address,
never the subject or body, which hold links that open a patient's questionnaire. `check --deploy`
warns while it is in use (intake.apps).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.crypto import salted_hmac

KIND_HEADER = "X-Intake-Kind"
LOG_ONLY = "clinic.mail.LogOnlyBackend"
mail_log = logging.getLogger("clinic.mail")


def sends() -> bool:
    """Whether this server sends email at all (not the log-only backend)."""
    from django.conf import settings

    return (settings.MAILERS.get("default") or {}).get("BACKEND") != LOG_ONLY


def send(kind: str, subject: str, body: str, to: Sequence[str]) -> int:
    """Send one message of a kind ("continue-later", "invitation", "review-notice"); returns
    how many were sent: 0 on a server that only logs them."""
    return EmailMessage(subject, body, None, list(to), headers={KIND_HEADER: kind}).send()


def address_digest(address: str) -> str:
    """A keyed digest of an email address: one recipient's messages can be matched up in the
    logs, but the address is never written down."""
    return salted_hmac("clinic.mail.address", address.casefold(), algorithm="sha256").hexdigest()[
        :16
    ]


class LogOnlyBackend(BaseEmailBackend):
    """Sends nothing: logs that a message was to be sent, its kind and its recipients hashed,
    and reports none sent, so that no page says an email went."""

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        for message in email_messages:
            mail_log.warning(
                "email not sent: no EMAIL_BACKEND is configured",
                extra={
                    "kind": message.extra_headers.get(KIND_HEADER, "other"),
                    "to": [address_digest(address) for address in message.recipients()],
                },
            )
        return 0  # nothing was sent: callers must not say it was


def check_backend(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """`check --deploy`: email is not being sent while the log-only backend is in use."""
    from django.conf import settings
    from django.core import checks

    backend = (getattr(settings, "MAILERS", {}).get("default") or {}).get("BACKEND")
    if backend != LOG_ONLY:
        return []
    return [
        checks.Warning(
            "No EMAIL_BACKEND is configured: emails (continue-later links, invitations, "
            "practitioners' notices) are not sent; one line per message is logged instead.",
            hint="Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST "
            "(see .env.example).",
            id="clinic.W001",
        )
    ]
