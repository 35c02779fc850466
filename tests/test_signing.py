"""Clearing a submission is signed with the practitioner's password or a fresh authenticator code,
records what exactly was signed, and locks the submission until someone reopens it with a reason
(or a new treatment date changes its flags)."""

import datetime
import html
import json

import pytest
from django.db import connection
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from factories import (
    ACCEPTED_PLAN,
    COLD_SORE,
    STAFF_PASSWORD,
    TODAY,
    logged_in,
    make_submission,
    page,
    record_plan,
    role,
    staff,
)

from intake.models import (
    AuditAction,
    AuditEntry,
    FlagDecision,
    ReviewEvent,
    Signature,
    Submission,
    User,
)
from intake.review.decisions import (
    DecisionRefused,
    RecordLocked,
    change_review_status,
    change_treatment_date,
    content_hash,
    decide_flag,
)
from intake.review.signing import ATTEMPTS, WINDOW

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-at-all"


def text(response) -> str:
    return html.unescape(response.content.decode())


def with_plan(version, user: User) -> Submission:
    """A cold-sore submission whose antiviral plan is recorded: ready to clear (revision 1)."""
    submission = make_submission(version, COLD_SORE)
    record_plan(submission.current_flags().get(code="cold_sore_history"), user)
    return Submission.objects.get(pk=submission.pk)


def clear(client, submission: Submission, signature: str, status: str = "cleared"):
    return client.post(
        page(submission),
        {
            "status": status,
            "reason": "Seen at consultation",
            "signature": signature,
            "revision": Submission.objects.get(pk=submission.pk).revision,
        },
    )


def signed(version, user: User) -> Submission:
    submission = with_plan(version, user)
    change_review_status(
        submission,
        status="cleared_with_conditions",
        reason="Cover agreed",
        by=user,
        revision=1,
        signature=STAFF_PASSWORD,
    )
    return Submission.objects.get(pk=submission.pk)


def test_clearing_signed_with_the_password_records_what_was_signed_and_locks(client, version):
    practitioner = staff("p", "Practitioner")
    submission = with_plan(version, practitioner)
    logged_in(client, practitioner)

    response = clear(client, submission, STAFF_PASSWORD)

    assert response.status_code == 302
    fresh = Submission.objects.get(pk=submission.pk)
    assert (fresh.review_status, fresh.locked) == ("cleared", True)
    signature = Signature.objects.get()
    assessment = fresh.assessments.get(is_current=True)
    assert (signature.by, signature.status, signature.method) == (
        practitioner,
        "cleared",
        "password",
    )
    assert signature.assessment == assessment
    # The plan as stored with the decision (with the treatment date it was made for).
    stored = fresh.current_flags().get().decisions.get().antiviral_plan
    assert stored["drug"] == ACCEPTED_PLAN["drug"]
    assert signature.content == {
        "submission": str(fresh.pk),
        "assessment": assessment.pk,
        "status": "cleared",
        "flags": [
            {
                "code": "cold_sore_history",
                "tier": "need_to_know",
                "provisional": False,
                "decision": {"kind": "acknowledged", "note": "Plan agreed", "plan": stored},
            }
        ],
    }
    assert signature.content_hash == content_hash(signature.content)
    assert len(signature.content_hash) == 64
    entry = AuditEntry.objects.get(action="sign")
    assert entry.detail == {"status": "cleared", "method": "password"}
    assert fresh.changes.filter(kind="signature").get().new == {
        "signature": signature.pk,
        "content_hash": signature.content_hash,
    }


def test_clearing_signed_with_a_fresh_authenticator_code_and_never_the_same_code_twice(
    client, version
):
    practitioner = staff("p", "Practitioner")
    first, second = with_plan(version, practitioner), with_plan(version, practitioner)
    logged_in(client, practitioner)
    device = TOTPDevice.objects.get(user=practitioner)
    code = f"{totp(device.bin_key):06d}"

    assert clear(client, first, code).status_code == 302
    reused = clear(client, second, code, status="cleared_with_conditions")

    assert Signature.objects.get().method == "authenticator"
    assert reused.status_code == 400
    assert "That code is not right, or has been used already" in text(reused)
    assert Submission.objects.get(pk=second.pk).review_status == "new"
    assert AuditEntry.objects.get(action="sign_refused").detail == {
        "method": "authenticator",
        "reason": "wrong",
    }


@pytest.mark.parametrize("typed", ["", WRONG, "123456"])
def test_clearing_without_the_right_signature_is_refused_and_nothing_is_saved(
    client, version, typed
):
    practitioner = staff("p", "Practitioner")
    submission = with_plan(version, practitioner)
    logged_in(client, practitioner)

    response = clear(client, submission, typed)

    assert response.status_code == 400
    page_text = text(response)
    assert "Nothing was saved" in page_text
    assert '<a href="#id_signature">Signature: ' in page_text
    if typed:
        assert typed not in page_text
    fresh = Submission.objects.get(pk=submission.pk)
    assert (fresh.review_status, fresh.locked) == ("new", False)
    assert not Signature.objects.exists()
    # Refusals of a typed secret are audited; what was typed is not.
    refusals = list(
        AuditEntry.objects.filter(action="sign_refused").values_list("detail", flat=True)
    )
    assert len(refusals) == (1 if typed else 0)
    assert typed == "" or typed not in json.dumps(refusals)


