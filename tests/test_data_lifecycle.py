"""Retention, subject access and erasure: what the clinic keeps about a patient, for how long."""

import datetime
import json
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from factories import COLD_SORE, TODAY, logged_in, make_submission, staff

from intake.models import (
    AuditAction,
    AuditEntry,
    DataRequest,
    Draft,
    FlagDecision,
    Invitation,
    ReplacedResumeLink,
    ReviewEvent,
    Submission,
    new_token,
    token_digest,
)
from intake.records.retention import purge_expired, years_before
from intake.tasks import purge_expired_records

pytestmark = pytest.mark.django_db

SECRET_ANSWER = "takes a very particular supplement"


def make_draft(version, *, email: str = "ann@example.com", **fields: Any) -> Draft:
    return Draft.objects.create(
        version=version,
        resume_digest=token_digest(new_token()),
        details=fields.pop("details", {"full_name": "Ann Example", "email": email}),
        answers={"pregnant_or_breastfeeding": "no"},
        expires_at=fields.pop("expires_at", timezone.now() + datetime.timedelta(days=14)),
        **fields,
    )


def make_invitation(version, *, email: str = "ann@example.com", **fields: Any) -> Invitation:
    invitation = Invitation(
        question_set=version.question_set, patient_name="Ann Example", email=email, **fields
    )
    invitation.issue_token()
    invitation.save()
    return invitation


# Retention


def test_years_before_moves_29_february_to_the_28th():
    assert years_before(datetime.date(2024, 2, 29), 1) == datetime.date(2023, 2, 28)
    assert years_before(datetime.date(2026, 11, 27), 8) == datetime.date(2018, 11, 27)


def test_submissions_are_kept_8_years_after_the_treatment_then_deleted_with_an_audit_entry(version):
    eight_years_ago = years_before(TODAY, 8)
    due = make_submission(
        version, COLD_SORE, treatment_date=eight_years_ago - datetime.timedelta(1)
    )
    kept = make_submission(version, treatment_date=eight_years_ago)
    reference = due.reference
    FlagDecision.objects.create(
        flag=due.current_flags().get(), kind="acknowledged", note="ok", by=staff("pat")
    )
    AuditEntry.record(None, AuditAction.VIEW, due)

    report = purge_expired()

    assert report.submissions == 1
    assert list(Submission.objects.all()) == [kept]
    assert not FlagDecision.objects.exists()  # decisions and flags go with their submission
    entry = AuditEntry.objects.get(action=AuditAction.RETENTION_DELETE)
    assert entry.reference == reference
    assert entry.detail["retention_years"] == 8
    assert "ann" not in json.dumps(entry.detail).lower()
    # The earlier view of the deleted submission is still in the log, by reference.
    assert AuditEntry.objects.get(action=AuditAction.VIEW).reference == reference


def test_a_submission_without_a_treatment_date_counts_from_the_day_it_was_sent(version):
    now = timezone.now()
    old = make_submission(version)
    Submission.objects.filter(pk=old.pk).update(
        treatment_date=None, submitted_at=now - datetime.timedelta(days=8 * 366 + 2)
    )
    recent = make_submission(version)
    Submission.objects.filter(pk=recent.pk).update(treatment_date=None)

    purge_expired()

    assert list(Submission.objects.all()) == [recent]


def test_the_retention_period_is_the_clinics_setting(version, settings):
    settings.SUBMISSION_RETENTION_YEARS = 10
    nine_years = make_submission(version, treatment_date=years_before(TODAY, 9))

    purge_expired()

    assert list(Submission.objects.all()) == [nine_years]


def test_unused_invitations_go_some_days_after_expiry_and_used_ones_stay(version, settings):
    now = timezone.now()
    settings.EXPIRED_INVITATION_DAYS = 30
    with time_machine.travel(now - datetime.timedelta(days=100)):
        unused = make_invitation(version)
        used = make_invitation(version)
        make_submission(version, invitation=used)
    with time_machine.travel(now - datetime.timedelta(days=45)):
        recently_expired = make_invitation(version)

    with time_machine.travel(now):
        report = purge_expired()

    assert report.invitations == 1
    assert not Invitation.objects.filter(pk=unused.pk).exists()
    assert set(Invitation.objects.all()) == {used, recently_expired}


