"""Arbitrary and malformed form posts never give a server error, and a refused post changes nothing.

Every endpoint that takes a form gets 300 examples in CI's Hypothesis profile, `ci` (see
FUZZ_EXAMPLES), and the profile's own number in the others (tests/conftest.py: 30 in `dev`, the
default, and 10,000 in `nightly`). To keep that quick, one set-up serves all the examples of a
test: each example resolves the URL and calls its view (decorators included, the middleware left
out) with a request from RequestFactory, inside a savepoint that is rolled back afterwards, so no
example sees another's changes.

Rendering a whole questionnaire page costs several times more than everything else an example
does, so by default a patient page that would be rendered is reduced to its form's errors (the
form is still bound and cleaned in full). The nightly profile renders whole pages, and
test_odd_values_on_every_field_render_on_the_real_page renders the oddest values into every field
of every step on each run.
"""

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import constants as message_levels
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.handlers.exception import response_for_exception
from django.db import connection, transaction
from django.http import Http404, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.test import Client
from django.urls import resolve
from factories import (
    ACCEPTED_PLAN_FORM,
    COLD_SORE,
    PREGNANT,
    SKINPEN,
    TODAY,
    appointment_post,
    complete_until_check,
    make_submission,
    page,
    section_post,
    staff,
    start,
    step_url,
)
from factories import DETAILS as VALID_DETAILS
from fuzz_bodies import Body, bodies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake import published
from intake.models import (
    Assessment,
    AuditEntry,
    Draft,
    Flag,
    FlagDecision,
    Invitation,
    QuestionSetVersion,
    ReviewEvent,
    Submission,
)
from intake.patient import views
from intake.patient.views import SESSION_DRAFT
from intake.questionnaire import CHECK, DETAILS, steps_for
from intake.rules import check_answers, load_definition

# CI runs these once, on PostgreSQL (where NUL characters in text fail), not again on SQLite.
pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]


STEPS = steps_for(load_definition(json.loads(SKINPEN.read_text(encoding="utf-8"))))
FORM_STEPS = [step for step in STEPS if step.kind != CHECK]

# An example here is a whole request and its database work, hundreds of times dearer than an
# example of a rules-engine property, so in the `ci` profile (500 examples a property) each form
# gets 300: with 15 forms, still thousands of bodies on every run.
FUZZ_EXAMPLES = {"ci": 300}
# The set-up runs once per test, not once per example: each example rolls its own changes back.
fuzz = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    max_examples=FUZZ_EXAMPLES.get(
        settings.get_current_profile_name(), settings.default.max_examples
    ),
)

# --- Sending it -----------------------------------------------------------------------------

# What Django's request handler turns into a 4xx response rather than a server error.
CLIENT_ERRORS = (
    Http404,
    PermissionDenied,
    BadRequest,
    SuspiciousOperation,
    MultiPartParserError,
)


class Sent:
    """The response to one example, the page's context, and the messages left for the next page."""

    def __init__(self, response: HttpResponse, context: dict[str, Any], messages: list[Any]):
        self.response, self.context, self.messages = response, context, messages
        self.status = response.status_code

    def errors(self) -> list[str]:
        return [str(m) for m in self.messages if m.level == message_levels.ERROR]


def send(path: str, body: Body, *, user: Any = None, draft: Draft | None = None) -> Sent:
    """POST `body` to the view behind `path`; an exception that is not a 4xx fails the test."""
    request = body.request(path)
    # CSRF has tests of its own (test_csrf.py); here the body is what is under test.
    request._dont_enforce_csrf_checks = True
    request.session = SessionStore()
    if draft is not None:
        request.session[SESSION_DRAFT] = str(draft.pk)
    request.user = user or AnonymousUser()
    request._messages = FallbackStorage(request)
    match = resolve(path)
    request.rendered_context = {}
    try:
        response = match.func(request, *match.args, **match.kwargs)
        if hasattr(response, "render"):
            response.render()
    except CLIENT_ERRORS as refused:
        response = response_for_exception(request, refused)
    assert response.status_code < 500, response.content.decode(errors="replace")[:3000]
    return Sent(response, request.rendered_context, list(request._messages._queued_messages))