def test_after_a_few_wrong_passwords_even_the_right_one_waits(version):
    practitioner = staff("p", "Practitioner")
    submission = with_plan(version, practitioner)

    def sign(secret: str) -> None:
        change_review_status(
            submission, status="cleared", reason="ok", by=practitioner, revision=1, signature=secret
        )

    for _ in range(ATTEMPTS):
        with pytest.raises(DecisionRefused, match="password is not right"):
            sign(WRONG)
    with pytest.raises(DecisionRefused, match="Too many wrong signatures"):
        sign(STAFF_PASSWORD)
    assert not Submission.objects.get(pk=submission.pk).locked

    # Once the window has passed, the right password signs again. (The audit log refuses
    # changes through the ORM; the test moves its entries back in time directly.)
    earlier = timezone.now() - WINDOW - datetime.timedelta(minutes=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE intake_auditentry SET at = %s WHERE action = 'sign_refused'", [earlier]
        )
    sign(STAFF_PASSWORD)
    assert Submission.objects.get(pk=submission.pk).locked


@pytest.mark.django_db(transaction=True)
def test_wrong_passwords_sent_at_the_same_moment_are_counted_one_after_another(version):
    import threading

    from django.db import connections

    from intake.review.signing import SigningRefused, confirm_signer

    if connection.vendor != "postgresql":
        pytest.skip("Row locks are PostgreSQL's; SQLite runs one writer at a time.")
    role("Practitioner")  # transactional tests empty the database, roles too
    practitioner = staff("p", "Practitioner")
    submission = make_submission(version)
    for _ in range(ATTEMPTS - 1):
        with pytest.raises(SigningRefused, match="password is not right"):
            confirm_signer(practitioner, WRONG, submission)
    together = 6
    start = threading.Barrier(together)
    refusals: list[str] = []

    def guess() -> None:
        start.wait()
        try:
            confirm_signer(practitioner, WRONG, submission)
        except SigningRefused as refused:
            refusals.append(str(refused))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess) for _ in range(together)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Only the last of the allowed tries was checked; the others waited for the window.
    assert sum("password is not right" in refusal for refusal in refusals) == 1
    assert sum("Too many wrong signatures" in refusal for refusal in refusals) == together - 1
    wrong = AuditEntry.objects.filter(action=AuditAction.SIGN_REFUSED, detail__reason="wrong")
    assert wrong.count() == ATTEMPTS


def test_a_signed_submission_refuses_every_kind_of_change(version):
    practitioner = staff("p", "Practitioner")
    submission = signed(version, practitioner)
    flag = submission.current_flags().get()
    revision = submission.revision

    with pytest.raises(RecordLocked):
        change_review_status(
            submission, status="in_review", reason="Again", by=practitioner, revision=revision
        )
    with pytest.raises(RecordLocked):
        change_review_status(
            submission,
            status="cleared",
            reason="Again",
            by=practitioner,
            revision=revision,
            signature=STAFF_PASSWORD,
        )
    with pytest.raises(RecordLocked):
        decide_flag(flag, kind="acknowledged", note="More", by=practitioner, revision=revision)
    with pytest.raises(RecordLocked):
        decide_flag(
            flag,
            kind="acknowledged",
            note="Another plan",
            by=practitioner,
            revision=revision,
            antiviral_plan=ACCEPTED_PLAN | {"drug": "aciclovir"},
        )
    # A new date that leaves the flags as they are is refused too, until the record is reopened.
    with pytest.raises(RecordLocked):
        change_treatment_date(
            submission,
            treatment_date=submission.treatment_date + datetime.timedelta(days=1),
            reason="Moved a day",
            by=practitioner,
            revision=revision,
        )

    fresh = Submission.objects.get(pk=submission.pk)
    assert (fresh.review_status, fresh.locked, fresh.revision) == (
        "cleared_with_conditions",
        True,
        revision,
    )
    assert fresh.treatment_date == submission.treatment_date
    assert FlagDecision.objects.count() == 1
    assert fresh.assessments.count() == 1


def test_the_page_of_a_signed_submission_offers_only_to_reopen_it(client, version):
    practitioner = staff("p", "Practitioner")
    submission = signed(version, practitioner)
    logged_in(client, practitioner)

    shown = text(client.get(page(submission)))
    refused = client.post(
        page(submission),
        {
            "flag": submission.current_flags().get().pk,
            "kind": "acknowledged",
            "note": "Changed my mind",
            "revision": submission.revision,
        },
    )

    assert "Signed and locked" in shown
    assert "Cleared with conditions, signed by p on" in shown
    assert "Reopen for changes" in shown
    assert 'name="flag"' not in shown and "Save decision" not in shown
    assert refused.status_code == 400
    assert "This submission is signed and locked." in text(refused)
    assert "Changed my mind</textarea>" not in text(refused)  # no decision form to show it in
    assert FlagDecision.objects.count() == 1


