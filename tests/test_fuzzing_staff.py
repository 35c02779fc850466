"""Arbitrary and malformed posts to the staff forms never give a server error.

The sign-in, its second step (enrolling an authenticator, or a code or backup code), and the
admin's forms a practitioner, clinic admin or medical lead can post (an invitation, a question
set, a version and a draft's page, a question, an import, a data request and its decision, a
review, a signed clearing and the reopening of a signed submission, approval, submission,
publishing, a new draft and retiring), each sent through the test client with the whole
middleware stack (where NUL characters in a query string are refused), so that what a real
request meets is what is tested. CI runs them on PostgreSQL, where text holding NUL or longer
than its column fails in the database. Each example runs in a savepoint rolled back afterwards.
The draft's page is the largest form (hundreds of fields) and the dearest to render, so it gets
fewer examples.
"""

import datetime
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from factories import (
    ACCEPTED_PLAN_FORM,
    COLD_SORE,
    STAFF_PASSWORD,
    TODAY,
    change_form_data,
    logged_in,
    make_submission,
    staff,
)
from fuzz_bodies import Body, bodies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.models import DataRequest, DataRequestKind, QuestionSetVersion, User
from intake.review.decisions import change_review_status
from intake.staff_access import issue_backup_codes

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

PROFILE = settings.get_current_profile_name()
EXAMPLES = {"ci": 120}.get(PROFILE, settings.default.max_examples)
FEW_EXAMPLES = {"ci": 15}.get(PROFILE, min(10, settings.default.max_examples))


def fuzz(examples: int) -> Callable[[Any], Any]:
    return settings(
        suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=examples
    )


