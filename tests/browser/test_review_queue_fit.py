"""The review queue in a real browser: at a laptop's width it fits without scrolling sideways,
and on a phone it stays usable; axe finds nothing serious at either width."""

import datetime
import json
from pathlib import Path

import pytest
from django.utils import timezone
from factories import (
    COLD_SORE,
    PREGNANT,
    make_submission,
    no_serious_violations,
    role,
    sign_in,
    staff_device,
)
from playwright.sync_api import expect

from intake.models import Submission, import_document

SKINPEN = Path(__file__).resolve().parents[2] / "intake" / "question_sets" / "skinpen.json"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAMES = [
    "Ann Example",
    "Bartholomew Featherstonehaugh-Cholmondeley",
    "Zoë O'Brien",
    "Priya Ramanathan",
    "Mei Chen",
    "Oluwaseun Adeyemi-Okonkwo",
]
STATUSES = ["new", "new", "in_review", "new", "cleared", "deferred"]


def thirty_submissions() -> None:
    version = import_document(json.loads(SKINPEN.read_text(encoding="utf-8")))
    version.install()
    today = timezone.localdate()
    answers = [{}, COLD_SORE, PREGNANT, COLD_SORE | PREGNANT]
    for n in range(30):
        submission = make_submission(
            version,
            answers[n % len(answers)],
            patient_name=f"{NAMES[n % len(NAMES)]} {n}",
            treatment_date=None if n % 7 == 6 else today + datetime.timedelta(days=n % 9),
        )
        if n % 5 == 4:  # some with many flags, as the longest codes
            Submission.objects.filter(pk=submission.pk).update(
                flag_codes="autoimmune_connective_tissue previous_microneedling_reaction "
                "neck_outside_cleared_skin_types cold_sore_history",
                outcome="need_to_know",
            )
        Submission.objects.filter(pk=submission.pk).update(review_status=STATUSES[n % 6])


def scrolls_sideways(page) -> bool:
    return bool(
        page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    )


def table_scrolls_sideways(page) -> bool:
    return bool(
        page.evaluate(
            "(() => { const box = document.querySelector('#changelist .results');"
            " return box.scrollWidth > box.clientWidth; })()"
        )
    )


def test_the_queue_fits_a_laptop_and_stays_usable_on_a_phone(browser, live_server):
    thirty_submissions()
    device = staff_device("pat", role("Practitioner"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, live_server.url, device)

    page.goto(live_server.url + "/admin/intake/submission/?view=all")

    expect(page.get_by_role("link", name="Needs review")).to_be_visible()
    assert not scrolls_sideways(page)
    assert not table_scrolls_sideways(page)
    no_serious_violations(page)

    page.set_viewport_size({"width": 390, "height": 844})
    assert not scrolls_sideways(page)
    no_serious_violations(page)
    # The table scrolls in its own box; the patients' links and the search are in view.
    expect(page.get_by_role("searchbox", name="Reference, name or email")).to_be_visible()
    expect(page.get_by_role("link", name="Ann Example 0")).to_be_in_viewport()
    page.close()
