from typing import Any

from django.conf import settings
from django.http import HttpRequest


def clinic(request: HttpRequest) -> dict[str, Any]:
    """The clinic's name and the draft lifetime, for every template."""
    return {"clinic_name": settings.CLINIC_NAME, "draft_days": settings.DRAFT_DAYS}
