"""How patients reach the clinic: its name, phone, email and address, as the settings give them.

Pages show them with the template `intake/includes/clinic_contact.html` (every page rendered with a
request has them from the context processor; the 500 and 503 pages are given them by
`clinic.views.server_error`), and emails to patients end with `as_text()`. A detail left empty
in the settings is not shown.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import quote

from django.conf import settings


@dataclasses.dataclass(frozen=True)
class ClinicContact:
    name: str
    phone: str
    email: str
    address: str

    @property
    def phone_link(self) -> str:
        """The phone number as a tel: link: digits only, with a leading + kept (and a "(0)" after
        it, not dialled from abroad, left out)."""
        phone = self.phone.replace("(0)", "") if self.phone.startswith("+") else self.phone
        number = re.sub(r"[^0-9+]", "", phone)
        return f"tel:{number[0]}{number[1:].replace('+', '')}" if number else ""

    @property
    def email_link(self) -> str:
        """The email address as a mailto: link, with anything that could add a header quoted."""
        return f"mailto:{quote(self.email, safe='@')}" if self.email else ""

    def __bool__(self) -> bool:
        """Whether there is any way to reach the clinic to show, beyond its name."""
        return bool(self.phone or self.email or self.address)

    def as_text(self) -> str:
        """The details as lines for a plain-text email, ending with the clinic's name."""
        lines = []
        if self:
            lines += ["If you have any questions, please get in touch:"]
            lines += [f"Phone: {self.phone}"] if self.phone else []
            lines += [f"Email: {self.email}"] if self.email else []
            lines += [f"Address: {self.address}"] if self.address else []
            lines += [""]
        return "\n".join([*lines, self.name])


def clinic_contact() -> ClinicContact:
    return ClinicContact(
        name=settings.CLINIC_NAME,
        phone=settings.CLINIC_PHONE,
        email=settings.CLINIC_EMAIL,
        address=settings.CLINIC_ADDRESS,
    )


def template_context() -> dict[str, Any]:
    """What every page is given about the clinic, with or without a request."""
    return {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_contact": clinic_contact(),
        "draft_days": settings.DRAFT_DAYS,
    }
