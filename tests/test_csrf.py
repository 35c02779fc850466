"""Every request that changes something needs the page's CSRF token; without it, nothing happens.

A browser that loaded no page of ours cannot have the token, so a cross-site form gets the clinic's
own 403 page (templates/403_csrf.html) and stores nothing.
"""

import re

import pytest
from django.test import Client
from factories import (
    COLD_SORE,
    DETAILS,
    complete_until_check,
    logged_in,
    make_invitation,
    make_submission,
    page,
    section_post,
    staff,
    start,
    step_url,
)

from intake import published
from intake.models import (
    Draft,
    FlagDecision,
    Invitation,
    ReviewEvent,
    Submission,
)

pytestmark = pytest.mark.django_db


CSRF_PAGE = "If your form had been open for a long time"
CONSENT = {"accurate": "on", "processing": "on", "signature": "Ann Example"}


def without_token(client: Client) -> Client:
    """A client with the same session that sends no CSRF token, as a cross-site form would."""
    cross_site = Client(enforce_csrf_checks=True)
    cross_site.cookies = client.cookies
    return cross_site


def state() -> tuple:
    """What a refused post must leave as it was."""
    return (
        list(Draft.objects.order_by("pk").values()),
        list(Invitation.objects.order_by("pk").values()),
        list(Submission.objects.order_by("pk").values()),
        FlagDecision.objects.count(),
        ReviewEvent.objects.count(),
    )


def assert_refused(response) -> None:
    assert response.status_code == 403
    text = response.content.decode()
    assert CSRF_PAGE in text
    assert "/static/intake/site.css" in text  # the clinic's styled page, not Django's bare one


@pytest.fixture
def patient(client, version) -> Client:
    """A patient with every step done, on the check page."""
    start(client)
    complete_until_check(client, version)
    return client


def patient_posts(version) -> dict[str, tuple[str, dict]]:
    steps = published.questionnaire(version).steps
    first_section = steps[1]
    section = section_post(version, first_section.section_key)
    return {
        "start": ("/start/", {"treatment_date": ""}),
        "details": (step_url(1), DETAILS | {"treatment_date": ""}),
        "a section": (step_url(first_section.number), section),
        "save and continue later": (step_url(first_section.number), section | {"action": "save"}),
        "submit": (step_url(steps[-1].number), CONSENT),
        "leave": ("/questionnaire/leave/", {}),
    }


@pytest.mark.parametrize(
    "action", ["start", "details", "a section", "save and continue later", "submit", "leave"]
)
def test_patient_posts_without_a_token_are_refused_and_change_nothing(patient, version, action):
    url, data = patient_posts(version)[action]
    before = state()

    response = without_token(patient).post(url, data)

    assert_refused(response)
    assert state() == before
    # The questionnaire is still there for this browser: "leave" did not forget it either.
    assert patient.get(step_url(1)).status_code == 200


def test_starting_from_an_invitation_without_a_token_is_refused(client, version):
    _, token = make_invitation(version)

    response = Client(enforce_csrf_checks=True).post(f"/invitation/{token}/")

    assert_refused(response)
    assert Draft.objects.count() == 0


def test_the_same_post_with_the_pages_token_is_accepted(version):
    browser = Client(enforce_csrf_checks=True)
    page_html = browser.get("/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page_html).group(1)

    response = browser.post("/start/", {"treatment_date": "", "csrfmiddlewaretoken": token})

    assert response.status_code == 302
    assert Draft.objects.count() == 1


@pytest.fixture
def submission(version) -> Submission:
    return make_submission(version, COLD_SORE)


def admin_posts(submission: Submission) -> dict[str, tuple[str, dict]]:
    flag = submission.current_flags().get()
    invitation, _ = make_invitation(submission.version)
    return {
        "review status": (page(submission), {"status": "in_review", "reason": "x", "revision": 0}),
        "flag decision": (
            page(submission),
            {"flag": flag.pk, "kind": "acknowledged", "note": "x", "offered": "no", "revision": 0},
        ),
        "treatment date": (
            page(submission),
            {"treatment_date": "", "date_reason": "Cancelled", "revision": 0},
        ),
        "export": (
            "/admin/intake/submission/",
            {"action": "export_csv", "_selected_action": [str(submission.pk)]},
        ),
        "new invitation": (
            "/admin/intake/invitation/add/",
            {
                "question_set": submission.version.question_set_id,
                "patient_name": "Bea",
                "email": "bea@example.com",
            },
        ),
        "email a new link": (
            "/admin/intake/invitation/",
            {"action": "email_new_link", "_selected_action": [str(invitation.pk)]},
        ),
        "log out": ("/admin/logout/", {}),
    }


@pytest.mark.parametrize(
    "action",
    [
        "review status",
        "flag decision",
        "treatment date",
        "export",
        "new invitation",
        "email a new link",
        "log out",
    ],
)
def test_admin_posts_without_a_token_are_refused_and_change_nothing(submission, mailoutbox, action):
    url, data = admin_posts(submission)[action]
    browser = Client(enforce_csrf_checks=True)
    logged_in(browser, staff("boss", "Clinic admin", "Medical lead"))
    before = state()

    response = browser.post(url, data)

    assert_refused(response)
    assert state() == before
    assert mailoutbox == []
    assert browser.get("/admin/intake/submission/").status_code == 200  # still logged in


def test_logging_in_without_a_token_is_refused(version):
    staff("boss", "Clinic admin")
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        "/admin/login/", {"username": "boss", "password": "a-long-password-123"}
    )

    assert_refused(response)
    assert browser.get("/admin/intake/submission/").status_code == 302
