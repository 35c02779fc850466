"""Where a patient is stopped or sent elsewhere, in a real browser: the under-18 told at the
details step (after checking their date of birth), and an old "continue later" link. axe checks
each page; screenshots at both widths go to artifacts/screenshots/ (named stop-…)."""

import datetime
import json
from pathlib import Path

import pytest
from django.utils import timezone
from factories import SCREENSHOTS, no_axe_violations
from playwright.sync_api import Page, expect

from intake.models import Draft, IneligibleAttempt, import_document

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SKINPEN = Path(__file__).resolve().parents[2] / "intake" / "question_sets" / "skinpen.json"


@pytest.fixture
def skinpen(transactional_db: None) -> None:
    import_document(json.loads(SKINPEN.read_text(encoding="utf-8"))).install()


def check(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height, device in ((390, 844, "phone"), (1280, 900, "desktop")):
        page.set_viewport_size({"width": width, "height": height})
        no_axe_violations(page)
        page.screenshot(path=SCREENSHOTS / f"stop-{name}-{device}.png", full_page=True)


def details(page: Page, born: datetime.date) -> None:
    page.get_by_label("Full name").fill("Sam Example")
    page.get_by_label("Email address").fill("sam@example.com")
    page.get_by_label("Phone number").fill("07700 900123")
    birth = page.locator('[data-question="date_of_birth"]')
    birth.get_by_label("Day").fill(str(born.day))
    birth.get_by_label("Month").fill(str(born.month))
    birth.get_by_label("Year").fill(str(born.year))


def test_an_under_18_checks_their_date_of_birth_and_is_told_kindly(browser, live_server, skinpen):
    page = browser.new_page()
    today = timezone.localdate()
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Start the questionnaire").click()

    # A mistyped year first: the patient changes it and carries on.
    details(page, today.replace(year=today.year - 15, day=1))
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your date of birth")
    check(page, "check-date-of-birth")
    page.get_by_role("button", name="Change my details").click()
    expect(page.get_by_label("Full name")).to_have_value("Sam Example")

    # Really under 18: told so, in the clinic's words, and nothing kept.
    page.get_by_role("button", name="Continue", exact=True).click()
    page.get_by_role("button", name="Yes, my date of birth is right").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("We can't offer you this treatment")
    expect(
        page.get_by_text("We only offer microneedling to adults aged 18 and over.")
    ).to_be_visible()
    check(page, "not-eligible")
    assert Draft.objects.count() == 0
    assert IneligibleAttempt.objects.count() == 1
    page.close()


def test_an_old_continue_later_link_says_a_newer_one_was_sent(browser, live_server, skinpen):
    page = browser.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Start the questionnaire").click()
    details(page, datetime.date(1990, 4, 3))
    page.get_by_role("button", name="Save and continue later").click()
    old_link = page.locator(".resume-link").inner_text().strip()
    page.goto(live_server.url + "/questionnaire/1/")
    page.get_by_role("button", name="Save and continue later").click()

    page.goto(old_link)

    expect(page.get_by_role("heading", level=1)).to_have_text("This link has been replaced")
    check(page, "replaced-link")
    page.close()
