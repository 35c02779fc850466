"""Preview as patient: a version step by step on the patient's own pages, storing nothing."""

import datetime
import html
import re

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from factories import DETAILS, appointment_post, logged_in, staff

from intake.models import Draft, Submission, import_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(make_document):
    return import_document(make_document())


@pytest.fixture
def admin_client(client):
    logged_in(client, staff("clinic.admin", "Clinic admin"))
    return client


def _state(response) -> str:
    match = re.search(r'name="preview_state" value="([^"]+)"', response.content.decode())
    assert match, "the page carries its state in a hidden field"
    return html.unescape(match.group(1))


def _post(client, draft, response, **data):
    url = reverse("admin:intake_questionsetversion_preview", args=[draft.pk])
    return client.post(url, {"preview_state": _state(response), **data})


def _text(response) -> str:
    words = re.sub(r"<[^>]+>", " ", response.content.decode())
    return html.unescape(re.sub(r"\s+", " ", words))


def test_the_preview_walks_through_every_step_and_stores_nothing(admin_client, draft):
    sessions_before = Session.objects.count()
    url = reverse("admin:intake_questionsetversion_preview", args=[draft.pk])

    details = admin_client.get(url)
    assert details.status_code == 200
    assert "Step 1 of 3: Your details" in _text(details)
    assert "Preview of Chemical peel v1 (1). Nothing you enter is stored or sent." in _text(details)
    assert "Back to the start" not in _text(details)  # the patient's start page is not the preview

    treatment = timezone.localdate() + datetime.timedelta(days=20)
    medicines = _post(
        admin_client,
        draft,
        details,
        action="continue",
        **DETAILS,
        **appointment_post(treatment),
    )
    assert "Step 2 of 3: Medicines" in _text(medicines)
    assert "Have you taken isotretinoin?" in _text(medicines)

    last_month = timezone.localdate() - datetime.timedelta(days=40)
    check = _post(
        admin_client,
        draft,
        medicines,
        action="continue",
        isotretinoin="yes",
        last_dose_day=str(last_month.day),
        last_dose_month=str(last_month.month),
        last_dose_year=str(last_month.year),
    )
    page = _text(check)
    assert "Check your answers" in page
    assert "Have you taken isotretinoin? Yes" in page
    assert "oral_isotretinoin (not_possible): Last dose within the blocking period." in page

    sent = _post(admin_client, draft, check, action="send")
    assert "This is a preview: nothing was sent and nothing is stored." in _text(sent)

    assert Draft.objects.count() == 0
    assert Submission.objects.count() == 0
    assert "intake_draft" not in admin_client.session
    assert Session.objects.count() == sessions_before


def test_a_preview_page_with_mistakes_shows_the_patients_error_messages(admin_client, draft):
    url = reverse("admin:intake_questionsetversion_preview", args=[draft.pk])
    details = admin_client.get(url)

    response = _post(admin_client, draft, details, action="continue", **(DETAILS | {"email": ""}))

    assert response.status_code == 400
    assert "Enter your email address" in _text(response)
    assert "Step 1 of 3" in _text(response)


def test_back_returns_to_the_previous_step_keeping_the_answers(admin_client, draft):
    url = reverse("admin:intake_questionsetversion_preview", args=[draft.pk])
    medicines = _post(admin_client, draft, admin_client.get(url), action="continue", **DETAILS)

    back = _post(admin_client, draft, medicines, action="back")

    assert "Step 1 of 3" in _text(back)
    assert 'value="Ann Example"' in back.content.decode()


def test_saving_for_later_is_switched_off_in_the_preview(admin_client, draft):
    url = reverse("admin:intake_questionsetversion_preview", args=[draft.pk])

    response = _post(admin_client, draft, admin_client.get(url), action="save", **DETAILS)

    assert "nothing is saved, so there is no link to continue later" in _text(response)
    assert Draft.objects.count() == 0


def test_a_tampered_preview_state_starts_again(admin_client, draft):
    url = reverse("admin:intake_questionsetversion_preview", args=[draft.pk])

    response = admin_client.post(url, {"preview_state": "junk", "action": "continue"})

    assert response.status_code == 400  # step 1 again, with the details missing
    assert "Step 1 of 3" in _text(response)


def test_a_draft_that_cannot_be_read_lists_its_problems_instead(admin_client, draft):
    draft.rules.update(when={"q": "nope", "is": "yes"})

    response = admin_client.get(reverse("admin:intake_questionsetversion_preview", args=[draft.pk]))

    assert response.status_code == 400
    assert 'Rule "isotretinoin_recent" refers to unknown question "nope".' in _text(response)


def test_a_practitioner_may_preview_but_staff_without_a_role_may_not(client, draft):
    url = reverse("admin:intake_questionsetversion_preview", args=[draft.pk])
    logged_in(client, staff("pat", "Practitioner"))
    assert client.get(url).status_code == 200
    logged_in(client, staff("nobody"))
    assert client.get(url).status_code == 403


def test_the_check_page_says_which_required_questions_are_unanswered(admin_client, draft):
    # A state the pages would not make (signed, as the preview signs it): a required answer
    # missing on the check page. Its flags cannot be known, and the page says so.
    from intake.authoring.preview import _signed
    from intake.patient.steps import Progress

    progress = Progress(details=dict(DETAILS_STORED), answers={}, treatment_date=None)
    url = reverse("admin:intake_questionsetversion_preview", args=[draft.pk])
    state = _signed(draft, 3, progress)

    page = admin_client.post(url, {"preview_state": state, "action": "stay"})

    assert "Required questions are not answered" in _text(page)
    assert "Have you taken isotretinoin? ( isotretinoin )" in _text(page)


DETAILS_STORED = {
    "full_name": "Ann Example",
    "date_of_birth": "1990-04-03",
    "email": "ann@example.com",
    "phone": "07700 900123",
}
