import re

import pytest
from django.core import mail
from factories import logged_in

from intake.models import Invitation, QuestionSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("lead", password="a-long-password-123")
    return logged_in(client, user)


@pytest.fixture
def question_set():
    return QuestionSet.objects.create(slug="skinpen", title="SkinPen")


def test_creating_an_invitation_shows_its_link_once_and_the_link_works(
    staff_client, question_set, client
):
    response = staff_client.post(
        "/admin/intake/invitation/add/",
        {
            "question_set": question_set.pk,
            "patient_name": "Bea Invited",
            "email": "bea@example.com",
            "treatment_date": "2030-01-15",
        },
        follow=True,
    )

    page = response.content.decode()
    link = re.search(r'href="http://testserver(/invitation/[^"]+/)"', page).group(1)
    invitation = Invitation.objects.get()
    assert invitation.created_by.username == "lead"
    assert Invitation.objects.by_token(link.split("/")[2]) == invitation
    change_page = staff_client.get(f"/admin/intake/invitation/{invitation.pk}/change/")
    assert link.split("/")[2] not in change_page.content.decode()


def test_emailing_a_new_link_replaces_the_old_one(staff_client, question_set):
    invitation = Invitation(question_set=question_set, patient_name="Bea", email="bea@example.com")
    old = invitation.issue_token()
    invitation.save()

    staff_client.post(
        "/admin/intake/invitation/",
        {"action": "email_new_link", "_selected_action": [str(invitation.pk)]},
    )

    assert mail.outbox[0].to == ["bea@example.com"]
    new = re.search(r"/invitation/([^/]+)/", mail.outbox[0].body).group(1)
    assert Invitation.objects.by_token(new) == invitation
    assert Invitation.objects.by_token(old) is None
