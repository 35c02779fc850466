"""Follow-ups the page offers are those the server will keep: other steps' answers and the
appointment date are applied in each follow-up's condition before the page gets it."""

import datetime
import html
import json
import re
from typing import Any

import pytest
from django.test import Client
from factories import APPOINTMENT, DETAILS, TODAY, appointment_post, section_post, step_url

from intake import published
from intake.models import Draft, QuestionSetVersion
from intake.rules import residual_truth
from intake.rules.conditions import FALSE, TRUE

pytestmark = pytest.mark.django_db

FOLLOW_UPS = [
    "cold_sore_last_start",
    "cold_sore_frequency",
    "cold_sore_where",
    "cold_sore_near_area",
    "cold_sore_after_procedure",
    "cold_sore_daily_antiviral",
    "kidney_problems",
    "antiviral_allergy",
]


def cold_sores_step(version: QuestionSetVersion) -> int:
    return next(
        s.number for s in published.questionnaire(version).steps if s.section_key == "cold_sores"
    )


def patient_at_cold_sores(
    version: QuestionSetVersion,
    *,
    areas: list[str],
    appointment: datetime.date | None = APPOINTMENT,
) -> Client:
    """A new patient with every step before "Cold sores" done, treating these areas."""
    patient = Client()
    assert patient.post("/start/", {"treatment_date": ""}).status_code == 302
    assert patient.post(step_url(1), DETAILS | appointment_post(appointment)).status_code == 302
    for step in published.questionnaire(version).steps[1:]:
        if step.section_key == "cold_sores":
            break
        extra = {"treatment_areas": areas} if step.section_key == "about_you" else {}
        data = section_post(version, step.section_key, **extra)
        response = patient.post(step_url(step.number), data)
        assert response.status_code == 302, response.content.decode()[:2000]
    return patient


def on_page(page: str) -> list[str]:
    return re.findall(r'data-question="([^"]+)"', page)


def conditions(page: str) -> dict[str, Any]:
    """Each follow-up's condition as the page sends it to the script, by question key."""
    found = {}
    for name, text in re.findall(r'name="(\w+)"[^>]*data-show-if="([^"]*)"', page):
        key = re.sub(r"_(day|month|year|not_sure)$", "", name)
        found[key] = json.loads(html.unescape(text))
    return found


def test_a_face_only_patient_is_not_offered_the_body_area_question_nor_kept_follow_ups(version):
    patient = patient_at_cold_sores(version, areas=["cheeks"])
    page = patient.get(step_url(cold_sores_step(version))).content.decode()
    sent = conditions(page)

    assert "herpes_near_body_area" not in on_page(page)
    # Each follow-up hangs on "Have you ever had a cold sore?" alone, so "No" hides them all, and
    # nothing hides them before the question is answered.
    for key in FOLLOW_UPS:
        assert sent[key] == {"q": "cold_sore_ever", "is": "yes"}, key
        assert residual_truth(sent[key], {"cold_sore_ever": "no"}) is FALSE
        assert residual_truth(sent[key], {}) is FALSE
        assert residual_truth(sent[key], {"cold_sore_ever": "yes"}) is TRUE
    assert 'data-question="cold_sore_frequency" data-initially-hidden' in page

    answers = section_post(version, "cold_sores", cold_sore_ever="no") | {
        "cold_sore_where": "Top lip",
        "cold_sore_frequency": "rarely",
    }
    assert patient.post(step_url(cold_sores_step(version)), answers).status_code == 302
    kept = Draft.objects.latest("pk").answers
    assert kept["cold_sore_ever"] == "no"
    assert not set(FOLLOW_UPS) & kept.keys()


def test_a_patient_treating_the_neck_is_asked_about_it_on_the_page(version):
    patient = patient_at_cold_sores(version, areas=["cheeks", "neck"])
    page = patient.get(step_url(cold_sores_step(version))).content.decode()
    sent = conditions(page)

    assert "herpes_near_body_area" in on_page(page)
    assert "herpes_near_body_area" not in sent  # asked of this patient whatever they answer
    either = {
        "any": [{"q": "cold_sore_ever", "is": "yes"}, {"q": "herpes_near_body_area", "is": "yes"}]
    }
    assert sent["cold_sore_frequency"] == either
    assert residual_truth(either, {"herpes_near_body_area": "yes"}) is TRUE


def healed_truth(page: str, started: datetime.date) -> Any:
    return residual_truth(
        conditions(page)["cold_sore_healed"], {"cold_sore_last_start": started.isoformat()}
    )


def test_healed_is_not_asked_of_a_cold_sore_long_before_the_appointment(version):
    appointment = TODAY + datetime.timedelta(days=10)
    patient = patient_at_cold_sores(version, areas=["cheeks"], appointment=appointment)
    step = cold_sores_step(version)
    page = patient.get(step_url(step)).content.decode()

    # 28 days before the appointment: still to be checked; months before: healed long since.
    assert healed_truth(page, appointment - datetime.timedelta(days=27)) is TRUE
    assert healed_truth(page, TODAY - datetime.timedelta(days=120)) is FALSE
    assert healed_truth(page, appointment - datetime.timedelta(days=28)) is FALSE

    long_ago = (TODAY - datetime.timedelta(days=120)).isoformat()
    answers = section_post(
        version,
        "cold_sores",
        cold_sore_ever="yes",
        cold_sore_last_start=long_ago,
        cold_sore_healed="no",
    )
    assert patient.post(step_url(step), answers).status_code == 302
    kept = Draft.objects.latest("pk").answers
    assert kept["cold_sore_last_start"] == long_ago
    assert "cold_sore_healed" not in kept


def step_pages_kept() -> int:
    return sum(1 for key in published._entries if key[1][0] == "step")


def test_the_shared_page_carries_each_patients_own_conditions(version):
    step = cold_sores_step(version)
    face = patient_at_cold_sores(version, areas=["cheeks"])
    neck = patient_at_cold_sores(version, areas=["neck"])
    later = patient_at_cold_sores(
        version, areas=["cheeks"], appointment=APPOINTMENT + datetime.timedelta(days=40)
    )
    published._entries.clear()
    pages = {}
    for name, patient in [("face", face), ("neck", neck), ("later", later)]:
        pages[name] = patient.get(step_url(step)).content.decode()
    face_again = patient_at_cold_sores(version, areas=["cheeks"])
    same = face_again.get(step_url(step)).content.decode()

    assert conditions(pages["face"])["cold_sore_where"] == {"q": "cold_sore_ever", "is": "yes"}
    assert conditions(pages["neck"])["cold_sore_where"]["any"][1]["q"] == "herpes_near_body_area"
    assert conditions(pages["face"])["cold_sore_healed"]["days"][1] == APPOINTMENT.isoformat()
    later_day = (APPOINTMENT + datetime.timedelta(days=40)).isoformat()
    assert conditions(pages["later"])["cold_sore_healed"]["days"][1] == later_day
    # Three pages kept, one per set of conditions; a fourth patient like the first shares its page.
    assert conditions(same) == conditions(pages["face"])
    assert step_pages_kept() == 3
