"""Staff accounts: passwords, two-step sign-in, lockout and session limits."""

import datetime
import json
import logging
import re
from io import StringIO

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from factories import logged_in, staff

import clinic.settings
from clinic.logs import JsonFormatter

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-password-123"


def code_for(device: TOTPDevice, at: float | None = None) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=0)
    return f"{value:06d}"


def signed_in_with_password(user) -> Client:
    client = Client()
    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


# Passwords


def test_passwords_are_hashed_with_argon2():
    with override_settings(PASSWORD_HASHERS=clinic.settings.PASSWORD_HASHERS):
        assert make_password(PASSWORD).startswith("argon2$")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-pass1", "at least 12 characters"),
        ("qwertyuiop123", "too common"),
        ("cara.jones.clinic", "too similar"),
        ("349857203948572", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused(password, problem):
    user = staff("cara.jones.clinic")

    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)

    assert problem in " ".join(refused.value.messages)


# Two-step sign-in


def test_a_password_alone_does_not_open_the_admin():
    client = signed_in_with_password(staff("pat", "Practitioner"))

    response = client.get("/admin/intake/submission/")

    assert response.status_code == 302
    assert response["Location"] == "/staff/two-factor/?next=%2Fadmin%2Fintake%2Fsubmission%2F"


def test_enrolment_shows_a_qr_code_then_backup_codes_and_opens_the_admin(caplog):
    caplog.set_level(logging.INFO)
    user = staff("pat", "Practitioner")
    client = signed_in_with_password(user)

    page = client.get("/staff/two-factor/?next=/admin/")
    device = TOTPDevice.objects.get(user=user)
    wrong = client.post("/staff/two-factor/", {"code": "000000", "next": "/admin/"})
    unconfirmed = TOTPDevice.objects.get(user=user).confirmed
    # After a wrong code, the next try is accepted only after a short, growing pause.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=3)):
        confirmed = client.post("/staff/two-factor/", {"code": code_for(device), "next": "/admin/"})

    assert "<svg" in page.content.decode()
    assert "Set up two-step sign-in" in page.content.decode()
    assert "not right" in wrong.content.decode()
    assert unconfirmed is False
    codes = re.findall(r"<code>([a-z0-9]+)</code>", confirmed.content.decode())
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get("/admin/").status_code == 200
    events = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    assert "two_factor_enrolled" in [e.get("event") for e in events]
    assert codes[0] not in caplog.text


def enrolled(user) -> TOTPDevice:
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return device


def test_a_used_code_cannot_be_used_again():
    user = staff("pat", "Practitioner")
    device = enrolled(user)
    code = code_for(device)
    first = signed_in_with_password(user)
    first.post("/staff/two-factor/", {"code": code, "next": "/admin/"})
    second = signed_in_with_password(user)

    replay = second.post("/staff/two-factor/", {"code": code, "next": "/admin/"})

    assert first.get("/admin/").status_code == 200
    assert "not right, or has been used already" in replay.content.decode()
    assert second.get("/admin/").status_code == 302


def test_a_backup_code_works_once():
    from intake.staff_access import issue_backup_codes

    user = staff("pat", "Practitioner")
    enrolled(user)
    [code, *_] = issue_backup_codes(user)

    first = signed_in_with_password(user)
    first.post("/staff/two-factor/", {"code": code, "next": "/admin/"})
    second = signed_in_with_password(user)
    second.post("/staff/two-factor/", {"code": code, "next": "/admin/"})

    assert first.get("/admin/").status_code == 200
    assert second.get("/admin/").status_code == 302


def test_a_lost_device_is_reset_with_a_command_and_the_user_enrols_again():
    user = staff("pat", "Practitioner")
    enrolled(user)
    out = StringIO()

    call_command("reset_two_factor", "pat", stdout=out)
    page = signed_in_with_password(user).get("/staff/two-factor/")

    assert "Removed" in out.getvalue()
    assert "Set up two-step sign-in" in page.content.decode()
    with pytest.raises(Exception, match="No user"):
        call_command("reset_two_factor", "nobody")


def test_the_session_key_changes_once_the_second_step_is_done():
    user = staff("pat", "Practitioner")
    device = enrolled(user)
    client = signed_in_with_password(user)
    between_steps = client.cookies[clinic_session_cookie()].value

    client.post("/staff/two-factor/", {"code": code_for(device), "next": "/admin/"})

    assert client.cookies[clinic_session_cookie()].value != between_steps
    assert client.get("/admin/").status_code == 200
    stolen = Client()
    stolen.cookies[clinic_session_cookie()] = between_steps
    assert stolen.get("/admin/").status_code == 302


def test_a_redirect_after_the_second_step_never_leaves_the_site():
    user = staff("pat", "Practitioner")
    device = enrolled(user)
    client = signed_in_with_password(user)

    response = client.post(
        "/staff/two-factor/", {"code": code_for(device), "next": "https://evil.example/"}
    )

    assert response["Location"] == "/admin/"


# Lockout


def attempt(client: Client, password: str, address: str = "203.0.113.9"):
    return client.post(
        "/admin/login/", {"username": "pat", "password": password}, REMOTE_ADDR=address
    )


