"""A second question set, with flag codes and declarations of its own, goes through the whole
path without a change to the code: patient pages, review with a declared plan, exports."""

import datetime
import json
from pathlib import Path

import pytest
from django.test import Client, override_settings
from factories import (
    STAFF_PASSWORD,
    TODAY,
    complete_until_check,
    logged_in,
    page,
    publish_approved,
    record_plan,
    staff,
    start,
    submit,
)

from intake.models import ApprovalState, Submission, import_document
from intake.review.decisions import DecisionRefused, change_review_status, decide_flag

pytestmark = pytest.mark.django_db

FILLER = Path(__file__).resolve().parent / "question_sets"


@pytest.fixture
def filler():
    version = import_document(json.loads((FILLER / "dermal_filler.json").read_text()))
    version.test_cases = json.loads((FILLER / "dermal_filler.cases.json").read_text())
    version.save(update_fields=["test_cases"])
    publish_approved(version)
    assert version.approval_state == ApprovalState.SIGNED_OFF
    return version


@override_settings(DEFAULT_QUESTION_SET="dermal-filler", CLINIC_NAME="Example Clinic")
def test_a_dermal_filler_patient_is_asked_flagged_and_reviewed_by_its_own_declarations(filler):
    patient = Client()
    home = patient.get("/").content.decode()
    assert "Before your dermal filler consultation" in home
    assert "SkinPen" not in home
    start(patient)
    check = complete_until_check(
        patient,
        filler,
        filler_areas=["lips"],
        lip_cold_sores="yes",
        lip_cold_sore_start="2025-06",
        kidney_problems="yes",
        antiviral_allergy="no",
    )
    done = submit(patient, check)
    assert done.status_code == 302
    thanks = patient.get(done.url).content.decode()
    assert "Every dermal filler treatment begins" in thanks
    assert "talk about antiviral tablets" in thanks
    assert "SkinPen" not in thanks

    submission = Submission.objects.get()
    flag = submission.current_flags().get()
    assert (flag.code, flag.tier, flag.plan) == ("lip_herpes_history", "need_to_know", "antiviral")
    assert submission.flag_filters == " lip_herpes "

    # The review: the queue's filter by its label, the plan with the answers it needs.
    nurse = staff("nina", "Practitioner")
    reviewer = logged_in(Client(), nurse)
    queue = reviewer.get("/admin/intake/submission/").content.decode()
    assert "Lip herpes flags" in queue
    listed = reviewer.get("/admin/intake/submission/?flags=lip_herpes").content.decode()
    assert "Ann Example" in listed
    shown = reviewer.get(page(submission)).content.decode()
    assert "To check for the antiviral plan" in shown
    assert "Do you have any kidney problems?" in shown
    assert "Antiviral plan (recorded, not prescribed)" in shown
    with pytest.raises(DecisionRefused, match="antiviral plan on lip_herpes_history"):
        change_review_status(submission, status="cleared", reason="ok", by=nurse, revision=0)
    with pytest.raises(DecisionRefused, match="antiviral plan"):
        decide_flag(flag, kind="acknowledged", note="ok", by=nurse, revision=0)
    record_plan(flag, nurse, note="ok")
    change_review_status(
        submission, status="cleared", reason="ok", by=nurse, revision=1, signature=STAFF_PASSWORD
    )

    # The exports read what is stored, whatever the set.
    manager = logged_in(Client(), staff("cara", "Clinic admin"))
    exported = manager.post(
        "/admin/intake/submission/",
        {"action": "export_csv", "_selected_action": [str(submission.pk)]},
    )
    assert "lip_herpes_history" in exported.content.decode()
    fhir = manager.get(f"/admin/intake/submission/{submission.pk}/fhir.json")
    assert fhir.status_code == 200
    assert "lip_cold_sores" in fhir.content.decode()
    dictionary = manager.get(f"/admin/intake/questionsetversion/{filler.pk}/dictionary.csv")
    assert "lip_cold_sore_start" in dictionary.content.decode()


@override_settings(DEFAULT_QUESTION_SET="dermal-filler")
def test_a_recent_lip_sore_is_in_the_filter_but_needs_no_plan(filler):
    patient = Client()
    start(patient, treatment_date=TODAY + datetime.timedelta(days=5))
    check = complete_until_check(
        patient,
        filler,
        filler_areas=["lips"],
        lip_cold_sores="yes",
        lip_cold_sore_start=(TODAY - datetime.timedelta(days=2)).isoformat(),
    )
    assert submit(patient, check).status_code == 302

    submission = Submission.objects.get()
    flags = {flag.code: flag for flag in submission.current_flags()}
    assert flags["lip_herpes_recent"].tier == "not_possible"
    assert flags["lip_herpes_recent"].plan == ""
    assert flags["lip_herpes_history"].plan == "antiviral"
    assert submission.flag_filters == " lip_herpes "
