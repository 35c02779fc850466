"""A practitioner signs in for the first time in a real browser: password, authenticator set-up
with the QR page, backup codes, then the review queue and a flagged submission, where a decision
refused for an incomplete antiviral plan comes back with what was typed, and clearing it, signed
with the password, locks it.

Checks what only a browser shows: the pages work under the Content Security Policy (the browser
reports anything it blocks), and the QR code is drawn.
"""

import base64
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from django_otp.oath import totp
from factories import fill_antiviral_plan
from playwright.sync_api import expect

from intake.models import User, import_document

ROOT = Path(__file__).resolve().parents[2]
SKINPEN = ROOT / "intake" / "question_sets" / "skinpen.json"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "a-long-password-for-pat"

# Not serialized_rollback: the database as migrated, restored after a live-server test has emptied
# it, clashes with the content types and permissions that emptying it made again under new keys.
# The test makes the role it needs itself (flagged_submission).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def flagged_submission() -> Any:
    from factories import COLD_SORE, make_submission

    version = import_document(json.loads(SKINPEN.read_text(encoding="utf-8")))
    version.install()
    # Transactional tests empty the database between tests, roles (a data migration) included.
    codenames = importlib.import_module("intake.migrations.0004_roles").PRACTITIONER
    role, _ = Group.objects.get_or_create(name="Practitioner")
    role.permissions.set(
        Permission.objects.filter(content_type__app_label="intake", codename__in=codenames)
    )
    pat = User.objects.create_user("pat", password=PASSWORD, is_staff=True)
    pat.groups.add(role)
    return make_submission(version, COLD_SORE, patient_name="Ann Example")


def current_code(spaced_key: str) -> str:
    key = spaced_key.replace(" ", "")
    key = base64.b32decode(key + "=" * (-len(key) % 8))
    return f"{totp(key):06d}"


def test_a_practitioner_sets_up_two_step_sign_in_and_reviews(browser, live_server):
    submission = flagged_submission()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    page.goto(live_server.url + "/admin/")
    page.get_by_label("Username").fill("pat")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    expect(page.locator(".qr-code svg")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "staff-two-factor-setup.png", full_page=True)
    key = page.locator("#totp-key").inner_text()
    page.get_by_label("Code").fill(current_code(key))
    page.get_by_role("button", name="Confirm and continue").click()

    expect(page.locator(".backup-codes li")).to_have_count(10)
    page.get_by_role("link", name="Continue to the admin").click()
    page.get_by_role("link", name="Submissions").first.click()
    page.get_by_role("link", name="Ann Example").click()
    expect(page.get_by_text(submission.reference).first).to_be_visible()

    expect(page.get_by_text("cold_sore_history").first).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "staff-submission.png", full_page=True)

    # A decision refused for an incomplete plan comes back as typed, with what is missing.
    flag = page.locator("article.flag", has_text="cold_sore_history")
    flag.locator("summary").click()
    flag.get_by_label("Note (for an override, the reason)").fill("Has a cold sore most winters")
    flag.locator('input[name="offered"][value="yes"]').check()
    flag.locator('input[name="accepted"][value="yes"]').check()
    flag.get_by_label("Drug", exact=True).select_option("valaciclovir")
    flag.get_by_role("button", name="Save").click()
    summary = page.locator(".decision-problems")
    expect(summary).to_contain_text("Dose: Needed for an accepted plan.")
    expect(summary).to_contain_text("Kidney function checked: Confirm this")
    flag = page.locator("article.flag", has_text="cold_sore_history")
    expect(flag.get_by_label("Note (for an override, the reason)")).to_have_value(
        "Has a cold sore most winters"
    )
    expect(flag.get_by_label("Drug", exact=True)).to_have_value("valaciclovir")
    expect(flag.locator('input[name="accepted"][value="yes"]')).to_be_checked()
    problems = Axe().run(page, context=".decision-problems").response["violations"]
    assert [p for p in problems if p["impact"] in ("serious", "critical")] == []
    page.screenshot(path=SCREENSHOTS / "staff-refused-decision-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SCREENSHOTS / "staff-refused-decision-phone.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # With the plan complete, the practitioner clears the submission and signs it.
    fill_antiviral_plan(flag, timezone.localdate())
    flag.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    decision = page.get_by_role("region", name="Review decision")
    decision.get_by_label("Status").select_option("cleared_with_conditions")
    decision.get_by_label("Reason").fill("Cover agreed at consultation")
    decision.get_by_label("Password or authenticator code").fill(PASSWORD)
    decision.get_by_role("button", name="Save decision").click()
    expect(page.get_by_role("heading", name="Signed and locked")).to_be_visible()
    expect(page.get_by_text("The record still matches this signature.")).to_be_visible()
    expect(page.get_by_role("button", name="Reopen for changes")).to_be_visible()
    problems = Axe().run(page).response["violations"]
    assert [p for p in problems if p["impact"] in ("serious", "critical")] == []
    page.screenshot(path=SCREENSHOTS / "staff-signed.png", full_page=True)
    assert blocked == []