def test_five_failures_lock_the_username_from_that_address_for_15_minutes(caplog):
    caplog.set_level(logging.INFO)
    staff("pat", "Practitioner")
    client = Client()
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        failures = [attempt(client, "wrong-password-guess") for _ in range(5)]
        locked = attempt(client, PASSWORD)
        elsewhere = attempt(Client(), PASSWORD, address="198.51.100.4")
    with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
        later = attempt(Client(), PASSWORD)

    assert [r.status_code for r in failures] == [200] * 4 + [429]
    assert locked.status_code == 429
    assert "paused sign-in for 15 minutes" in locked.content.decode()
    assert elsewhere.status_code == 302
    assert later.status_code == 302
    events = [json.loads(JsonFormatter().format(r)).get("event") for r in caplog.records]
    assert "lockout" in events


@pytest.mark.parametrize("length", [151, 256, 10_000])
def test_a_username_longer_than_any_account_is_refused_without_a_server_error(length):
    response = attempt_as("p" * length)

    assert response.status_code == 200
    assert "Please enter the correct username and password" in response.content.decode()
    assert not AccessAttempt.objects.exists()  # nothing stored under it


def test_a_username_as_long_as_an_account_can_have_is_still_counted():
    response = attempt_as("p" * 150)

    assert response.status_code == 200
    assert AccessAttempt.objects.get().username == "p" * 150


def attempt_as(username: str):
    return Client().post(
        "/admin/login/", {"username": username, "password": "a-guess"}, REMOTE_ADDR="203.0.113.9"
    )


# Sessions


def test_signing_in_gives_a_new_session_key():
    user = staff("pat", "Practitioner")
    client = Client()
    client.get("/admin/login/")
    client.cookies[clinic_session_cookie()] = "attacker-chosen-session-key"

    client.post("/admin/login/", {"username": "pat", "password": PASSWORD})

    assert client.cookies[clinic_session_cookie()].value != "attacker-chosen-session-key"
    assert Session.objects.count() == 1
    assert user.pk


def clinic_session_cookie() -> str:
    from django.conf import settings

    return settings.SESSION_COOKIE_NAME


def test_an_idle_staff_session_ends_after_30_minutes():
    client = logged_in(Client(), staff("pat", "Practitioner"))
    start = timezone.now()

    with time_machine.travel(start + datetime.timedelta(minutes=29)):
        active = client.get("/admin/")
    with time_machine.travel(start + datetime.timedelta(minutes=58)):
        still_active = client.get("/admin/")
    with time_machine.travel(start + datetime.timedelta(minutes=90)):
        idle = client.get("/admin/")

    assert active.status_code == still_active.status_code == 200
    assert idle.status_code == 302 and idle["Location"].startswith("/admin/login/")


def test_a_staff_session_ends_12_hours_after_signing_in_however_busy():
    client = logged_in(Client(), staff("pat", "Practitioner"))
    start = timezone.now()

    for minutes in range(20, 12 * 60, 20):
        with time_machine.travel(start + datetime.timedelta(minutes=minutes)):
            assert client.get("/admin/").status_code == 200, minutes
    with time_machine.travel(start + datetime.timedelta(hours=12, minutes=10)):
        expired = client.get("/admin/")

    assert expired.status_code == 302


def test_logout_is_post_only_and_ends_the_server_side_session():
    client = logged_in(Client(), staff("pat", "Practitioner"))

    by_link = client.get("/admin/logout/")
    by_form = client.post("/admin/logout/")

    assert by_link.status_code == 405
    assert by_form.status_code == 200
    assert not Session.objects.exists()
    # Nothing from the staff session stays in a shared browser's cache or storage.
    assert by_form["Clear-Site-Data"] == '"cache", "storage"'
    assert "Clear-Site-Data" not in by_link


def test_a_deactivated_user_loses_access_on_the_next_request():
    user = staff("pat", "Practitioner")
    client = logged_in(Client(), user)
    assert client.get("/admin/").status_code == 200

    user.is_active = False
    user.save()

    assert client.get("/admin/").status_code == 302


def test_a_password_change_ends_the_users_other_sessions():
    user = staff("pat", "Practitioner")
    other_device = logged_in(Client(), user)
    this_device = logged_in(Client(), user)

    changed = this_device.post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase-42",
            "new_password2": "another-long-passphrase-42",
        },
    )

    assert changed.status_code == 302
    assert this_device.get("/admin/").status_code == 200
    assert other_device.get("/admin/").status_code == 302


# What is public


PUBLIC = {
    "healthz",
    "intake:home",
    "intake:start",
    "intake:invitation",
    "intake:resume",
    "intake:step",
    "intake:recheck",
    "intake:done",
    "intake:leave",
}


def views(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from views(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern.callback


def test_only_the_patient_pages_the_health_check_and_the_login_pages_are_public():
    public = {
        name
        for name, callback in views()
        if not getattr(callback, "login_required", True) and not name.startswith("admin:")
    }

    assert public == PUBLIC
    assert Client().get("/staff/two-factor/").status_code == 302