def test_an_expired_draft_goes_with_the_digests_of_its_replaced_links(version):
    now = timezone.now()
    expired = make_draft(version, expires_at=now + datetime.timedelta(days=1))
    kept = make_draft(version, expires_at=now + datetime.timedelta(days=14))
    for draft in (expired, kept, expired):
        draft.replace_resume_link()

    with time_machine.travel(now + datetime.timedelta(days=2)):
        report = purge_expired()

    assert report.drafts == 1  # the draft, not its links as well
    assert list(Draft.objects.all()) == [kept]
    assert [link.draft_id for link in ReplacedResumeLink.objects.all()] == [kept.pk]


def test_a_dry_run_counts_and_deletes_nothing(version):
    now = timezone.now()
    make_draft(version, expires_at=now - datetime.timedelta(minutes=1))
    make_draft(version)
    make_submission(version, treatment_date=years_before(TODAY, 9))
    out = StringIO()

    call_command("purge_expired", "--dry-run", stdout=out)

    assert "Would delete 1 expired draft(s), 0 expired invitation(s), 1 submission(s)" in (
        out.getvalue()
    )
    assert (Draft.objects.count(), Submission.objects.count()) == (2, 1)
    assert not AuditEntry.objects.filter(version=None).exists()  # publishing is logged


def test_the_command_and_the_task_purge_the_same_records_as_the_clock_moves_on(version):
    now = timezone.now()
    with time_machine.travel(now):
        make_draft(version)
        make_submission(version, treatment_date=TODAY)
    with time_machine.travel(now + datetime.timedelta(days=15)):
        assert purge_expired_records.call() == {"drafts": 1, "invitations": 0, "submissions": 0}
    with time_machine.travel(now + datetime.timedelta(days=8 * 366)):
        out = StringIO()
        call_command("purge_expired", stdout=out)

    assert "Deleted 0 expired draft(s), 0 expired invitation(s), 1 submission(s)" in out.getvalue()
    assert not Submission.objects.exists()


# Subject access


def record_request(client, **data: str):
    return client.post(
        "/admin/intake/datarequest/add/",
        {"kind": "access", "received_on": TODAY.isoformat(), "notes": "", **data},
    )


@pytest.fixture
def clinic_admin(client):
    return logged_in(client, staff("cara", "Clinic admin"))


def test_a_subject_access_export_holds_this_patients_data_only(clinic_admin, version):
    ann = make_submission(version, COLD_SORE | {"other_medicines": SECRET_ANSWER})
    ReviewEvent.objects.create(submission=ann, status="in_review", reason="checking", by=staff("p"))
    make_draft(version)
    make_invitation(version)
    other = make_submission(
        version, {"other_medicines": "someone else's answer"}, email="zed@example.com"
    )
    make_draft(version, email="zed@example.com")

    response = record_request(clinic_admin, email="ANN@example.com")
    data_request = DataRequest.objects.get()
    download = clinic_admin.get(f"/admin/intake/datarequest/{data_request.pk}/export.json")
    data = json.loads(download.content)

    assert response.status_code == 302
    assert "attachment" in download["Content-Disposition"]
    assert [s["reference"] for s in data["submissions"]] == [ann.reference]
    assert other.reference not in download.content.decode()
    assert "someone else" not in download.content.decode()
    submission = data["submissions"][0]
    assert submission["details"]["full_name"] == "Ann Example"
    assert {"section", "question", "answer"} <= set(submission["answers"][0])
    assert any(row["answer"] == SECRET_ANSWER for row in submission["answers"])
    assert submission["flags"][0]["code"] == "cold_sore_history"
    assert submission["review"]["history"][0]["reason"] == "checking"
    assert len(data["unfinished_questionnaires"]) == 1
    assert len(data["invitations"]) == 1


def test_the_readable_copy_says_the_same_and_escapes_what_the_patient_typed(clinic_admin, version):
    make_submission(version, {"other_medicines": "<script>alert(1)</script>"})
    record_request(clinic_admin, email="ann@example.com")
    data_request = DataRequest.objects.get()

    page = clinic_admin.get(f"/admin/intake/datarequest/{data_request.pk}/export.html")

    text = page.content.decode()
    assert page.status_code == 200
    assert "Your information held by" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert" not in text


