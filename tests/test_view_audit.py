"""A submission's page is audited once per staff member within a window, not on every reload;
who viewed which submission, and when they first did in the window, stays in the log."""

import datetime

import pytest
import time_machine
from django.utils import timezone
from factories import logged_in, make_submission, page, staff

from intake.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db


def views(submission, user=None) -> list[datetime.datetime]:
    entries = AuditEntry.objects.filter(submission=submission, action=AuditAction.VIEW)
    if user is not None:
        entries = entries.filter(user=user)
    return sorted(entries.values_list("at", flat=True))


def test_reloading_within_the_window_adds_no_entry_and_keeps_the_first_view(
    client, version, settings
):
    settings.AUDIT_VIEW_WINDOW_MINUTES = 10
    submission = make_submission(version)
    practitioner = staff("p", "Practitioner")
    logged_in(client, practitioner)
    start = timezone.now()

    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):
            assert client.get(page(submission)).status_code == 200
            clock.shift(datetime.timedelta(minutes=1))
        clock.shift(datetime.timedelta(minutes=4, seconds=30))  # 9½ minutes after the first
        assert client.get(page(submission)).status_code == 200

    [entry] = AuditEntry.objects.filter(action=AuditAction.VIEW)
    assert (entry.user, entry.submission, entry.reference) == (
        practitioner,
        submission,
        submission.reference,
    )
    assert entry.at == start


def test_a_view_after_the_window_is_recorded_again(client, version, settings):
    settings.AUDIT_VIEW_WINDOW_MINUTES = 10
    submission = make_submission(version)
    practitioner = staff("p", "Practitioner")
    logged_in(client, practitioner)
    start = timezone.now()

    with time_machine.travel(start, tick=False) as clock:
        client.get(page(submission))
        clock.shift(datetime.timedelta(minutes=10, seconds=1))
        client.get(page(submission))
        clock.shift(datetime.timedelta(minutes=3))
        client.get(page(submission))

    assert views(submission) == [start, start + datetime.timedelta(minutes=10, seconds=1)]


def test_the_window_is_a_setting(client, version, settings):
    settings.AUDIT_VIEW_WINDOW_MINUTES = 2
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))
    start = timezone.now()

    with time_machine.travel(start, tick=False) as clock:
        client.get(page(submission))
        clock.shift(datetime.timedelta(minutes=3))
        client.get(page(submission))

    assert len(views(submission)) == 2


def test_each_user_and_each_submission_has_its_own_window(client, version):
    first = make_submission(version)
    second = make_submission(version, patient_name="Bea Other")
    practitioner = staff("p", "Practitioner")
    colleague = staff("q", "Practitioner")

    logged_in(client, practitioner)
    client.get(page(first))
    client.get(page(second))
    client.get(page(first))
    logged_in(client, colleague)
    client.get(page(first))

    assert len(views(first, practitioner)) == 1
    assert len(views(second, practitioner)) == 1
    assert len(views(first, colleague)) == 1


def test_every_print_is_still_audited_as_a_print(client, version):
    submission = make_submission(version)
    practitioner = staff("p", "Practitioner")
    logged_in(client, practitioner)

    client.get(page(submission))
    client.get(f"/admin/intake/submission/{submission.pk}/print/")
    client.get(f"/admin/intake/submission/{submission.pk}/print/")
    client.get(page(submission))

    actions = sorted(AuditEntry.objects.filter(user=practitioner).values_list("action", flat=True))
    assert actions == ["print", "print", "view"]


def test_a_refused_decision_is_not_a_view(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))

    client.post(page(submission), {"status": "deferred", "reason": "", "revision": 0})

    assert views(submission) == []
