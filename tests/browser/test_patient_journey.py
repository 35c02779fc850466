"""A patient completes the SkinPen questionnaire in a real browser (Debian's Chromium).

Checks what only a browser shows: follow-ups appearing as the patient answers, going back to
change an answer, the tailored guidance at the end, and accessibility (axe-core) on every page.
Screenshots of each step at phone and desktop widths go to artifacts/screenshots/.
"""

import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from intake.models import Submission, import_document

ROOT = Path(__file__).resolve().parents[2]
SKINPEN = ROOT / "intake" / "question_sets" / "skinpen.json"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def skinpen(transactional_db: None) -> None:
    import_document(json.loads(SKINPEN.read_text(encoding="utf-8"))).install()


class Journey:
    """Drives one patient through the questionnaire, checking and photographing each page."""

    def __init__(self, page: Page, wide: Page, base: str) -> None:
        self.page = page
        self.wide = wide
        self.base = base
        self.axe = Axe()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # The browser reports what the Content Security Policy blocked on the console.
        self.csp_violations: list[str] = []
        for tab in (page, wide):
            tab.on("console", self._note_csp_violation)

    def _note_csp_violation(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def check_page(self, name: str) -> None:
        """No serious or critical accessibility problems; screenshots at both widths."""
        results = self.axe.run(self.page)
        serious = [
            violation
            for violation in results.response["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
        assert not serious, json.dumps(serious, indent=1)[:4000]
        self.page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
        # The desktop page is a separate browser (context) given the patient's session cookie.
        self.wide.context.add_cookies(self.page.context.cookies())
        self.wide.goto(self.page.url)
        self.wide.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)

    def choose(self, question: str, value: str) -> None:
        self.page.locator(f'input[name="{question}"][value="{value}"]').check()

    def answer_no_to_the_rest(self) -> None:
        """Answer every visible, unanswered radio group with its mildest answer."""
        for _ in range(40):
            groups = self.page.eval_on_selector_all(
                "[data-question]:not([hidden]) input[type=radio]",
                "inputs => [...new Set(inputs.filter(i => !document.querySelector("
                "`input[name='${i.name}']:checked`)).map(i => i.name))]",
            )
            if not groups:
                return
            name = groups[0]
            values = self.page.eval_on_selector_all(
                f'input[name="{name}"]', "inputs => inputs.map(i => i.value)"
            )
            for mild in ("no", "none", "type_2", "less_than_one"):
                if mild in values:
                    self.choose(name, mild)
                    break
            else:
                self.choose(name, values[-1])

    def proceed(self) -> None:
        self.page.get_by_role("button", name="Continue", exact=True).click()


def test_a_patient_completes_the_skinpen_questionnaire(browser, live_server, skinpen):
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    desktop = browser.new_page(viewport={"width": 1280, "height": 900})
    journey = Journey(phone, desktop, live_server.url)
    page = phone
    appointment = timezone.localdate() + datetime.timedelta(days=21)

    page.goto(live_server.url + "/")
    journey.check_page("00-start")
    booked = page.get_by_role("group", name="Appointment date (if you have one booked)")
    booked.get_by_label("Day").fill(str(appointment.day))
    booked.get_by_label("Month").fill(str(appointment.month))
    booked.get_by_label("Year").fill(str(appointment.year))
    page.get_by_role("button", name="Start the questionnaire").click()

    # Step 1: details, with a mistake first to see the error summary take focus.
    expect(page).to_have_title("Step 1 of 10: Your details – SkinPen Clinic")
    page.get_by_label("Full name").fill("Ann Example")
    page.get_by_label("Email address").fill("not an email")
    journey.proceed()
    expect(page.locator("#error-summary")).to_be_focused()
    journey.check_page("01-details-error")
    page.get_by_label("Email address").fill("ann@example.com")
    page.get_by_label("Phone number").fill("07700 900123")
    birth = page.get_by_role("group", name=re.compile("date of birth", re.IGNORECASE))
    birth.get_by_label("Day").fill("3")
    birth.get_by_label("Month").fill("4")
    birth.get_by_label("Year").fill("1990")
    journey.check_page("01-details")
    journey.proceed()

    # Step 2: about you; a follow-up appears only once "Other" is ticked.
    expect(page).to_have_title("Step 2 of 10: About you and your treatment – SkinPen Clinic")
    other_area = page.locator('[data-question="treatment_areas_other"]')
    expect(other_area).to_be_hidden()
    page.locator('input[name="treatment_areas"][value="other"]').check()
    expect(other_area).to_be_visible()
    page.locator('input[name="treatment_areas"][value="other"]').uncheck()
    expect(other_area).to_be_hidden()
    page.locator('input[name="treatment_areas"][value="cheeks"]').check()
    page.locator('input[name="concerns"][value="texture_pores"]').check()
    journey.check_page("02-about-you")
    journey.proceed()

    # Steps 3 to 9: "no" to most things, with a cold-sore history and an isotretinoin course.
    for number in range(3, 10):
        expect(page.locator("#step-count")).to_have_text(f"Step {number} of 10")
        if number == 4:
            follow_up = page.locator('[data-question="isotretinoin_taking_now"]')
            expect(follow_up).to_be_hidden()
            journey.choose("isotretinoin_last_12_months", "yes")
            expect(follow_up).to_be_visible()
            journey.choose("isotretinoin_taking_now", "no")
            last_dose = page.locator('[data-question="isotretinoin_last_dose"]')
            last_dose.get_by_label("Month").fill("1")
            last_dose.get_by_label("Year").fill(str(timezone.localdate().year - 1))
        if number == 7:
            journey.choose("cold_sore_now", "no")
            journey.choose("cold_sore_ever", "yes")
            last = page.locator('[data-question="cold_sore_last_start"]')
            expect(last).to_be_visible()
            last.get_by_label("Month").fill("5")
            last.get_by_label("Year").fill("2020")
            journey.choose("cold_sore_frequency", "less_than_one")
        if number == 9:
            # The long answer's count, as the patient types; nothing typed is cut.
            medicines = page.locator('textarea[name="other_medicines"]')
            count = page.locator("#id_other_medicines_count")
            medicines.fill("x" * 2001)
            expect(count).to_have_text("You have 1 character too many")
            expect(medicines).to_have_value("x" * 2001)
            medicines.fill("Vitamin D")
            expect(count).to_have_text("You have 1,991 characters remaining")
        journey.answer_no_to_the_rest()
        journey.check_page(f"{number:02d}-step")
        journey.proceed()

    # Back to the medicines step to change an answer: no isotretinoin after all, retinoid creams.
    expect(page).to_have_title("Step 10 of 10: Check your answers – SkinPen Clinic")
    journey.check_page("10-check")
    page.get_by_role("link", name="Change medicines").click()
    expect(page.locator("#step-count")).to_have_text("Step 4 of 10")
    expect(page.locator('input[name="isotretinoin_last_12_months"][value="yes"]')).to_be_checked()
    expect(page.locator('[data-question="isotretinoin_last_dose"]')).to_be_visible()
    journey.choose("isotretinoin_last_12_months", "no")
    expect(page.locator('[data-question="isotretinoin_taking_now"]')).to_be_hidden()
    # A follow-up of a follow-up goes too.
    expect(page.locator('[data-question="isotretinoin_last_dose"]')).to_be_hidden()
    journey.choose("topical_retinoids_acids", "yes")
    journey.answer_no_to_the_rest()
    journey.proceed()

    # Straight back to the check page: the change asked nothing new on a later step.
    expect(page).to_have_title("Step 10 of 10: Check your answers – SkinPen Clinic")
    page.get_by_label("My answers are accurate").check()
    page.get_by_label("I consent to the clinic").check()
    page.get_by_label("Type your full name").fill("Ann Example")
    page.get_by_role("button", name="Send my answers").click()

    expect(page).to_have_title("Thank you – your answers are sent – SkinPen Clinic")
    text = page.locator("main").inner_text()
    assert "antiviral" in text
    assert "7 days before your appointment" in text
    assert "Not possible" not in text
    # The progressive-enhancement script ran under the policy (the follow-ups above appeared
    # and hid as answered), and nothing on any page was blocked.
    assert journey.csp_violations == []
    journey.check_page("11-confirmation")

    submission = Submission.objects.get()
    codes = set(submission.current_flags().values_list("code", flat=True))
    assert codes == {"cold_sore_history", "topical_retinoid_acid"}
    assert "isotretinoin_taking_now" not in submission.answers
    phone.close()
    desktop.close()
