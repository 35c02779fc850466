"""Email on a server with none configured: one log line per message, without its links."""

import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from factories import (
    DETAILS,
    PREGNANT,
    logged_in,
    make_invitation,
    make_submission,
    staff,
    start,
    step_url,
)

from clinic.mail import LOG_ONLY, address_digest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def log_only(settings):
    settings.MAILERS = {"default": {"BACKEND": LOG_ONLY}}


def every_log_line(caplog) -> str:
    """What each record would print: its message and every field passed with it."""
    return "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)


def test_a_continue_later_email_is_logged_by_kind_without_its_link_or_address(
    client, version, log_only, caplog
):
    caplog.set_level(logging.DEBUG)
    start(client)

    response = client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})

    token = re.search(r"/continue/([^/\"]+)/", response.content.decode()).group(1)
    logged = every_log_line(caplog)
    assert token not in logged
    assert "ann@example.com" not in logged
    (line,) = [r for r in caplog.records if r.name == "clinic.mail"]
    assert (line.kind, line.to) == ("continue-later", [address_digest("ann@example.com")])


def test_a_practitioners_notice_is_logged_by_kind_only(version, log_only, caplog):
    from intake.review.notifications import notify_practitioners_of

    caplog.set_level(logging.DEBUG)
    staff("nina", "Practitioner").__class__.objects.filter(username="nina").update(
        email="nina@example-clinic.co.uk"
    )
    submission = make_submission(version, PREGNANT)

    notify_practitioners_of(str(submission.pk))

    logged = every_log_line(caplog)
    assert "nina@example-clinic.co.uk" not in logged
    assert submission.reference not in logged  # the subject names it; the log does not
    assert [r.kind for r in caplog.records if r.name == "clinic.mail"] == ["review-notice"]


def test_without_an_email_backend_production_logs_emails_and_check_deploy_warns():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "EMAIL_BACKEND"}}
    env |= {"SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "intake.example.org"}

    checked = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    backend = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.MAILERS['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr  # it starts
    assert "clinic.W001" in checked.stdout + checked.stderr
    assert backend.stdout.strip().splitlines()[-1] == LOG_ONLY


def test_a_page_never_says_an_email_went_when_none_was_sent(client, version, log_only):
    start(client)

    page = client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})

    assert "Your answers are saved" in page.content.decode()
    assert "emailed" not in page.content.decode().lower()


def test_no_new_invitation_link_is_made_when_it_could_not_be_sent(version, log_only):
    invitation, _ = make_invitation(version)
    before = invitation.token_digest
    admin = logged_in(Client(), staff("cara", "Clinic admin"))

    response = admin.post(
        "/admin/intake/invitation/",
        {"action": "email_new_link", "_selected_action": [str(invitation.pk)]},
        follow=True,
    )

    assert "no new links were made" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.token_digest == before  # the patient's link still works