def test_reopening_with_a_reason_unlocks_is_audited_and_clearing_needs_a_new_signature(
    client, version
):
    practitioner = staff("p", "Practitioner")
    submission = signed(version, practitioner)
    first = Signature.objects.get()
    logged_in(client, practitioner)

    without_reason = client.post(
        page(submission), {"reopen_reason": " ", "revision": submission.revision}
    )
    response = client.post(
        page(submission),
        {"reopen_reason": "She remembered a new medicine", "revision": submission.revision},
    )

    assert without_reason.status_code == 400
    assert "Reason for reopening: This field is required." in text(without_reason)
    assert response.status_code == 302
    fresh = Submission.objects.get(pk=submission.pk)
    assert (fresh.review_status, fresh.locked) == ("in_review", False)
    assert ReviewEvent.objects.filter(submission=fresh).first().reason == (
        "She remembered a new medicine"
    )
    changes = {c.kind: (c.old, c.new, c.reason, c.by) for c in fresh.changes.all()[:2]}
    assert changes["status"] == (
        "cleared_with_conditions",
        "in_review",
        "She remembered a new medicine",
        practitioner,
    )
    assert changes["signature"] == (
        {"signature": first.pk, "content_hash": first.content_hash},
        None,
        "She remembered a new medicine",
        practitioner,
    )
    entry = AuditEntry.objects.filter(action="reopen").get()
    assert (entry.user, entry.detail) == (practitioner, {"automatic": False})
    assert "medicine" not in json.dumps(entry.detail)

    # Open again: decisions are taken, and clearing is signed anew.
    flag = fresh.current_flags().get()
    record_plan(flag, practitioner, note="New medicine fine")
    with pytest.raises(DecisionRefused, match="Clearing is signed"):
        change_review_status(fresh, status="cleared", reason="ok", by=practitioner, revision=4)
    change_review_status(
        fresh, status="cleared", reason="ok", by=practitioner, revision=4, signature=STAFF_PASSWORD
    )
    assert Signature.objects.count() == 2
    assert Submission.objects.get(pk=fresh.pk).locked


def test_only_a_signed_submission_is_reopened(version):
    practitioner = staff("p", "Practitioner")
    submission = make_submission(version)
    from intake.review.decisions import reopen

    with pytest.raises(DecisionRefused, match="nothing to reopen"):
        reopen(submission, reason="Why not", by=practitioner, revision=0)


def test_a_new_date_that_changes_the_flags_reopens_a_signed_submission(version):
    practitioner = staff("p", "Practitioner")
    last_dose = (TODAY - datetime.timedelta(days=150)).isoformat()
    submission = make_submission(
        version,
        {
            "isotretinoin_last_12_months": "yes",
            "isotretinoin_taking_now": "no",
            "isotretinoin_last_dose": last_dose,
        },
        treatment_date=TODAY + datetime.timedelta(days=60),
    )
    flag = submission.current_flags().get()
    decide_flag(flag, kind="acknowledged", note="Stopped in time", by=practitioner, revision=0)
    change_review_status(
        submission,
        status="cleared",
        reason="ok",
        by=practitioner,
        revision=1,
        signature=STAFF_PASSWORD,
    )

    change_treatment_date(
        submission,
        treatment_date=TODAY + datetime.timedelta(days=7),
        reason="Moved earlier",
        by=practitioner,
        revision=2,
    )

    fresh = Submission.objects.get(pk=submission.pk)
    assert (fresh.review_status, fresh.locked) == ("in_review", False)
    assert fresh.review_events.first().reason == (
        "Reopened: the flags changed when the treatment date changed. The signature no longer "
        "covers them: clearing needs a new one."
    )
    unlocked = fresh.changes.get(kind="signature", new__isnull=True)
    assert unlocked.by is None and unlocked.reason.startswith("Reopened")
    assert AuditEntry.objects.get(action="reopen").detail == {"automatic": True}


def test_the_print_view_shows_the_signature_and_whether_the_record_still_matches(client, version):
    practitioner = staff("p", "Practitioner")
    submission = signed(version, practitioner)
    signature = Signature.objects.get()
    logged_in(client, practitioner)
    printed = f"/admin/intake/submission/{submission.pk}/print/"

    matching = text(client.get(printed))
    client.post(page(submission), {"reopen_reason": "Typo", "revision": submission.revision})
    flag = submission.current_flags().get()
    record_plan(flag, practitioner, note="Plan changed", drug="aciclovir")
    changed = text(client.get(printed))

    assert f"Cleared with conditions, signed by p on {signature.at:%-d %b %Y}" in matching
    assert "with their password" in matching
    assert f"SHA-256 <code>{signature.content_hash[:12]}…</code>" in matching
    assert "The record still matches this signature." in matching
    assert "The record has changed since it was signed" in changed
    assert "Reopened since it was signed." in changed
