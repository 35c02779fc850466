"""The notices at the top of every staff page: `{% awaiting_sign_off as versions %}`, the
versions patients get that no medical lead has approved yet (installed at go-live), with
`{% may_approve as approver %}` for whether the reader is one who may approve them, and
`{% worker_trouble as trouble %}`, what is wrong with the background worker, if anything."""

from __future__ import annotations

from typing import Any

from django import template

from intake.models.question_sets import (
    ListedVersion,
    awaiting_sign_off,
    holds_permission,
    listed_for,
)
from intake.tasks import worker_health

register = template.Library()


@register.simple_tag(takes_context=True, name="awaiting_sign_off")
def awaiting_sign_off_tag(context: dict[str, Any]) -> list[ListedVersion]:
    return awaiting_sign_off(listed_for(context["request"]))


@register.simple_tag(takes_context=True, name="may_approve")
def may_approve(context: dict[str, Any]) -> bool:
    """Whether this reader may approve a version: the notice then links to the approval; for
    anyone else it says who signs it off (being a superuser does not count, as in `approve`)."""
    user = context["request"].user
    # has_perm reads the permissions the admin has already loaded for this request; only a
    # superuser, for whom it is always true, is asked about a role of their own.
    return user.has_perm("intake.approve_questionsetversion") and (
        not user.is_superuser or holds_permission(user, "approve_questionsetversion")
    )


@register.simple_tag(name="worker_trouble")
def worker_trouble() -> list[str]:
    """Sentences for staff when notifications are not going out; none where all is well."""
    health = worker_health()
    if health is None:
        return []
    trouble = []
    if health.stopped:
        trouble.append(
            "The background worker has stopped, so practitioners' notices are not being "
            "sent: ask whoever runs the servers to start it (manage.py task_worker)."
        )
    elif health.stuck:
        trouble.append(
            "Practitioners' notices have waited more than 5 minutes to be sent: the background "
            "worker is not running them. Ask whoever runs the servers to check it and the mail "
            "server."
        )
    if health.failed_recently:
        trouble.append(
            f"{health.failed_recently} background task{'s' if health.failed_recently > 1 else ''}"
            " (practitioners' notices) failed in the last 24 hours: check the email settings "
            "and the worker's log."
        )
    return trouble
