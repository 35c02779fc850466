"""Two people publish a question-set version, in a real browser: a clinic admin submits a draft
for approval, a medical lead reads what it changes and approves it with a note, and the clinic
admin publishes it. axe-core runs on every page of the way, at desktop and phone widths."""

import json
from pathlib import Path
from typing import Any

import pytest
from factories import SCREENSHOTS, no_serious_violations, photograph, role, sign_in, staff_device
from playwright.sync_api import expect

from intake.models import QuestionSetVersion, VersionStatus, import_document
from intake.rules import Tier

ROOT = Path(__file__).resolve().parents[2]
SKINPEN = ROOT / "intake" / "question_sets" / "skinpen.json"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_clinic_admin_submits_a_medical_lead_approves_and_the_draft_is_published(
    browser: Any, live_server: Any
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    cara = staff_device("cara", role("Clinic admin"))
    lee = staff_device("lee", role("Medical lead", "approve_questionsetversion"))
    document = json.loads(SKINPEN.read_text(encoding="utf-8"))
    installed = import_document(document)
    installed.install()
    draft = installed.new_draft()
    draft.parameters.filter(name="ISOTRETINOIN_BLOCK_MONTHS").update(value=3)
    # A rule made milder; not an eligibility rule, which must stay not possible to publish.
    eligibility = document["declarations"]["eligibility"]["rules"]
    milder = draft.rules.filter(tier=Tier.NOT_POSSIBLE).exclude(rule_id__in=eligibility).first()
    draft.rules.filter(pk=milder.pk).update(tier=Tier.NEED_TO_KNOW)
    draft.record_edit(cara.user)

    admin = browser.new_context().new_page()
    sign_in(admin, live_server.url, cara)
    expect(admin.get_by_text("is installed, awaiting medical-lead approval")).to_be_visible()
    admin.goto(f"{live_server.url}/admin/intake/questionsetversion/{draft.pk}/change/")
    admin.get_by_role("link", name="Approval and publishing…").click()
    expect(admin.get_by_text("Being edited.")).to_be_visible()
    photograph(admin, "submit")
    admin.get_by_role("button", name="Submit for approval").click()
    expect(admin.get_by_text("Awaiting medical-lead approval.")).to_be_visible()
    expect(admin.get_by_role("button", name="Approve")).to_have_count(0)  # not theirs to give

    lead = browser.new_context().new_page()
    sign_in(lead, live_server.url, lee)
    lead.goto(f"{live_server.url}/admin/intake/questionsetversion/{draft.pk}/publish/")
    expect(lead.get_by_text("Clinical weakening").first).to_be_visible()
    # Approving with no note is refused, with the error linked to the note.
    lead.get_by_role("button", name=f"Approve {draft}").click()
    expect(lead.get_by_role("link", name="Write a note saying what you checked.")).to_be_visible()
    photograph(lead, "approve-refused")
    lead.get_by_label("Your approval note").fill("Agreed: the IFU now says 3 months.")
    lead.get_by_role("button", name=f"Approve {draft}").click()
    expect(lead.get_by_text("is approved: it can now be published")).to_be_visible()
    photograph(lead, "approved")

    admin.reload()
    expect(admin.get_by_text("Agreed: the IFU now says 3 months.")).to_be_visible()
    admin.get_by_role("button", name=f"Publish {draft}").click()
    expect(admin.get_by_text("is published: new patients now get it")).to_be_visible()
    no_serious_violations(admin)
    assert QuestionSetVersion.objects.get(pk=draft.pk).status == VersionStatus.PUBLISHED
