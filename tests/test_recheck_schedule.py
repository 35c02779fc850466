"""The re-check before treatment: due at RECHECK_HOUR (clinic time) RECHECK_DAYS_BEFORE days before
the treatment date, made and emailed once by `send_rechecks` however often it runs."""

import datetime
import io
import json
import re
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from factories import make_submission, publish_approved, staff, submission_for

from intake.models import (
    AuditAction,
    AuditEntry,
    ReCheck,
    ReviewStatus,
    import_document,
    token_digest,
)
from intake.review import decisions
from intake.review.rechecks import send_due

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
TREATMENT = datetime.date(2027, 3, 10)
FILLER = Path(__file__).parent / "question_sets" / "dermal_filler.json"


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2027, 3, day, hour, minute, tzinfo=LONDON)


def booked(version, treatment_date=TREATMENT, **fields):
    with time_machine.travel(at(1, 12), tick=False):
        return make_submission(
            version, {"acne_now": "none"}, treatment_date=treatment_date, **fields
        )


def links(mailoutbox):
    return [re.search(r"https?://\S+/recheck/(\S+)/", m.body).group(1) for m in mailoutbox]


def test_the_recheck_goes_at_nine_two_days_before_the_treatment_and_not_before(version, mailoutbox):
    submission = booked(version)

    with time_machine.travel(at(8, 8, 59), tick=False):
        assert send_due().sent == 0
    assert mailoutbox == []
    with time_machine.travel(at(8, 9, 0), tick=False):
        assert send_due().sent == 1

    (message,) = mailoutbox
    assert message.to == ["ann@example.com"]
    assert "Wednesday 10 March" in message.body
    recheck = ReCheck.objects.get(submission=submission)
    assert recheck.kind == "before"
    assert recheck.treatment_date == TREATMENT
    # Only the link's digest is stored.
    (token,) = links(mailoutbox)
    assert recheck.link_digest == token_digest(token)
    assert token not in str(ReCheck.objects.filter(pk=recheck.pk).values().get())
    assert recheck.expires_at == datetime.datetime(2027, 3, 11, tzinfo=LONDON)
    assert AuditEntry.objects.filter(action=AuditAction.RECHECK_SENT, submission=submission)


def test_a_treatment_booked_after_the_moment_gets_its_recheck_at_once(version, mailoutbox):
    with time_machine.travel(at(9, 15), tick=False):
        make_submission(version, {"acne_now": "none"}, treatment_date=datetime.date(2027, 3, 10))
        send_due()

    assert len(mailoutbox) == 1


def test_a_second_run_sends_nothing_twice(version, mailoutbox):
    booked(version)

    with time_machine.travel(at(8, 9, 5), tick=False):
        call_command("send_rechecks", stdout=io.StringIO())
    with time_machine.travel(at(8, 9, 10), tick=False):
        report = send_due()
    with time_machine.travel(at(9, 9, 10), tick=False):
        send_due()

    assert (report.made, report.sent) == (0, 0)
    assert len(mailoutbox) == 1
    assert ReCheck.objects.count() == 1


def test_a_new_treatment_date_after_sending_gets_a_recheck_of_its_own(version, mailoutbox):
    submission = booked(version)
    with time_machine.travel(at(8, 9), tick=False):
        send_due()
        decisions.change_treatment_date(
            submission,
            treatment_date=datetime.date(2027, 3, 20),
            reason="Patient asked to move it",
            by=staff("rita"),
            revision=submission.revision,
        )
        send_due()
    assert len(mailoutbox) == 1
    with time_machine.travel(at(18, 9), tick=False):
        send_due()

    assert len(mailoutbox) == 2
    assert "Saturday 20 March" in mailoutbox[1].body
    assert sorted(ReCheck.objects.values_list("treatment_date", flat=True)) == [
        TREATMENT,
        datetime.date(2027, 3, 20),
    ]


def test_no_recheck_for_a_passed_date_a_patient_not_suitable_or_a_version_asking_nothing_again(
    version, mailoutbox
):
    booked(version, treatment_date=datetime.date(2027, 3, 5))
    booked(version, review_status=ReviewStatus.NOT_SUITABLE)
    filler = import_document(json.loads(FILLER.read_text()))
    filler.test_cases = json.loads(FILLER.with_name("dermal_filler.cases.json").read_text())
    filler.save(update_fields=["test_cases"])
    publish_approved(filler)
    with time_machine.travel(at(1, 12), tick=False):
        submission_for(filler, {"date_of_birth": "1990-04-03"}, treatment_date=TREATMENT)
    with time_machine.travel(at(8, 9), tick=False):
        report = send_due()

    assert report.sent == 0
    assert mailoutbox == []
