"""The clinic's phone, email and address, wherever a patient may need to get in touch."""

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.utils import timezone
from factories import (
    DETAILS,
    complete_until_check,
    logged_in,
    make_invitation,
    staff,
    start,
    step_url,
    submit,
)

pytestmark = pytest.mark.django_db

PHONE = 'href="tel:+442079460000">+44 20 7946 0000</a>'
EMAIL = 'href="mailto:hello@riverside.example">hello@riverside.example</a>'
ADDRESS = "12 High Street, Riverside &amp; Co, RS1 2AB"


@pytest.fixture
def contact(settings):
    settings.CLINIC_NAME = "Riverside <Skin> Clinic"
    settings.CLINIC_PHONE = "+44 20 7946 0000"
    settings.CLINIC_EMAIL = "hello@riverside.example"
    settings.CLINIC_ADDRESS = "12 High Street, Riverside & Co, RS1 2AB"


def assert_contact_shown(response) -> None:
    text = response.content.decode()
    assert PHONE in text
    assert EMAIL in text
    assert ADDRESS in text
    assert "Contact Riverside &lt;Skin&gt; Clinic" in text
    assert "<Skin>" not in text


def test_the_confirmation_page_gives_the_clinics_details(client, version, contact):
    start(client)
    submit(client, complete_until_check(client, version))

    response = client.get("/questionnaire/sent/")

    assert response.status_code == 200
    assert_contact_shown(response)


def test_the_not_found_page_gives_the_clinics_details(client, contact):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert_contact_shown(response)


def test_the_bad_request_page_gives_the_clinics_details(client, version, contact):
    start(client)

    response = client.post(step_url(1), {f"field_{n}": "x" for n in range(5000)})

    assert response.status_code == 400
    assert "Something went wrong with that request" in response.content.decode()
    assert_contact_shown(response)


def test_the_server_error_page_gives_the_clinics_details(version, contact, monkeypatch):
    from intake.patient import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "_offered_version", broken)

    response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 500
    assert_contact_shown(response)


def test_the_outage_page_gives_the_clinics_details(version, contact, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(CursorWrapper, "execute", unreachable)

    response = Client(raise_request_exception=False).post("/start/", {"treatment_date": ""})

    assert response.status_code == 503
    assert_contact_shown(response)


def test_the_too_many_attempts_page_gives_the_clinics_details(version, contact, settings):
    settings.RATE_LIMIT_STARTS_PER_HOUR = 1
    Client().post("/start/", {"treatment_date": ""})

    response = Client().post("/start/", {"treatment_date": ""})

    assert response.status_code == 429
    assert_contact_shown(response)


def test_expired_and_replaced_link_pages_give_the_clinics_details(
    client, version, contact, settings
):
    settings.DRAFT_DAYS = 3
    start(client)
    links = [
        re.search(r"/continue/[^\"]+/", page.content.decode()).group(0)
        for page in (
            client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})
            for _ in range(2)
        )
    ]

    replaced = Client().get(links[0])
    with time_machine.travel(timezone.now() + datetime.timedelta(days=4)):
        expired = Client().get(links[1])

    assert (replaced.status_code, expired.status_code) == (410, 410)
    assert_contact_shown(replaced)
    assert_contact_shown(expired)


def test_the_continue_later_email_gives_the_clinics_details(client, version, contact):
    start(client)

    client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})

    body = mail.outbox[-1].body
    assert "Phone: +44 20 7946 0000" in body
    assert "Email: hello@riverside.example" in body
    assert "Address: 12 High Street, Riverside & Co, RS1 2AB" in body
    assert body.rstrip().endswith("Riverside <Skin> Clinic")


def test_the_invitation_email_gives_the_clinics_details(client, version, contact):
    invitation, _ = make_invitation(version)
    logged_in(client, staff("nina", "Practitioner"))

    client.post(
        "/admin/intake/invitation/",
        {"action": "email_new_link", "_selected_action": [str(invitation.pk)]},
    )

    (sent,) = mail.outbox
    assert sent.to == ["bea@example.com"]
    assert "Phone: +44 20 7946 0000" in sent.body
    assert "Email: hello@riverside.example" in sent.body


def test_details_left_empty_are_not_shown(client, version, settings):
    settings.CLINIC_PHONE = ""
    settings.CLINIC_EMAIL = "hello@riverside.example"
    settings.CLINIC_ADDRESS = ""
    start(client)
    client.post(step_url(1), DETAILS | {"treatment_date": "", "action": "save"})

    page = client.get("/no-such-page/").content.decode()
    body = mail.outbox[-1].body

    assert EMAIL in page and "tel:" not in page and "<address" not in page
    assert "Phone:" not in body and "Address:" not in body
    settings.CLINIC_EMAIL = ""
    nothing = client.get("/no-such-page/").content.decode()
    assert "clinic-contact" not in nothing


def test_a_phone_link_keeps_only_digits_and_a_leading_plus():
    from clinic.contact import ClinicContact

    contact = ClinicContact(name="C", phone="(020) 7946-0000", email="a+b@c.example", address="")

    assert contact.phone_link == "tel:02079460000"
    assert ClinicContact("C", "+44 (0)20 7946 0000", "", "").phone_link == "tel:+442079460000"
    assert contact.email_link == "mailto:a%2Bb@c.example"
