"""A patient completes the SkinPen questionnaire with the page scripts blocked, at phone and
desktop widths: every follow-up shows, grouped under what reveals it, the server decides which
apply, and nothing needs the scripts. axe-core finds nothing, of any impact, on any page;
screenshots of each step at both widths go to artifacts/screenshots/ (named nojs-…).

The scripts are blocked at the network (the page's own JavaScript is all there is), so that axe,
which runs in the page, can still check each page as a patient without JavaScript sees it.
"""

import datetime
import json
import re
from pathlib import Path

import pytest
from django.utils import timezone
from factories import SCREENSHOTS, no_axe_violations
from playwright.sync_api import Page, expect

from intake.models import Submission, import_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SKINPEN = Path(__file__).resolve().parents[2] / "intake" / "question_sets" / "skinpen.json"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
# The mildest answer of each kind of radio group, for questions the walk does not pick.
MILD = ("no", "none", "type_2", "less_than_one", "clear")


@pytest.fixture
def skinpen(transactional_db: None) -> None:
    import_document(json.loads(SKINPEN.read_text(encoding="utf-8"))).install()


def without_scripts(browser, width: str) -> Page:
    page = browser.new_page(viewport=dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    page.route(re.compile(r".*\.js$"), lambda route: route.abort())
    return page


def photograph(phone: Page, desktop: Page, name: str) -> None:
    """axe finds nothing at all on the page; a screenshot of it at both widths, the desktop one
    taken in a second browser given the patient's session."""
    no_axe_violations(phone)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=SCREENSHOTS / f"nojs-{name}-phone.png", full_page=True)
    desktop.context.add_cookies(phone.context.cookies())
    desktop.goto(phone.url)
    no_axe_violations(desktop)
    # No page is wider than the phone's screen.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTHS["phone"][0], (name, width)
    desktop.screenshot(path=SCREENSHOTS / f"nojs-{name}-desktop.png", full_page=True)


def answer_the_rest_mildly(page: Page, *, follow_ups: bool = False) -> None:
    """The mildest answer to each radio group not yet answered; follow-ups are left as they are
    unless `follow_ups` (the server has said which of them apply)."""
    groups = page.eval_on_selector_all(
        "[data-question] input[type=radio]"
        if follow_ups
        else "[data-question]:not(.follow-up) input[type=radio]",
        "inputs => [...new Set(inputs.filter(i => !document.querySelector("
        "`input[name='${i.name}']:checked`)).map(i => i.name))]",
    )
    for name in groups:
        values = page.eval_on_selector_all(f'input[name="{name}"]', "l => l.map(i => i.value)")
        mild = next((value for value in MILD if value in values), values[-1])
        page.locator(f'input[name="{name}"][value="{mild}"]').check()


def test_a_patient_without_javascript_completes_the_questionnaire(browser, live_server, skinpen):
    phone = without_scripts(browser, "phone")
    desktop = without_scripts(browser, "desktop")
    page = phone
    appointment = timezone.localdate() + datetime.timedelta(days=21)
    continue_button = page.get_by_role("button", name="Continue", exact=True)

    page.goto(live_server.url + "/")
    photograph(phone, desktop, "00-start")
    booked = page.get_by_role("group", name=re.compile("Appointment date"))
    booked.get_by_label("Day").fill(str(appointment.day))
    booked.get_by_label("Month").fill(str(appointment.month))
    booked.get_by_label("Year").fill(str(appointment.year))
    page.get_by_role("button", name="Start the questionnaire").click()

    expect(page).to_have_title("Step 1 of 10: Your details – SkinPen Clinic")
    continue_button.click()
    # Each mistake is named in the summary and above its question, in the same words.
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Enter your full name")
    expect(summary).to_contain_text("Enter your date of birth")
    expect(page.locator("#id_date_of_birth_error")).to_have_text("Error: Enter your date of birth")
    photograph(phone, desktop, "01-details-errors")
    page.get_by_label("Full name").fill("Ann Example")
    page.get_by_label("Email address").fill("ann@example.com")
    page.get_by_label("Phone number").fill("07700 900123")
    birth = page.get_by_role("group", name=re.compile("date of birth", re.IGNORECASE))
    birth.get_by_label("Day").fill("3")
    birth.get_by_label("Month").fill("4")
    birth.get_by_label("Year").fill("1990")
    photograph(phone, desktop, "01-details")
    continue_button.click()

    # About you: the follow-ups of "Other" show without the script, under an "If you ticked" cue.
    expect(page).to_have_title("Step 2 of 10: About you and your treatment – SkinPen Clinic")
    other_area = page.locator('[data-question="treatment_areas_other"]')
    expect(other_area).to_be_visible()
    expect(page.locator(".follow-ups", has=other_area).locator(".follow-up-cue")).to_have_text(
        "If you ticked ‘Somewhere else’"
    )
    page.locator('input[name="treatment_areas"][value="cheeks"]').check()
    page.locator('input[name="concerns"][value="texture_pores"]').check()
    photograph(phone, desktop, "02-about-you")
    continue_button.click()

    for number in range(3, 10):
        expect(page.locator("#step-count")).to_have_text(f"Step {number} of 10")
        if number == 4:
            # "Yes" to a blood thinner: its required follow-up must then be answered.
            page.locator('input[name="blood_thinner"][value="yes"]').check()
            answer_the_rest_mildly(page)
            continue_button.click()
            expect(page.locator("#error-summary")).to_contain_text("Select")
            expect(page.locator("#step-count")).to_have_text("Step 4 of 10")
            photograph(phone, desktop, "04-medicines-error")
            page.locator('input[name="blood_thinner_kind"][value="anticoagulant"]').check()
        if number == 9:
            # A long unbroken answer, to see the check page wrap it.
            page.locator('textarea[name="other_medicines"]').fill(
                "https://example.com/" + "a" * 150
            )
            expect(page.locator("#id_other_medicines_count")).to_have_text(
                "You can enter up to 2000 characters"
            )
        answer_the_rest_mildly(page)
        photograph(phone, desktop, f"{number:02d}-step")
        continue_button.click()
        if page.locator("#error-summary").count():
            # A follow-up that applies (as its cue said) and was left blank: the server asks
            # for it, by name, and the patient answers it.
            expect(page.locator("#step-count")).to_have_text(f"Step {number} of 10")
            expect(page.locator("#error-summary li").first).to_contain_text("Select")
            photograph(phone, desktop, f"{number:02d}-step-follow-up-asked")
            answer_the_rest_mildly(page, follow_ups=True)
            continue_button.click()

    expect(page).to_have_title("Step 10 of 10: Check your answers – SkinPen Clinic")
    photograph(phone, desktop, "10-check")
    # Change an answer: straight back to the check page.
    page.get_by_role("link", name="Change pregnancy").click()
    expect(page.get_by_role("button", name="Back to check your answers")).to_be_visible()
    continue_button.click()
    expect(page).to_have_title("Step 10 of 10: Check your answers – SkinPen Clinic")

    page.get_by_label("My answers are accurate").check()
    page.get_by_label("I consent to the clinic").check()
    page.get_by_label("Type your full name").fill("Ann Example")
    page.get_by_role("button", name="Send my answers").click()
    expect(page).to_have_title("Thank you – your answers are sent – SkinPen Clinic")
    photograph(phone, desktop, "11-confirmation")

    submission = Submission.objects.get()
    assert submission.answers["blood_thinner_kind"] == ["anticoagulant"]
    # Follow-ups of questions answered "no" were shown, left blank and not stored.
    assert "isotretinoin_taking_now" not in submission.answers
    phone.close()
    desktop.close()
