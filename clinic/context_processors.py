from typing import Any

from django.http import HttpRequest

from clinic.contact import template_context


def clinic(request: HttpRequest) -> dict[str, Any]:
    """The clinic's name and contact details, and the draft lifetime, for every template."""
    return template_context()
