"""A practitioner's morning in a real browser: sign in, open the "Needs review" view, open the most
urgent submission, decide its flags with an antiviral plan, move the appointment, and see the
decisions the new date left standing carried over. axe checks each page; screenshots at both
widths go to artifacts/screenshots/ (named staff-morning-…)."""

import datetime
import json
from pathlib import Path

import pytest
from django.utils import timezone
from factories import (
    COLD_SORE,
    PREGNANT,
    fill_antiviral_plan,
    make_submission,
    photograph,
    role,
    sign_in,
    staff_device,
)
from playwright.sync_api import expect

from intake.models import ReviewStatus, Submission, import_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SKINPEN = Path(__file__).resolve().parents[2] / "intake" / "question_sets" / "skinpen.json"


def test_a_practitioners_morning(browser, live_server):
    version = import_document(json.loads(SKINPEN.read_text(encoding="utf-8")))
    version.install()
    today = timezone.localdate()
    urgent = make_submission(
        version,
        COLD_SORE | {"acne_now": "a_few"},
        patient_name="Ann Urgent",
        treatment_date=today + datetime.timedelta(days=2),
    )
    make_submission(
        version,
        PREGNANT,
        patient_name="Bea Later",
        treatment_date=today + datetime.timedelta(days=9),
    )
    make_submission(version, COLD_SORE, patient_name="Cat Unbooked", treatment_date=None)
    passed = make_submission(
        version,
        PREGNANT,
        patient_name="Dee Passed",
        treatment_date=today + datetime.timedelta(days=1),
    )
    Submission.objects.filter(pk=passed.pk).update(
        treatment_date=today - datetime.timedelta(days=30)
    )
    decided = make_submission(
        version,
        COLD_SORE,
        patient_name="Eve Decided",
        treatment_date=today + datetime.timedelta(days=1),
    )
    Submission.objects.filter(pk=decided.pk).update(review_status=ReviewStatus.NOT_SUITABLE)
    device = staff_device("pat", role("Practitioner"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})

    sign_in(page, live_server.url, device)
    page.get_by_role("link", name="Submissions").first.click()

    # "Needs review": what waits for a decision, soonest treatment first, the unbooked last.
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Ann Urgent")
    expect(rows.nth(1)).to_contain_text("Bea Later")
    expect(rows.nth(2)).to_contain_text("Cat Unbooked")
    expect(page.locator("#result_list")).not_to_contain_text("Dee Passed")
    expect(page.locator("#result_list")).not_to_contain_text("Eve Decided")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    photograph(page, "morning-queue")

    rows.nth(0).get_by_role("link").first.click()
    expect(page.get_by_text(urgent.reference).first).to_be_visible()
    photograph(page, "morning-submission")

    # The acne flag acknowledged; the cold-sore flag with its antiviral prescription.
    acne = page.locator("article.flag", has_text="active_acne")
    acne.locator("summary").click()
    acne.get_by_label("Note (for an override, the reason)").fill("A few spots: will avoid them")
    acne.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    cold_sore = page.locator("article.flag", has_text="cold_sore_history")
    cold_sore.locator("summary").click()
    cold_sore.get_by_label("Note (for an override, the reason)").fill("Cold sores most winters")
    fill_antiviral_plan(cold_sore, today)
    # The course's dates, from the treatment in two days, as the days are typed.
    first, last = today + datetime.timedelta(days=1), today + datetime.timedelta(days=7)
    expect(cold_sore.locator(".plan-course")).to_have_text(
        f"Course: from {first.day} {first:%b %Y} (day −1) for 7 days, "
        f"to {last.day} {last:%b %Y} (day +5)."
    )
    photograph(page, "morning-plan")
    cold_sore.get_by_label("Last day", exact=True).fill("-3")
    expect(cold_sore.locator(".plan-course")).to_have_text(
        "The last day cannot be before the first."
    )
    cold_sore.get_by_label("Last day", exact=True).fill("99")  # beyond the form's 60 days
    expect(cold_sore.locator(".plan-course")).to_have_text("")
    cold_sore.get_by_label("Last day", exact=True).fill("5")
    cold_sore.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    photograph(page, "morning-decided")

    # The patient moves her appointment a week later: nothing about her flags changes.
    later = today + datetime.timedelta(days=9)
    dates = page.get_by_role("region", name="Treatment date")
    dates.get_by_label("New treatment date").fill(later.isoformat())
    dates.get_by_label("Reason").fill("Patient asked to move it by a week")
    dates.get_by_role("button", name="Change the date and check the rules again").click()

    expect(page.get_by_text("2 decisions carried over")).to_be_visible()
    expect(page.locator("article.flag .carried")).to_have_count(2)
    # The plan follows the appointment: its course starts the day before the new date.
    start = later - datetime.timedelta(days=1)
    expect(page.locator("article.flag", has_text="cold_sore_history")).to_contain_text(
        f"{start.day} {start:%b %Y}"
    )
    photograph(page, "morning-rescheduled")
    fresh = Submission.objects.get(pk=urgent.pk)
    assert fresh.treatment_date == later
    assert all(flag.decisions.exists() for flag in fresh.current_flags())
    page.close()
