"""`{% queue_result_list cl %}`: the admin's `{% result_list cl %}`, with the queue's own rows."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import result_headers, result_list
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList

from intake.review.queue import QueueRows

register = template.Library()


def queue_result_list(cl: ChangeList) -> dict[str, Any]:
    """What `result_list` gives `change_list_results.html`, the rows made by `QueueRows`."""
    if not QueueRows.serves(cl):
        return result_list(cl)
    headers = list(result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": QueueRows(cl)(cl.result_list),
    }


@register.tag(name="queue_result_list")
def queue_result_list_tag(parser: template.base.Parser, token: template.base.Token) -> Any:
    # The same template lookup as {% result_list %}: per model, per app, then the admin's own.
    return InclusionAdminNode(
        "queue_result_list",
        parser,
        token,
        func=queue_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
