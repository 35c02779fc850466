"""The checks before treatment in a real browser: a patient answers the re-check from their link,
then a practitioner records the on-the-day check on the submission's page. axe checks both pages;
screenshots at 390 and 1280 px go to /tmp/shots/recheck/."""

import datetime
import json
import re
from pathlib import Path

import pytest
from django.utils import timezone
from factories import make_submission, no_serious_violations, role, sign_in, staff_device
from playwright.sync_api import expect

from intake.models import ReCheck, ReviewStatus, Submission, import_document
from intake.review.rechecks import link_expires_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SKINPEN = Path(__file__).resolve().parents[2] / "intake" / "question_sets" / "skinpen.json"
SHOTS = Path("/tmp/shots/recheck")  # noqa: S108 - screenshots to look at, nothing secret
NOTHING_NEW = {
    "Do you have a cold sore right now": "No",
    "Is the skin in the area broken or irritated": "No",
    "Do you have a skin infection": "No",
    "Do you have spots or breakouts": "None",
    "Are you pregnant or breastfeeding": "No",
    "Could you be pregnant": "No",
    "have you taken isotretinoin": "No",
    "Do you take a prescribed medicine to thin your blood": "No",
}


def photographed(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((390, 844), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        no_serious_violations(page)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def answer(page, answers):
    for question, choice in answers.items():
        group = page.get_by_role("group", name=re.compile(re.escape(question)))
        group.get_by_label(choice, exact=True).check()


def test_a_patients_re_check_then_the_practitioners_on_the_day_check(browser, live_server):
    version = import_document(json.loads(SKINPEN.read_text(encoding="utf-8")))
    version.install()
    treatment = timezone.localdate() + datetime.timedelta(days=2)
    submission = make_submission(
        version, {"acne_now": "none"}, patient_name="Ann Example", treatment_date=treatment
    )
    Submission.objects.filter(pk=submission.pk).update(review_status=ReviewStatus.CLEARED)
    recheck = ReCheck(submission=submission, kind="before", treatment_date=treatment)
    token = recheck.issue_token(timezone.now(), link_expires_at(treatment))
    recheck.sent_at = timezone.now()
    recheck.save()

    patient = browser.new_page()
    patient.goto(f"{live_server.url}/recheck/{token}/")
    expect(patient.get_by_role("heading", name="Before your appointment")).to_be_visible()
    photographed(patient, "patient-recheck")
    patient.get_by_role("button", name="Send my answers").click()
    expect(patient.get_by_text("There is a problem")).to_be_visible()
    answer(patient, NOTHING_NEW)
    patient.get_by_role("button", name="Send my answers").click()
    expect(patient.get_by_text("We'll see you on")).to_be_visible()
    photographed(patient, "patient-recheck-done")
    patient.close()

    device = staff_device("pat", role("Practitioner"))
    staff = browser.new_page()
    sign_in(staff, live_server.url, device)
    staff.goto(f"{live_server.url}/admin/intake/submission/{submission.pk}/change/")
    expect(staff.get_by_text("Re-check answered on")).to_be_visible()
    staff.get_by_role("link", name="On-the-day check").click()
    expect(staff.get_by_role("heading", name="Ask again")).to_be_visible()
    # Follow-ups appear once an answer calls for them, as on the patient's pages.
    could_be = staff.get_by_text("Could you be pregnant, or are you trying for a baby?")
    expect(could_be).to_be_hidden()
    photographed(staff, "staff-on-the-day")
    answer(staff, NOTHING_NEW)
    expect(could_be).to_be_visible()
    staff.get_by_label("Who inspected the lips and face?").fill("Pat Practitioner")
    staff.get_by_label("At what time (today)?").fill("09:40")
    staff.get_by_role("button", name="Record the on-the-day check").click()
    expect(staff.get_by_text("Lips and face inspected by")).to_be_visible()
    photographed(staff, "staff-submission-checks")
    staff.close()

    assert ReCheck.objects.filter(submission=submission, answered_at__isnull=False).count() == 2
