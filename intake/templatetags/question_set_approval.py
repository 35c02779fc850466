"""`{% awaiting_sign_off as versions %}`: the versions patients get that no medical lead has
approved yet (installed at go-live), for the notice on every staff page."""

from __future__ import annotations

from django import template

from intake.models import QuestionSetVersion

register = template.Library()


@register.simple_tag
def awaiting_sign_off() -> list[QuestionSetVersion]:
    return list(QuestionSetVersion.objects.installed_unapproved())
