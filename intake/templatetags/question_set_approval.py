"""`{% awaiting_sign_off as versions %}`: the versions patients get that no medical lead has
approved yet (installed at go-live), for the notice on every staff page."""

from __future__ import annotations

from typing import Any

from django import template

from intake.models.question_sets import ListedVersion, awaiting_sign_off, listed_for

register = template.Library()


@register.simple_tag(takes_context=True, name="awaiting_sign_off")
def awaiting_sign_off_tag(context: dict[str, Any]) -> list[ListedVersion]:
    return awaiting_sign_off(listed_for(context["request"]))
