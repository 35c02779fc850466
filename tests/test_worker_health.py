"""Notifications depend on the background worker: staff are told when it has stopped or tasks
have failed, and a staff-only status page reports its heartbeat and the oldest waiting task."""

import datetime
import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from factories import logged_in, role, staff

from intake.tasks import HEALTH_KEY, HEARTBEAT_KEY, notify_practitioners, record_heartbeat

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
STOPPED = "The background worker has stopped"


@pytest.fixture
def nurse() -> Client:
    cache.delete_many([HEARTBEAT_KEY, HEALTH_KEY])
    return logged_in(Client(), staff("nina", "Practitioner"))


def status(client: Client) -> dict:
    return json.loads(client.get("/admin/status/").content)


def test_with_tasks_run_in_the_request_there_is_no_worker_to_watch(nurse):
    assert status(nurse) == {"tasks": "run at once in the request; no worker is needed"}
    assert STOPPED not in nurse.get("/admin/").content.decode()


def test_a_worker_whose_heartbeat_stopped_is_shown_on_every_staff_page(nurse, settings):
    settings.TASKS = DATABASE_TASKS
    record_heartbeat(timezone.now() - datetime.timedelta(minutes=10))

    page = nurse.get("/admin/intake/submission/").content.decode()
    reported = status(nurse)

    assert STOPPED in page
    assert reported["worker_stopped"] is True
    assert reported["worker_last_heartbeat_seconds"] >= 600


# The worker closes its connection between tasks, as it must outside a test's transaction.
@pytest.mark.django_db(transaction=True)
def test_a_running_worker_and_a_waiting_task_are_reported_without_alarm(settings):
    role("Practitioner")
    nurse = logged_in(Client(), staff("nina", "Practitioner"))
    cache.delete_many([HEARTBEAT_KEY, HEALTH_KEY])
    settings.TASKS = DATABASE_TASKS
    notify_practitioners.enqueue("00000000-0000-0000-0000-000000000000")

    call_command("task_worker", "--batch", "--queue-name", "no-such-queue")  # a beat, no task run

    reported = status(nurse)
    assert reported["worker_last_heartbeat_seconds"] < 5
    assert reported["oldest_pending_task_seconds"] is not None
    assert reported["worker_stopped"] is False
    assert STOPPED not in nurse.get("/admin/").content.decode()


def test_tasks_that_failed_today_are_shown_on_staff_pages(nurse, settings):
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE_TASKS
    record_heartbeat()
    notify_practitioners.enqueue("00000000-0000-0000-0000-000000000000")
    DBTaskResult.objects.update(status=TaskResultStatus.FAILED, finished_at=timezone.now())

    page = nurse.get("/admin/").content.decode()

    assert "1 background task (practitioners&#x27; notices) failed in the last 24 hours" in page
    assert status(nurse)["failed_tasks_last_24_hours"] == 1


def test_the_status_page_is_for_staff_only(version):
    assert Client().get("/admin/status/").status_code == 302  # to the sign-in


def test_a_worker_alive_but_not_running_tasks_is_shown_too(nurse, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE_TASKS
    record_heartbeat()  # its process is alive...
    notify_practitioners.enqueue("00000000-0000-0000-0000-000000000000")
    old = timezone.now() - datetime.timedelta(minutes=10)
    DBTaskResult.objects.update(enqueued_at=old)  # ...but a notice has waited ten minutes

    page = nurse.get("/admin/").content.decode()

    assert "have waited more than 5 minutes to be sent" in page
    assert status(nurse)["tasks_waiting_too_long"] is True