def test_every_export_is_audited_for_each_submission_it_contains(clinic_admin, version):
    first = make_submission(version)
    second = make_submission(version)
    record_request(clinic_admin, reference=second.reference.lower())
    data_request = DataRequest.objects.get()

    clinic_admin.get(f"/admin/intake/datarequest/{data_request.pk}/export.json")

    exported = AuditEntry.objects.filter(action=AuditAction.ACCESS_EXPORT)
    assert {entry.submission for entry in exported} == {first, second}
    assert AuditEntry.objects.filter(action=AuditAction.DATA_REQUEST).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Give the patient&#x27;s email address or a submission reference."),
        ({"reference": "ZZZZ-ZZZZ"}, "No submission has this reference."),
        ({"email": "not an email"}, "Enter a valid email address."),
        (
            {"email": "a@example.com", "received_on": "2999-01-01"},
            "cannot have been received in the future",
        ),
    ],
)
def test_a_request_without_a_patient_is_refused_with_a_reason(clinic_admin, version, data, message):
    response = record_request(clinic_admin, **data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not DataRequest.objects.exists()


def test_practitioners_cannot_see_or_export_data_requests(client, version):
    make_submission(version)
    data_request = DataRequest.objects.create(
        kind="access", email="ann@example.com", recorded_by=staff("cara", "Clinic admin")
    )
    logged_in(client, staff("pat", "Practitioner"))

    assert client.get("/admin/intake/datarequest/").status_code == 403
    assert client.get(f"/admin/intake/datarequest/{data_request.pk}/export.json").status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.ACCESS_EXPORT).exists()


def test_an_unknown_request_or_format_is_not_found(clinic_admin, version):
    record_request(clinic_admin, email="ann@example.com")
    data_request = DataRequest.objects.get()

    assert clinic_admin.get(
        f"/admin/intake/datarequest/{data_request.pk}/export.xml"
    ).status_code == (404)
    missing = "/admin/intake/datarequest/00000000-0000-0000-0000-000000000000/export.json"
    assert clinic_admin.get(missing).status_code == 404


# Erasure


def erasure_request(client, **data: str) -> DataRequest:
    client.post(
        "/admin/intake/datarequest/add/",
        {"kind": "erasure", "received_on": TODAY.isoformat(), "email": "ann@example.com", **data},
    )
    return DataRequest.objects.get(kind="erasure")


def decide(client, data_request: DataRequest, **data: str):
    return client.post(f"/admin/intake/datarequest/{data_request.pk}/change/", data)


def test_erasure_removes_the_patients_drafts_invitations_and_submissions(clinic_admin, version):
    invitation = make_invitation(version)
    ann = make_submission(version, COLD_SORE, invitation=invitation)
    AuditEntry.record(None, AuditAction.VIEW, ann)
    make_draft(version)
    make_draft(version, invitation=invitation, details={})
    other = make_submission(version, email="zed@example.com")
    others_draft = make_draft(version, email="zed@example.com")
    data_request = erasure_request(clinic_admin)

    response = decide(clinic_admin, data_request, decision="erase", legal_basis="")

    assert response.status_code == 302
    assert list(Submission.objects.all()) == [other]
    assert list(Draft.objects.all()) == [others_draft]
    assert not Invitation.objects.exists()
    data_request.refresh_from_db()
    assert data_request.erased == {"submissions": 1, "drafts": 2, "invitations": 1}
    assert data_request.decided_by.username == "cara"
    erased = AuditEntry.objects.filter(action=AuditAction.ERASURE)
    assert {entry.reference for entry in erased} == {ann.reference, ""}
    # Earlier entries about the erased submission keep its reference, not its data.
    assert AuditEntry.objects.get(action=AuditAction.VIEW).reference == ann.reference


