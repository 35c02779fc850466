"""Nobody reaches what is not theirs: patients only their questionnaire, staff only their role's.

Patients have no accounts, so a link's token (or the browser's session) is the only key to a
questionnaire: anything else, guessed, sequential or someone else's, is simply not found. The
review roles' matrix is in test_review_admin.py; these are the gaps around it.
"""

import uuid

import pytest
from django.test import Client
from django.utils import timezone
from factories import (
    complete_until_check,
    logged_in,
    make_invitation,
    make_submission,
    staff,
    start,
    step_url,
    submit,
)

from intake.models import (
    Draft,
    Invitation,
    QuestionSet,
    QuestionSetVersion,
    Submission,
)
from intake.submissions import start_draft

pytestmark = pytest.mark.django_db


def patient_with_a_draft(version: QuestionSetVersion) -> tuple[Draft, str]:
    """Someone else's questionnaire in progress, and their "continue later" token."""
    return start_draft(version, now=timezone.now())


# Patients


def test_a_continue_link_only_opens_its_own_draft(client, version):
    mine = start(client)
    other, other_token = patient_with_a_draft(version)
    Draft.objects.filter(pk=other.pk).update(details={"full_name": "Other Patient"})

    # Knowing the other draft's id gets nowhere: it is not a token, and no URL takes an id.
    # (A token ends in "A" one time in 16, so the last character is changed to another one.)
    one_off = other_token[:-1] + ("B" if other_token[-1] != "B" else "C")
    for guess in (str(other.pk), other.pk.hex, other.resume_digest, one_off):
        assert client.get(f"/continue/{guess}/").status_code == 404
    assert "Other Patient" not in client.get(step_url(1)).content.decode()
    assert client.get(step_url(1)).context["draft"].pk == mine.pk


def test_a_superseded_continue_link_opens_nothing(client, version):
    draft, old_token = patient_with_a_draft(version)
    draft.replace_resume_link()

    response = client.get(f"/continue/{old_token}/")

    assert response.status_code == 410
    assert "This link has been replaced" in response.content.decode()
    assert client.get(step_url(1))["Location"] == "/"


@pytest.mark.parametrize("how", ["id", "hex id", "stored digest", "one character off", "empty"])
def test_guessed_invitation_links_are_not_found(client, version, how):
    invitation, token = make_invitation(version)
    guess = {
        "id": str(invitation.pk),
        "hex id": invitation.pk.hex,
        "stored digest": invitation.token_digest,
        "one character off": token[:-1] + ("B" if token[-1] != "B" else "C"),
        "empty": " ",
    }[how]

    assert client.get(f"/invitation/{guess}/").status_code == 404
    assert client.post(f"/invitation/{guess}/").status_code == 404
    assert Draft.objects.count() == 0


def test_the_confirmation_shows_only_this_browsers_submission(client, version):
    start(client)
    submit(client, complete_until_check(client, version))
    first = Submission.objects.get()
    someone_else = Client()

    assert someone_else.get("/questionnaire/sent/")["Location"] == "/"
    # A session that names a submitted draft shows that draft's submission and no other.
    assert first.reference in client.get("/questionnaire/sent/").content.decode()


@pytest.mark.parametrize("number", ["0", "99", "99999999999999999999"])
def test_sequential_or_huge_step_numbers_are_not_found(client, version, number):
    start(client)

    assert client.get(f"/questionnaire/{number}/").status_code == 404


# Staff: sequential and guessed identifiers


@pytest.mark.parametrize(
    "url",
    [
        "/admin/intake/submission/1/change/",
        "/admin/intake/submission/1/print/",
        "/admin/intake/submission/REFERENCE/change/",
        "/admin/intake/submission/RANDOM/print/",
    ],
)
def test_guessed_submission_addresses_are_not_found(client, version, url):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))
    url = url.replace("REFERENCE", submission.reference).replace("RANDOM", str(uuid.uuid4()))

    response = client.get(url, follow=True)

    assert response.status_code == 404 or "doesn’t exist" in response.content.decode()
    assert submission.patient_name not in response.content.decode()