def render_errors_only(
    request: Any, template_name: str, context: dict[str, Any], status: int | None = None
) -> HttpResponse:
    """A patient page reduced to its form's errors; see the module's docstring."""
    form = context.get("form")
    errors = form.errors.values() if form is not None else []
    return HttpResponse("".join(str(messages) for messages in errors), status=status or 200)


@pytest.fixture
def quick_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Patient pages reduced to their errors, except in the nightly profile; see above."""
    whole = settings.get_current_profile_name() == "nightly"
    render = views.render if whole else render_errors_only

    def keeping_context(
        request: Any, template_name: str, context: dict[str, Any], status: int | None = None
    ) -> HttpResponse:
        request.rendered_context = context
        return render(request, template_name, context, status=status)

    monkeypatch.setattr(views, "render", keeping_context)


def in_rolled_back_savepoint(example: Callable[[], None]) -> None:
    """Run one example and undo whatever it wrote, pass or fail."""
    with transaction.atomic():
        try:
            example()
        finally:
            transaction.set_rollback(True)


def database() -> dict[str, Any]:
    """Every row a post could change, as plain values (three queries)."""
    with connection.cursor() as cursor:
        cursor.execute(COUNTS)
        counts = dict(zip(COUNTED, cursor.fetchone(), strict=True))
    return {
        "drafts": list(Draft.objects.order_by("pk").values()),
        "submissions": list(Submission.objects.order_by("pk").values()),
        **counts,
    }


@pytest.fixture
def at_start() -> Callable[[], dict[str, Any]]:
    """database() as every example of the test starts, read by the first example only.

    Each example rolls back what it wrote, so each starts from the same rows; comparing with the
    first example's rows also fails an example that finds another's changes left behind.
    """
    rows: dict[str, Any] = {}

    def read() -> dict[str, Any]:
        if not rows:
            rows.update(database())
        return rows

    return read


# Rows that are only ever added (or, for invitations, changed by staff alone): counting will do.
COUNTED = ["invitations", "assessments", "flags", "decisions", "events", "audit"]
TABLES = [
    m._meta.db_table for m in (Invitation, Assessment, Flag, FlagDecision, ReviewEvent, AuditEntry)
]
# The models' own table names, no input.
COUNTS = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in TABLES)  # noqa: S608


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {name for name in before if before[name] != after[name]}


def assert_refusal_says_why(sent: Sent) -> None:
    """A refused form comes back with what to put right, or a body Django cannot read gets the
    clinic's 400 page."""
    if "form" in sent.context:
        errors = sent.context["form"].errors
        assert errors and all(str(message) for messages in errors.values() for message in messages)
    else:
        assert "Something went wrong with that request" in sent.response.content.decode()


def has_nul(value: Any) -> bool:
    return "\x00" in json.dumps(value, ensure_ascii=False)


# --- The patient's questionnaire ------------------------------------------------------------


@pytest.fixture
def completed_draft(client: Client, version: QuestionSetVersion) -> Draft:
    """A draft with every step done, so that any step can be posted again."""
    start(client)
    complete_until_check(client, version)
    return Draft.objects.get()


def step_fields(version: QuestionSetVersion, number: int) -> tuple[dict[str, Any], list[str]]:
    """A valid body for a step, and every field name its form reads."""
    step = STEPS[number - 1]
    if step.kind == DETAILS:
        valid = VALID_DETAILS | {"treatment_date": ""}
        keys = ["full_name", "date_of_birth", "email", "phone", "treatment_date"]
    else:
        valid = section_post(version, step.section_key)
        section = next(
            s
            for s in published.questionnaire(version).definition.sections
            if s.key == step.section_key
        )
        keys = [question.key for question in section.questions]
    names = [f"{key}_{part}" for key in keys for part in ("day", "month", "year", "not_sure")]
    return valid | {"action": "continue"}, [*keys, *names, "action"]


