import io
import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_home_page_names_the_clinic_and_the_question_set(
    client, settings, make_document, tmp_path
):
    settings.CLINIC_NAME = "Riverside Skin Clinic"
    settings.DEFAULT_QUESTION_SET = "peel"
    path = tmp_path / "peel.json"
    path.write_text(json.dumps(make_document()), encoding="utf-8")
    call_command("load_question_set", str(path), "--publish", stdout=io.StringIO())

    response = client.get("/")

    assert response.status_code == 200
    assert "Riverside Skin Clinic" in response.text
    assert "Chemical peel" in response.text


def test_the_home_page_works_before_any_question_set_is_loaded(client):
    response = client.get("/")

    assert response.status_code == 200
    assert "isn't available just now" in response.text


def test_the_admin_login_page_is_served(client):
    response = client.get("/admin/login/")

    assert response.status_code == 200
    assert 'name="password"' in response.text


def test_the_admin_sends_anonymous_visitors_to_log_in(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