def test_erasure_removes_the_digests_of_a_drafts_replaced_links(clinic_admin, version):
    anns = make_draft(version)
    zeds = make_draft(version, email="zed@example.com")
    anns.replace_resume_link()
    zeds.replace_resume_link()
    data_request = erasure_request(clinic_admin)

    decide(clinic_admin, data_request, decision="erase", legal_basis="")

    data_request.refresh_from_db()
    assert data_request.erased["drafts"] == 1
    assert [link.draft_id for link in ReplacedResumeLink.objects.all()] == [zeds.pk]


def test_retaining_needs_the_legal_basis_and_deletes_nothing(clinic_admin, version):
    make_submission(version)
    data_request = erasure_request(clinic_admin)

    refused = decide(clinic_admin, data_request, decision="retain", legal_basis="")
    kept = decide(
        clinic_admin,
        data_request,
        decision="retain",
        legal_basis="Clinical record of a treatment given; kept for 8 years.",
    )

    assert "Say why the records are kept" in refused.content.decode()
    assert kept.status_code == 302
    assert Submission.objects.count() == 1
    data_request.refresh_from_db()
    assert data_request.decision == "retain"
    assert data_request.legal_basis.startswith("Clinical record")


def test_a_decision_once_made_cannot_be_changed(clinic_admin, version):
    data_request = erasure_request(clinic_admin)
    decide(clinic_admin, data_request, decision="retain", legal_basis="Clinical record.")
    make_submission(version)  # a later submission is not erased by a replayed form

    decide(clinic_admin, data_request, decision="erase", legal_basis="")

    data_request.refresh_from_db()
    assert data_request.decision == "retain"
    assert Submission.objects.count() == 1
    assert clinic_admin.get("/admin/intake/datarequest/").status_code == 200


def test_erasure_needs_its_own_permission(client, version):
    make_submission(version)
    cara = staff("cara", "Clinic admin")
    cara.groups.get().permissions.remove(
        *cara.groups.get().permissions.filter(codename="erase_patient_data")
    )
    logged_in(client, cara)
    data_request = erasure_request(client)

    response = decide(client, data_request, decision="erase", legal_basis="")

    assert response.status_code == 403
    assert Submission.objects.count() == 1
    data_request.refresh_from_db()
    assert data_request.decision == ""


def test_a_shared_email_address_is_not_erased_wholesale(clinic_admin, version):
    ann = make_submission(version)
    sister = make_submission(version, patient_name="Bea Example")
    data_request = erasure_request(clinic_admin)

    page = clinic_admin.get(f"/admin/intake/datarequest/{data_request.pk}/change/")
    refused = decide(clinic_admin, data_request, decision="erase", legal_basis="")

    # Each name kept in its own direction.
    people = "<bdi>Ann Example (03/04/1990)</bdi>; <bdi>Bea Example (03/04/1990)</bdi>"
    assert people in page.content.decode()
    assert "name more than one person" in refused.content.decode()
    assert set(Submission.objects.all()) == {ann, sister}


def test_a_request_by_reference_covers_that_person_only(clinic_admin, version):
    ann = make_submission(version)
    sister = make_submission(version, patient_name="Bea Example")
    make_draft(version, details={"full_name": "Bea Example", "email": "ann@example.com"})
    clinic_admin.post(
        "/admin/intake/datarequest/add/",
        {"kind": "erasure", "received_on": TODAY.isoformat(), "reference": sister.reference},
    )
    data_request = DataRequest.objects.get()

    decide(clinic_admin, data_request, decision="erase", legal_basis="")

    assert list(Submission.objects.all()) == [ann]
    assert not Draft.objects.exists()


def test_erasure_and_retention_leave_no_names_in_the_admins_history(clinic_admin, version):
    from django.contrib.admin.models import LogEntry

    clinic_admin.post(
        "/admin/intake/invitation/add/",
        {
            "question_set": version.question_set.pk,
            "patient_name": "Ann Example",
            "email": "ann@example.com",
            "treatment_date": "",
        },
    )
    assert LogEntry.objects.filter(object_repr__contains="Ann Example").exists()
    data_request = erasure_request(clinic_admin)

    decide(clinic_admin, data_request, decision="erase", legal_basis="")

    assert not Invitation.objects.exists()
    assert not LogEntry.objects.filter(object_repr__contains="Ann Example").exists()
