"""The queue says which patients have not answered their re-check, from the day before the
treatment, and which versions send none."""

import datetime
import json
import re
from pathlib import Path

import pytest
from django.utils import timezone
from factories import TODAY, logged_in, make_submission, publish_approved, staff

from intake.models import ReCheck, Submission, import_document

pytestmark = pytest.mark.django_db

QUEUE = "/admin/intake/submission/"
FILLER = Path(__file__).parent / "question_sets" / "dermal_filler.json"


def day(offset: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=offset)


def listed(client, query: str) -> list[str]:
    response = client.get(QUEUE + query)
    assert response.status_code == 200
    return re.findall(r'<th class="field-patient"><a [^>]*><bdi>([^<]+)</bdi>', response.text)


def booked(version, name, offset, *, sent=True, answered=False, **fields):
    submission = make_submission(version, patient_name=name, treatment_date=day(offset))
    if fields:
        Submission.objects.filter(pk=submission.pk).update(**fields)
    ReCheck.objects.create(
        submission=submission,
        kind="before",
        treatment_date=day(offset),
        sent_at=timezone.now() if sent else None,
        answered_at=timezone.now() if answered else None,
    )
    return submission


def test_re_checks_not_answered_are_listed_from_the_day_before_the_treatment(client, version):
    logged_in(client, staff("p", "Practitioner"))
    booked(version, "Tomorrow Silent", 1)
    booked(version, "Today Silent Cleared", 0, review_status="cleared")
    booked(version, "Tomorrow Answered", 1, answered=True)
    booked(version, "In Two Days Silent", 2)
    booked(version, "Tomorrow Not Suitable", 1, review_status="not_suitable")
    booked(version, "Yesterday Silent", -1)

    assert sorted(listed(client, "?recheck=not_answered")) == [
        "Today Silent Cleared",
        "Tomorrow Silent",
    ]
    assert "Re-check not answered" in client.get(QUEUE).text


def test_the_queue_lists_the_submissions_whose_version_sends_no_re_check(client, version):
    logged_in(client, staff("p", "Practitioner"))
    make_submission(version, patient_name="Skin Pen")
    filler = import_document(json.loads(FILLER.read_text()))
    filler.test_cases = json.loads(FILLER.with_name("dermal_filler.cases.json").read_text())
    filler.save(update_fields=["test_cases"])
    publish_approved(filler)
    make_submission(filler, patient_name="Lip Filler")

    assert listed(client, "?recheck=none") == ["Lip Filler"]