@pytest.fixture
def step_bodies(version: QuestionSetVersion, completed_draft: Draft, number: int):
    return bodies(*step_fields(version, number))


@pytest.mark.parametrize("number", [step.number for step in FORM_STEPS], ids=lambda n: str(n))
@fuzz
@given(data=st.data())
def test_no_post_to_a_step_breaks_it_and_a_refused_one_saves_nothing(
    version, completed_draft, quick_pages, step_bodies, at_start, number, data
):
    body = data.draw(step_bodies, label="body")
    step = STEPS[number - 1]
    definition = published.questionnaire(version).definition

    def example() -> None:
        before = at_start()
        draft_before = Draft.objects.get(pk=completed_draft.pk)

        sent = send(step_url(number), body, draft=completed_draft)

        after = database()
        if sent.status != 302 and "link" not in sent.context:
            assert sent.status in (400, 413), sent.status
            assert_refusal_says_why(sent)
            assert changed(before, after) == set()
            return
        assert changed(before, after) <= {"drafts"}
        draft = Draft.objects.get(pk=completed_draft.pk)
        assert check_answers(definition, draft.answers, submitted_on=TODAY) == []
        assert not has_nul(draft.details) and not has_nul(draft.answers)
        if step.kind == DETAILS:
            assert set(draft.details) == {"full_name", "date_of_birth", "email", "phone"}
            assert datetime.date.fromisoformat(draft.details["date_of_birth"]) <= TODAY
            assert draft.answers["date_of_birth"] == draft.details["date_of_birth"]
        else:
            # Other steps' answers are kept, or dropped when a changed answer hides them.
            section = next(s for s in definition.sections if s.key == step.section_key)
            own = {question.key for question in section.questions}
            for key, answer in draft.answers.items():
                if key not in own:
                    assert draft_before.answers[key] == answer, key
        assert draft.steps_done >= draft_before.steps_done

    in_rolled_back_savepoint(example)


START_BODIES = bodies(
    appointment_post(TODAY + datetime.timedelta(days=40)),
    ["treatment_date", "treatment_date_day", "treatment_date_month", "treatment_date_year"],
)


@fuzz
@given(body=START_BODIES)
def test_no_post_to_the_start_page_breaks_it_and_a_refused_one_starts_nothing(
    version, quick_pages, at_start, body
):

    def example() -> None:
        before = at_start()

        sent = send("/start/", body)

        after = database()
        if sent.status != 302:
            assert sent.status in (400, 413)
            assert_refusal_says_why(sent)
            assert changed(before, after) == set()
            return
        assert changed(before, after) == {"drafts"}
        (draft,) = Draft.objects.exclude(pk__in=[d["id"] for d in before["drafts"]])
        today = TODAY
        assert draft.treatment_date is None or (
            today <= draft.treatment_date <= today + datetime.timedelta(days=730)
        )

    in_rolled_back_savepoint(example)


CONSENT = {"accurate": "on", "processing": "on", "signature": "Ann Example"}
CHECK_BODIES = bodies(CONSENT, [*CONSENT, "action"])


@fuzz
@given(body=CHECK_BODIES)
def test_no_post_to_the_check_page_breaks_it_and_a_refused_one_submits_nothing(
    version, completed_draft, quick_pages, at_start, body
):
    check = STEPS[-1].number

    def example() -> None:
        before = at_start()

        sent = send(step_url(check), body, draft=completed_draft)

        after = database()
        if sent.status != 302:
            assert sent.status in (400, 413)
            assert_refusal_says_why(sent)
            assert changed(before, after) == set()
            return
        assert sent.response["Location"] == "/questionnaire/sent/"
        # A patient with nothing to flag: a submission and its assessment, and no flags.
        assert changed(before, after) == {"drafts", "submissions", "assessments"}
        submission = Submission.objects.get(draft__pk=completed_draft.pk)
        assert submission.consent_name.casefold() == "ann example"
        assert submission.answers == completed_draft.answers

    in_rolled_back_savepoint(example)


