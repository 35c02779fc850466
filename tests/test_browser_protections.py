"""Every page, patient and staff alike, carries the browser protections and no-store."""

import re

import pytest
from django.test import Client
from factories import (
    COLD_SORE,
    DETAILS,
    logged_in,
    make_invitation,
    make_submission,
    staff,
    start,
    step_url,
)

pytestmark = pytest.mark.django_db


def patient_pages(version) -> dict[str, tuple[Client, str]]:
    patient = Client()
    draft = start(patient)
    patient.post(step_url(1), DETAILS | {"treatment_date": ""})
    assert draft.pk
    saved = patient.post(step_url(2), {"action": "save"})
    resume = re.search(r"/continue/[^\"]+/", saved.content.decode()).group(0)
    _, token = make_invitation(version)
    return {
        "start page": (Client(), "/"),
        "details step": (patient, step_url(1)),
        "section step": (patient, step_url(2)),
        "resume link": (Client(), resume),
        "invitation": (Client(), f"/invitation/{token}/"),
        "health check": (Client(), "/healthz"),
    }


def staff_pages(version) -> dict[str, tuple[Client, str]]:
    submission = make_submission(version, COLD_SORE)
    admin = logged_in(Client(), staff("cara", "Clinic admin"))
    password_only = Client()
    password_only.force_login(staff("nina", "Practitioner"))
    return {
        "login page": (Client(), "/admin/login/"),
        "two-factor page": (password_only, "/staff/two-factor/"),
        "review queue": (admin, "/admin/intake/submission/"),
        "submission page": (admin, f"/admin/intake/submission/{submission.pk}/change/"),
        "print view": (admin, f"/admin/intake/submission/{submission.pk}/print/"),
        "question sets": (admin, "/admin/intake/questionset/"),
        "audit log": (admin, "/admin/intake/auditentry/"),
    }


PAGES = [
    "start page",
    "details step",
    "section step",
    "resume link",
    "invitation",
    "health check",
    "login page",
    "two-factor page",
    "review queue",
    "submission page",
    "print view",
    "question sets",
    "audit log",
]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_sends_the_browser_protections(version, name):
    pages = patient_pages(version) | staff_pages(version)
    client, url = pages[name]

    response = client.get(url, secure=True)

    assert response.status_code < 500
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    # The nonce is listed when the page used it; either way no inline script runs without it.
    assert re.search(r"script-src 'self'( 'nonce-[A-Za-z0-9_-]+')?;", csp)
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]
    denied = response["Permissions-Policy"].split(", ")
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in denied


def test_the_staff_pages_after_sign_in_are_not_cached_either(version):
    submission = make_submission(version)
    admin = logged_in(Client(), staff("cara", "Clinic admin"))

    response = admin.get(f"/admin/intake/submission/{submission.pk}/change/", secure=True)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_cookies_are_secure_host_only_and_same_site(version):
    client = Client()
    page = client.get("/", secure=True)
    started = client.post("/start/", {"treatment_date": ""}, secure=True)
    cookies = page.cookies | started.cookies

    assert set(cookies) == {"__Host-csrftoken", "__Host-sessionid"}
    for name, cookie in cookies.items():
        assert cookie["secure"] is True, name
        assert cookie["samesite"] == "Lax", name
        assert cookie["path"] == "/", name
        assert not cookie["domain"], name
    assert cookies["__Host-sessionid"]["httponly"] is True


def test_codes_and_answers_are_kept_out_of_error_reports(rf, version):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    from intake import staff_access
    from intake.patient import views

    def post(url: str, data: dict):
        request = rf.post(url, data)
        request.session = SessionStore()
        request._messages = FallbackStorage(request)
        return request

    # Django marks the request so that its error reports mask these POST fields.
    request = post("/staff/two-factor/", {"code": "123456"})
    request.user = staff("pat")
    staff_access.two_factor(request)
    step_request = post("/questionnaire/1/", {"full_name": "Ann"})
    views.step(step_request, 1)

    assert tuple(request.sensitive_post_parameters) == ("code",)
    assert step_request.sensitive_post_parameters == "__ALL__"