def post(client: Client, path: str, body: Body) -> int:
    """Send the body as a browser or a script would; a server error fails the test."""
    if body.kind == "multipart":
        response = client.post(path, body.fields)
    elif body.kind == "urlencoded":
        pairs = [(k, v) for k, vs in (body.fields or {}).items() for v in vs]
        response = client.post(
            path, urlencode(pairs), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = client.post(path, body.raw, content_type=body.kind)
    assert response.status_code < 500, response.content.decode(errors="replace")[:2000]
    return response.status_code


def each_in_a_savepoint(client: Client, path: str, body: Body) -> None:
    from django.db import transaction

    with transaction.atomic():
        try:
            post(client, path, body)
        finally:
            transaction.set_rollback(True)


def as_lists(data: dict[str, Any]) -> dict[str, list[str]]:
    return {
        key: [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        for key, value in data.items()
    }


# --- Signing in ------------------------------------------------------------------------------

LOGIN = bodies(
    {"username": "cara", "password": "a-long-password-123", "next": "/admin/"},
    ["username", "password", "next"],
)
CODE = bodies({"code": "123456"}, ["code"])


@fuzz(EXAMPLES)
@given(body=LOGIN)
def test_no_post_to_the_sign_in_gives_a_server_error(body):
    each_in_a_savepoint(Client(), "/admin/login/", body)


@pytest.fixture
def enrolling() -> Client:
    """Signed in with a password only, before setting up an authenticator."""
    client = Client()
    client.force_login(staff("nina", "Practitioner"))
    assert client.get("/staff/two-factor/").status_code == 200
    return client


@pytest.fixture
def verifying() -> Client:
    """Signed in with a password only, with an authenticator and backup codes set up."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = staff("nina", "Practitioner")
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    issue_backup_codes(user)
    client = Client()
    client.force_login(user)
    return client


@fuzz(EXAMPLES)
@given(body=CODE)
def test_no_post_to_enrolment_gives_a_server_error(enrolling, body):
    each_in_a_savepoint(enrolling, "/staff/two-factor/", body)


@fuzz(EXAMPLES)
@given(body=CODE)
def test_no_code_or_backup_code_post_gives_a_server_error(verifying, body):
    each_in_a_savepoint(verifying, "/staff/two-factor/", body)


# --- The admin's forms ---------------------------------------------------------------------


def admin_url(name: str, *args: Any) -> str:
    return reverse(f"admin:intake_{name}", args=args)


@pytest.fixture
def clinic_admin() -> Client:
    return logged_in(Client(), staff("cara", "Clinic admin"))


@pytest.fixture
def medical_lead() -> Client:
    return logged_in(Client(), staff("lee", "Medical lead"))


def form_page(client: Client, path: str) -> tuple[dict[str, list[str]], list[str]]:
    """What the page would post back unchanged, and its field names."""
    valid = as_lists(change_form_data(client.get(path)))
    return valid, sorted(valid)


FORMS = [
    "invitation add",
    "question set change",
    "question change",
    "data request add",
    "data request decision",
    "version add",
    "import",
    "submission review",
    "submission clearing",
    "signed submission",
    "antiviral plan",
    "treatment date",
]


@pytest.fixture
def admin_form(request, version, clinic_admin) -> tuple[str, dict[str, list[str]], list[str]]:
    """The form's address, what it posts back unchanged and its field names (made once)."""
    form = request.param
    if form == "import":
        return admin_url("questionsetversion_import"), {}, ["document", "cases"]
    if form == "data request decision":
        erasure = DataRequest.objects.create(
            kind=DataRequestKind.ERASURE,
            email="ann@example.com",
            recorded_by=User.objects.get(username="cara"),
        )
        path = admin_url("datarequest_change", erasure.pk)
        return path, *form_page(clinic_admin, path)
    if form == "submission review":
        path = admin_url("submission_change", make_submission(version).pk)
        valid = {"status": ["in_review"], "reason": ["Reading it"], "revision": ["0"]}
        return path, valid, ["status", "reason", "revision", "rebook_after", "flag", "kind"]
    if form == "submission clearing":
        path = admin_url("submission_change", make_submission(version).pk)
        valid = {
            "status": ["cleared"],
            "reason": ["Seen"],
            "signature": [STAFF_PASSWORD],
            "revision": ["0"],
        }
        return path, valid, ["status", "reason", "signature", "revision", "reopen_reason"]
    if form == "signed submission":
        submission = make_submission(version)
        change_review_status(
            submission,
            status="cleared",
            reason="Seen",
            by=User.objects.get(username="cara"),
            revision=0,
            signature=STAFF_PASSWORD,
        )
        path = admin_url("submission_change", submission.pk)
        valid = {"reopen_reason": ["Wrong patient"], "revision": ["1"]}
        return path, valid, ["reopen_reason", "revision", "status", "flag", "date_reason"]
    if form == "antiviral plan":
        submission = make_submission(version, COLD_SORE)
        flag = submission.current_flags().get(code="cold_sore_history")
        path = admin_url("submission_change", submission.pk)
        valid = {
            "flag": [str(flag.pk)],
            "kind": ["acknowledged"],
            "note": ["Cover agreed"],
            "revision": ["0"],
            **{name: [value] for name, value in ACCEPTED_PLAN_FORM.items()},
        }
        return path, valid, sorted(valid)
    if form == "treatment date":
        path = admin_url("submission_change", make_submission(version, COLD_SORE).pk)
        valid = {
            "treatment_date": [(TODAY + datetime.timedelta(days=30)).isoformat()],
            "date_reason": ["Moved by phone"],
            "revision": ["0"],
        }
        return path, valid, ["treatment_date", "date_reason", "revision", "flag", "status"]
    path = {
        "invitation add": admin_url("invitation_add"),
        "question set change": admin_url("questionset_change", version.question_set_id),
        "question change": admin_url(
            "question_change", version.new_draft().questions.order_by("pk").first().pk
        ),
        "data request add": admin_url("datarequest_add"),
        "version add": admin_url("questionsetversion_add"),
    }[form]
    return path, *form_page(clinic_admin, path)


@pytest.mark.parametrize("admin_form", FORMS, indirect=True)
@fuzz(EXAMPLES)
@given(data=st.data())
def test_no_post_to_an_admin_form_gives_a_server_error(clinic_admin, admin_form, data):
    path, valid, names = admin_form
    each_in_a_savepoint(clinic_admin, path, data.draw(bodies(valid, names)))


@pytest.fixture
def drafts_page(version, clinic_admin) -> tuple[str, dict[str, list[str]], list[str]]:
    path = admin_url("questionsetversion_change", version.new_draft().pk)
    return path, *form_page(clinic_admin, path)


@fuzz(FEW_EXAMPLES)
@given(data=st.data())
def test_no_post_to_a_drafts_page_gives_a_server_error(clinic_admin, drafts_page, data):
    path, valid, names = drafts_page
    each_in_a_savepoint(clinic_admin, path, data.draw(bodies(valid, names)))


@pytest.fixture
def submitted(version) -> QuestionSetVersion:
    draft = version.new_draft()
    draft.submit_for_approval(by=staff("sam", "Clinic admin"))
    return draft


@fuzz(EXAMPLES)
@given(data=st.data())
def test_no_post_to_approval_submit_or_publish_gives_a_server_error(
    clinic_admin, medical_lead, submitted, data
):
    fields = {"note": "Read it all.", "seen_hash": submitted.approval_hash()}
    approve = admin_url("questionsetversion_approve", submitted.pk)
    each_in_a_savepoint(medical_lead, approve, data.draw(bodies(fields, sorted(fields))))
    for name in ("submit", "publish", "new_draft", "retire"):
        path = admin_url(f"questionsetversion_{name}", submitted.pk)
        each_in_a_savepoint(clinic_admin, path, data.draw(bodies({}, ["note", "action"])))


# --- Correcting an answer on a submission's page --------------------------------------------

CORRECTIONS = {
    # A date that takes a month, or "not sure".
    "date": {
        "answer_question": "cold_sore_last_start",
        "answer": "5 2021",
        "answer_reason": "Confirmed",
    },
    # Ticked choices.
    "choices": {
        "answer_question": "treatment_areas",
        "answer": ["cheeks", "forehead"],
        "answer_reason": "Confirmed",
    },
}


@pytest.fixture(params=sorted(CORRECTIONS))
def correction_form(request, version, medical_lead) -> tuple[str, dict[str, list[str]], list[str]]:
    submission = make_submission(
        version,
        {"cold_sore_now": "no", "cold_sore_ever": "yes", "cold_sore_last_start": "2020-05"},
    )
    valid = as_lists(CORRECTIONS[request.param] | {"revision": "0"})
    return admin_url("submission_change", submission.pk), valid, [*sorted(valid), "answer_not_sure"]


@fuzz(EXAMPLES)
@given(data=st.data())
def test_no_post_correcting_an_answer_gives_a_server_error(medical_lead, correction_form, data):
    path, valid, names = correction_form
    each_in_a_savepoint(medical_lead, path, data.draw(bodies(valid, names)))


@fuzz(EXAMPLES)
# What a browser can put in a query string: any text but NUL (refused before the view) and lone
# surrogates (which no URL can carry).
@given(
    chosen=st.text(
        alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]),
        max_size=300,
    )
)
def test_no_question_chosen_to_correct_gives_a_server_error(medical_lead, version, chosen):
    submission = make_submission(version)
    path = admin_url("submission_change", submission.pk)

    response = medical_lead.get(path, {"correct": chosen})

    assert response.status_code in (200, 400)
