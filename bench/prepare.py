"""Writes the requests each benchmark scenario sends, after creating the drafts and logins they use.

Run by bench/run.py in the benchmark's own database, with the server's settings (the same
SECRET_KEY, so that the sessions made here are the server's sessions). Usage:
    python bench/prepare.py OUTPUT_DIR SCENARIO [COUNT]
writes OUTPUT_DIR/SCENARIO.tsv (METHOD, PATH, COOKIE, BODY per line, as bench/wrk.lua reads).
"""

from __future__ import annotations

import datetime
import os
import random
import secrets
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from bench.seed import _Answers  # noqa: E402
from intake import published  # noqa: E402
from intake.models import Draft, QuestionSet, Submission, User, token_digest  # noqa: E402
from intake.patient.views import SESSION_DRAFT  # noqa: E402
from intake.questionnaire import CHECK, SECTION, steps_for  # noqa: E402
from intake.rules import Definition, QuestionSpec, evaluate  # noqa: E402
from intake.staff_access import LAST_SEEN_AT, SIGNED_IN_AT  # noqa: E402

CSRF = "benchmarkcsrftoken0123456789abcd"  # 32 characters, as Django's CSRF secret


def main(output: Path, scenario: str, count: int) -> None:
    version = QuestionSet.objects.get(slug=settings.DEFAULT_QUESTION_SET).latest_published()
    assert version is not None  # noqa: S101
    definition = published.questionnaire(version).definition
    steps = steps_for(definition)
    heaviest = max(
        (step for step in steps if step.kind == SECTION),
        key=lambda step: len(_section(definition, step.section_key)),
    )
    lines: list[tuple[str, str, str, str]] = []
    if scenario == "step_get":
        # A patient arriving at the step: the earlier steps answered, this one not yet.
        later = {
            q.key
            for step in steps[heaviest.number - 1 :]
            if step.kind == SECTION
            for q in _section(definition, step.section_key)
        }
        drafts = _drafts(version, definition, count, done=heaviest.number - 1, leave_out=later)
        for draft in drafts:
            lines.append(("GET", f"/questionnaire/{heaviest.number}/", _cookie(draft), ""))
    elif scenario == "step_post":
        later = {
            q.key
            for step in steps[heaviest.number - 1 :]
            if step.kind == SECTION
            for q in _section(definition, step.section_key)
        }
        drafts = _drafts(version, definition, count, done=heaviest.number - 1, leave_out=later)
        body = _step_body(definition, heaviest.section_key)
        for draft in drafts:
            lines.append(("POST", f"/questionnaire/{heaviest.number}/", _cookie(draft), body))
    elif scenario == "submit":
        check = next(step for step in steps if step.kind == CHECK)
        drafts = _drafts(version, definition, count, done=check.number - 1)
        for draft in drafts:
            body = urlencode(
                {
                    "csrfmiddlewaretoken": CSRF,
                    "accurate": "on",
                    "processing": "on",
                    "signature": draft.details["full_name"],
                }
            )
            lines.append(("POST", f"/questionnaire/{check.number}/", _cookie(draft), body))
    elif scenario == "resume":
        for draft in _drafts(version, definition, count, done=heaviest.number - 1, session=False):
            token = draft.issue_resume_token()
            Draft.objects.filter(pk=draft.pk).update(resume_digest=token_digest(token))
            lines.append(("GET", f"/continue/{token}/", "", ""))
    elif scenario in ("queue", "queue_unreviewed_week"):
        query = "?review_status__exact=new&treatment=next_7_days"
        path = "/admin/intake/submission/" + (query if scenario != "queue" else "")
        lines.append(("GET", path, _staff_cookie(), ""))
    elif scenario in ("queue_search", "queue_search_name"):
        # Submissions found by a random start of their reference, as a practitioner reads one
        # out: without its dash and in lower case; or by their patient's first name and the
        # start of the surname ("priya kh"), which many share.
        rng = random.Random(count)  # noqa: S311 - test data
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        cookie = _staff_cookie()
        for _ in range(count):
            prefix = "".join(rng.choice(alphabet) for _ in range(3))
            found = (
                Submission.objects.filter(reference_key__gte=prefix)
                .order_by("reference_key")
                .values_list("reference_key", "patient_name")[:1]
            )
            key, name = found[0] if found else ("", "")
            text = key.lower() if scenario == "queue_search" else name[: name.find(" ") + 3]
            lines.append(("GET", "/admin/intake/submission/?" + urlencode({"q": text}), cookie, ""))
    elif scenario == "submission_page":
        # The submission with the most flags: the heaviest page to show.
        busiest = (
            Submission.objects.annotate(flags=Count("assessments__flags"))
            .order_by("-flags")
            .values_list("pk", flat=True)[:1]
        )
        path = f"/admin/intake/submission/{busiest[0]}/change/"
        lines.append(("GET", path, _staff_cookie(), ""))
    else:
        raise SystemExit(f"Unknown scenario {scenario!r}")
    with open(output / f"{scenario}.tsv", "w", encoding="utf-8") as file:
        for line in lines:
            file.write("\t".join(line) + "\n")


