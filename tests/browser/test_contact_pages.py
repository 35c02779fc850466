"""The clinic's contact details on the pages a stuck patient lands on, in a real browser."""

import pytest
from factories import no_serious_violations
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_patient_on_an_error_page_can_call_or_email_the_clinic(browser, live_server, settings):
    settings.CLINIC_PHONE = "020 7946 0000"
    settings.CLINIC_EMAIL = "hello@riverside.example"
    settings.CLINIC_ADDRESS = "12 High Street, Riverside, RS1 2AB"
    settings.RATE_LIMIT_LINK_MISSES_PER_HOUR = 1
    page = browser.new_page(viewport={"width": 390, "height": 844})

    guess = "/continue/" + "x" * 43 + "/"
    pages = [("/no-such-page/", "Page not found"), (guess, "Page not found")]
    pages += [(guess, "Please try again a little later")]  # the second guess of the hour
    for url, heading in pages:
        page.goto(live_server.url + url)

        expect(page.get_by_role("heading", level=1)).to_have_text(heading)

        expect(page.get_by_role("link", name="020 7946 0000")).to_have_attribute(
            "href", "tel:02079460000"
        )
        expect(page.get_by_role("link", name="hello@riverside.example")).to_have_attribute(
            "href", "mailto:hello@riverside.example"
        )
        expect(page.get_by_text("12 High Street, Riverside, RS1 2AB")).to_be_visible()
        no_serious_violations(page)
    page.close()