# Staff: question sets are for clinic admins


@pytest.fixture
def question_set(version) -> QuestionSet:
    return version.question_set


def test_a_practitioner_sees_a_question_set_but_cannot_change_it(client, question_set):
    logged_in(client, staff("p", "Practitioner"))
    url = f"/admin/intake/questionset/{question_set.pk}/change/"

    page = client.get(url)
    posted = client.post(url, {"title": "Changed", "slug": "changed", "description": ""})

    assert page.status_code == 200
    assert 'name="title"' not in page.content.decode()  # read-only: no form fields
    assert posted.status_code == 403
    assert QuestionSet.objects.get(pk=question_set.pk).title == question_set.title


@pytest.mark.parametrize("action", ["add", "delete"])
def test_a_practitioner_cannot_add_or_delete_question_sets(client, question_set, action):
    logged_in(client, staff("p", "Practitioner"))
    url = {
        "add": "/admin/intake/questionset/add/",
        "delete": f"/admin/intake/questionset/{question_set.pk}/delete/",
    }[action]

    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes", "title": "New", "slug": "new"}).status_code == 403
    assert list(QuestionSet.objects.all()) == [question_set]


def test_a_published_version_is_not_editable_through_the_admin_by_anyone(client, question_set):
    version = question_set.versions.get()
    before = (version.label, version.content_hash)
    logged_in(client, staff("root", superuser=True))
    url = f"/admin/intake/questionsetversion/{version.pk}/change/"

    page = client.get(url)
    client.post(url, {"label": "changed", "notes": "changed"})

    version.refresh_from_db()
    assert page.status_code == 200
    assert 'name="label"' not in page.content.decode()
    assert (version.label, version.content_hash) == before


def test_a_clinic_admin_can_change_a_question_sets_title(client, question_set):
    logged_in(client, staff("boss", "Clinic admin"))

    response = client.post(
        f"/admin/intake/questionset/{question_set.pk}/change/",
        {
            "title": "SkinPen (face)",
            "slug": question_set.slug,
            "description": "",
            "versions-TOTAL_FORMS": "1",
            "versions-INITIAL_FORMS": "1",
            "versions-MIN_NUM_FORMS": "0",
            "versions-MAX_NUM_FORMS": "1000",
            "versions-0-id": str(question_set.versions.get().pk),
            "versions-0-question_set": str(question_set.pk),
        },
    )

    assert response.status_code == 302
    assert QuestionSet.objects.get(pk=question_set.pk).title == "SkinPen (face)"


# Staff: the gaps in the roles' matrix


@pytest.mark.parametrize(
    ("role", "may"),
    [("Practitioner", False), ("Medical lead", False), ("Clinic admin", True)],
)
def test_only_clinic_admins_read_an_audit_entry(client, version, role, may):
    submission = make_submission(version)
    reader = staff("reader", "Clinic admin")
    logged_in(Client(), reader).get(f"/admin/intake/submission/{submission.pk}/change/")
    entry = submission.audit_entries.get()
    logged_in(client, staff("someone", role))

    response = client.get(f"/admin/intake/auditentry/{entry.pk}/change/")

    assert response.status_code == (200 if may else 403)


@pytest.mark.parametrize("role", ["Practitioner", "Clinic admin", "Medical lead"])
def test_no_role_deletes_an_invitation(client, version, role):
    invitation, _ = make_invitation(version)
    logged_in(client, staff("someone", role))

    response = client.post(f"/admin/intake/invitation/{invitation.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_staff_without_a_role_reach_no_patient_data(client, version):
    submission = make_submission(version)
    invitation, _ = make_invitation(version)
    logged_in(client, staff("nobody"))

    for url in (
        f"/admin/intake/submission/{submission.pk}/print/",
        "/admin/intake/invitation/",
        f"/admin/intake/invitation/{invitation.pk}/change/",
        "/admin/intake/auditentry/",
    ):
        assert client.get(url).status_code == 403, url