def _section(definition: Definition, key: str) -> tuple[QuestionSpec, ...]:
    return next(section.questions for section in definition.sections if section.key == key)


def _drafts(
    version: Any,
    definition: Definition,
    count: int,
    *,
    done: int,
    session: bool = True,
    leave_out: frozenset[str] | set[str] = frozenset(),
) -> list[Draft]:
    """`count` drafts with `done` steps completed (valid, complete answers), each in a session."""
    today = timezone.localdate()
    treatment = today + datetime.timedelta(days=14)
    patients = _Answers(definition, random.Random(count), today)  # noqa: S311 - test data
    drafts = []
    for n in range(count):
        answers, birth = patients.answers(today)
        evaluation = evaluate(definition, answers, submitted_on=today, reference_date=treatment)
        kept = _complete(definition, dict(evaluation.answers), today, treatment)
        kept = {key: value for key, value in kept.items() if key not in leave_out}
        draft = Draft(
            version=version,
            treatment_date=treatment,
            details={
                "full_name": f"Bench Patient {n}",
                "date_of_birth": birth.isoformat(),
                "email": f"bench{n}@example.com",
                "phone": "07700 900123",
            },
            answers=kept,
            steps_done=done,
            expires_at=timezone.now() + datetime.timedelta(days=settings.DRAFT_DAYS),
        )
        draft.issue_resume_token()
        drafts.append(draft)
    Draft.objects.bulk_create(drafts)
    if session:
        sessions = []
        for draft in drafts:
            key = secrets.token_hex(16)
            data = SessionStore().encode({SESSION_DRAFT: str(draft.pk)})
            expire = timezone.now() + datetime.timedelta(days=1)
            sessions.append(Session(session_key=key, session_data=data, expire_date=expire))
            draft.bench_session = key  # type: ignore[attr-defined]
        Session.objects.bulk_create(sessions)
    return drafts


def _complete(
    definition: Definition,
    answers: dict[str, Any],
    today: datetime.date,
    treatment: datetime.date,
) -> dict[str, Any]:
    """Answer any required question still open (free text is left blank at random)."""
    while True:
        evaluation = evaluate(definition, answers, submitted_on=today, reference_date=treatment)
        missing = [
            key
            for key, question in definition.questions.items()
            if question.required and key in evaluation.visible and key not in evaluation.answers
        ]
        if not missing:
            return dict(evaluation.answers)
        for key in missing:
            answers[key] = "Nothing to add"


def _step_body(definition: Definition, section_key: str) -> str:
    """A complete, valid POST of one section: "no" or the first choice everywhere."""
    data: list[tuple[str, str]] = [("csrfmiddlewaretoken", CSRF), ("action", "continue")]
    past = timezone.localdate() - datetime.timedelta(days=400)
    for question in _section(definition, section_key):
        key = question.key
        if question.type in ("yes_no", "yes_no_not_sure"):
            data.append((key, "no"))
        elif question.type in ("single_choice", "multiple_choice"):
            data.append((key, question.choices[0].code))
        elif question.type == "date":
            data += [(f"{key}_day", str(past.day)), (f"{key}_month", str(past.month))]
            data.append((f"{key}_year", str(past.year)))
        elif question.type == "number":
            data.append((key, str(int(question.min or 0))))
        else:
            data.append((key, "Nothing to add"))
    return urlencode(data)


def _cookies(session_key: str) -> str:
    # Production cookie names (__Host- prefixed under the HTTPS settings).
    return f"{settings.SESSION_COOKIE_NAME}={session_key}; {settings.CSRF_COOKIE_NAME}={CSRF}"


def _cookie(draft: Draft) -> str:
    return _cookies(draft.bench_session)  # type: ignore[attr-defined]


def _staff_cookie() -> str:
    """A signed-in superuser's session, past the second step (the admin pages need both)."""
    user, _ = User.objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True, "is_superuser": True}
    )
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=True
    )
    now = int(time.time())
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now
    session.create()
    return _cookies(session.session_key or "")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
