"""A clinic admin edits a draft in a real browser: the page can be used with assistive technology
(axe-core finds nothing serious), and a mistake is shown beside its row and linked from a
summary at the top."""

import json
from pathlib import Path
from typing import Any

import pytest
from factories import SCREENSHOTS, no_serious_violations, photograph, role, sign_in, staff_device
from playwright.sync_api import expect

from intake.models import import_document

ROOT = Path(__file__).resolve().parents[2]
SKINPEN = ROOT / "intake" / "question_sets" / "skinpen.json"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_mistake_in_a_draft_is_summarised_at_the_top_and_shown_at_its_row(
    browser: Any, live_server: Any
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    cara = staff_device("cara", role("Clinic admin"))
    draft = import_document(json.loads(SKINPEN.read_text(encoding="utf-8")))
    page = browser.new_context().new_page()
    sign_in(page, live_server.url, cara)
    page.goto(f"{live_server.url}/admin/intake/questionsetversion/{draft.pk}/change/")
    no_serious_violations(page)
    expect(page.get_by_label("Value, parameter 1", exact=True)).to_be_visible()

    condition = page.locator("#id_rules-0-condition")
    condition.fill("cold_sores_evr is yes")
    page.get_by_role("button", name="Save and continue editing").click()

    summary = page.locator(".errornote ~ .errorlist").first
    link = summary.get_by_role("link", name='refers to unknown question "cold_sores_evr"')
    expect(link).to_be_visible()
    assert link.get_attribute("href") == "#rules-0"
    expect(page.locator("#rules-0")).to_contain_text('unknown question "cold_sores_evr"')
    photograph(page, "draft-mistake")
    for width, height, device in ((1280, 900, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=SCREENSHOTS / f"authoring-draft-mistake-top-{device}.png")
    link.click()
    assert page.evaluate("location.hash") == "#rules-0"