ODD_VALUES = [
    "\x00",
    "Ann\x00Example",
    "\u202eelpmaxE nnA",
    "\ufeff",
    "٢٠٢٠",
    "²",
    "1e999",
    "9" * 40,
    "💉" * 3_000,
    '"><img src=x onerror=alert(1)>',
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("number", [step.number for step in STEPS], ids=lambda n: str(n))
def test_odd_values_on_every_field_render_on_the_real_page(
    client, version, completed_draft, number
):
    _, names = step_fields(version, number) if number < len(STEPS) else ({}, [])
    names += ["accurate", "processing", "signature"]
    before = database()

    odd = ODD_VALUES * 2
    # Two odd values for every field (three fields would go over Django's limit on field counts).
    body = {name: odd[i % len(ODD_VALUES) :][:2] for i, name in enumerate(names)}

    response = client.post(step_url(number), body)

    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert "<script>alert(1)" not in response.content.decode()
    assert database() == before


# --- The practitioners' review page ---------------------------------------------------------

STATUS_FORM = {"status": "in_review", "reason": "Calling her", "rebook_after": ""}
ANTIVIRAL = {"kind": "acknowledged", "note": "Plan agreed"} | ACCEPTED_PLAN_FORM
DATE_FORM = {
    "treatment_date": (TODAY + datetime.timedelta(days=40)).isoformat(),
    "date_reason": "Moved by phone",
}
REVIEW_FIELDS = sorted(
    {"revision", "flag", *STATUS_FORM, *ANTIVIRAL, *DATE_FORM, "csrfmiddlewaretoken"}
)


@pytest.fixture
def reviewed(version):
    """A submission with a not-possible and a cold-sore flag, and a medical lead to review it."""
    submission = make_submission(version, COLD_SORE | PREGNANT)
    return submission, staff("lead", "Medical lead")


def review_bodies(submission: Submission, form: str) -> st.SearchStrategy[Body]:
    flags = {flag.code: flag.pk for flag in submission.current_flags()}
    valid: dict[str, Any] = {"revision": submission.revision}
    if form == "status":
        valid |= STATUS_FORM
    elif form == "flag":
        valid |= {"flag": flags["pregnancy_breastfeeding"], "kind": "overridden", "note": "Seen"}
    elif form == "antiviral plan":
        valid |= {"flag": flags["cold_sore_history"]} | ANTIVIRAL
    else:
        valid |= DATE_FORM
    return bodies(valid, REVIEW_FIELDS)


# Which rows each kind of decision adds or changes when it is saved.
SAVED = {
    "status": {"submissions", "events", "audit"},
    "flag": {"submissions", "decisions", "audit"},
    "antiviral plan": {"submissions", "decisions", "audit"},
    "date": {"submissions", "assessments", "flags", "audit"},
}


@pytest.fixture
def review_form_bodies(reviewed, form: str):
    submission, _ = reviewed
    return review_bodies(submission, form)


@pytest.mark.parametrize("form", list(SAVED))
@fuzz
@given(data=st.data())
def test_no_post_to_a_review_form_breaks_it_and_a_refused_one_saves_nothing(
    reviewed, review_form_bodies, at_start, form, data
):
    submission, lead = reviewed
    body = data.draw(review_form_bodies, label="body")

    def example() -> None:
        before = at_start()

        sent = send(page(submission), body, user=lead)

        after = database()
        if sent.errors() or sent.status != 302:
            assert sent.status in (302, 400, 413)
            assert changed(before, after) == set(), sent.errors()
            return
        assert changed(before, after) <= set().union(*SAVED.values())
        assert "audit" in changed(before, after)
        fresh = Submission.objects.get(pk=submission.pk)
        assert fresh.revision == submission.revision + 1
        assert fresh.answers == submission.answers
        assert not has_nul(list(FlagDecision.objects.values("note", "antiviral_plan")))

    in_rolled_back_savepoint(example)
