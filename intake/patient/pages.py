"""Patient pages that look the same to every patient at the same point of a published version.

The start page, and a step none of whose questions has an answer yet, look the same to every
patient of a published version who is shown the same questions there (which follow-ups show
depends on earlier answers, so they are part of a step's key, and so are the conditions the page
sends for its own follow-ups, which have those answers applied). Such a page is rendered once per
process, kept with the version's other computed data (intake.published), and served again with
this request's CSRF token put in place of a stand-in: no answer and no token is ever kept. The
start page's example appointment date is put in the same way, so that it is never in the past.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from intake import published
from intake.models import QuestionSetVersion
from intake.patient.forms import appointment_example, follow_up_conditions
from intake.questionnaire import Questionnaire, Step
from intake.rules import DATE_OF_BIRTH, is_unanswered, visible_questions

# Made afresh in each process: nothing a patient or an author writes can contain it.
CSRF_STAND_IN = f"csrf{secrets.token_hex(16)}"
DATE_EXAMPLE_STAND_IN = f"date{secrets.token_hex(16)}"


def can_share(request: HttpRequest) -> bool:
    """Whether this request's page may come from the shared pages (a plain GET, no messages)."""
    return request.method in ("GET", "HEAD") and not len(messages.get_messages(request))


def blank_step_key(
    questionnaire: Questionnaire,
    step: Step,
    answers: Mapping[str, Any],
    *,
    today: datetime.date,
    treatment_date: datetime.date | None,
) -> Hashable | None:
    """What a section step's page shows when none of its questions has an answer yet, or None
    when one has: the step, its questions shown, and the follow-ups this page itself can reveal
    with what decides them."""
    questions = {
        question.key: question
        for question in questionnaire.definition.section(step.section_key).questions
        if question.key != DATE_OF_BIRTH
    }
    if any(not is_unanswered(answers.get(key)) for key in questions):
        return None
    others = {key: value for key, value in answers.items() if key not in questions}
    shown = visible_questions(
        questionnaire.definition, others, submitted_on=today, reference_date=treatment_date
    )
    visible = frozenset(key for key in questions if key in shown)
    # The follow-ups' conditions as the page sends them: other steps' answers and the dates are
    # applied in them, so patients share a page only when they are the same.
    conditions = follow_up_conditions(
        questionnaire.definition,
        others,
        questions,
        submitted_on=today,
        reference_date=treatment_date,
    )
    return ("step", step.number, visible, tuple(conditions.items()))


def shared_page(
    request: HttpRequest,
    version: QuestionSetVersion,
    key: Hashable,
    render: Callable[[Mapping[str, Any]], str],
) -> HttpResponse:
    """The page for `key`, rendered by `render(extra_context)` the first time it is asked for.

    `render` is given the stand-ins to render in place of the CSRF token ("csrf_token") and of
    an example appointment date ("date_example").
    """
    stand_ins = {"csrf_token": CSRF_STAND_IN, "date_example": DATE_EXAMPLE_STAND_IN}
    html = published.remember(version, key, lambda: render(stand_ins))
    html = html.replace(DATE_EXAMPLE_STAND_IN, appointment_example(timezone.localdate()))
    return HttpResponse(html.replace(CSRF_STAND_IN, get_token(request)))
