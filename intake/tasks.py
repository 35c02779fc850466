"""Background tasks: what runs outside a request, each a thin wrapper around its side's code;
and whether the worker that runs them is alive (`worker_health`), for staff pages to say so."""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Min, Q
from django.tasks import task
from django.utils import timezone
from django_tasks_db import DatabaseBackend

from intake.records.retention import purge_expired
from intake.review.notifications import NOTIFY_TIERS, notify_practitioners_of
from intake.review.rechecks import send_due

__all__ = [
    "NOTIFY_TIERS",
    "WorkerHealth",
    "notify_practitioners",
    "purge_expired_records",
    "queue_notice",
    "record_heartbeat",
    "send_rechecks",
    "worker_health",
]

# The worker (manage.py task_worker) writes this every HEARTBEAT_SECONDS; older than
# STOPPED_AFTER, it is taken to have stopped.
HEARTBEAT_KEY = "tasks:worker-heartbeat"
HEARTBEAT_SECONDS = 30
STOPPED_AFTER = datetime.timedelta(minutes=3)
# Tasks waiting this long with no worker to run them mean notifications are not going out.
PENDING_TOO_LONG = datetime.timedelta(minutes=5)
FAILURES_SINCE = datetime.timedelta(hours=24)
_DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
HEALTH_KEY = "tasks:worker-health"
HEALTH_SECONDS = 30


@task()
def notify_practitioners(submission_id: str, again: bool = False) -> int:
    """Email staff a link to a submission that needs review; no health details in the message.
    `again`: the rules ran again after a change and raised its outcome."""
    return notify_practitioners_of(submission_id, again=again)


def queue_notice(submission_id: str, *, again: bool = False) -> None:
    """Queue the notice of a submission being stored or changed in the current transaction."""
    announce = partial(notify_practitioners.enqueue, submission_id, again=again)
    if isinstance(notify_practitioners.get_backend(), DatabaseBackend):
        # The queued task is a row in this database: it is stored, or rolled back, with the
        # submission, in the same commit.
        announce()
    else:
        # Only once the change is really stored: a rolled-back one must not be announced.
        transaction.on_commit(announce)


def queue_raised_notice(submission_id: str, **kwargs: Any) -> None:
    """intake.review.notifications.outcome_raised: the rules ran again and raised the outcome."""
    queue_notice(submission_id, again=True)


@task()
def send_rechecks() -> dict[str, int]:
    """Make and email the re-checks that are due (the same as `manage.py send_rechecks`)."""
    report = send_due()
    return {"made": report.made, "sent": report.sent, "failed": report.failed}


@task()
def purge_expired_records() -> dict[str, int]:
    """Delete what is past its retention period (the same as `manage.py purge_expired`)."""
    report = purge_expired()
    return {
        "drafts": report.drafts,
        "invitations": report.invitations,
        "submissions": report.submissions,
    }


def record_heartbeat(now: datetime.datetime | None = None) -> None:
    """The worker is alive: written by its heartbeat, read by `worker_health`."""
    cache.set(HEARTBEAT_KEY, (now or timezone.now()).isoformat(), timeout=None)


@dataclass(frozen=True)
class WorkerHealth:
    """What staff need to know about the background worker (notifications depend on it)."""

    # Seconds since the worker's last heartbeat; None if none was ever recorded.
    last_heartbeat_seconds: int | None
    # Seconds the oldest task still waiting to run has waited; None if none waits.
    oldest_pending_seconds: int | None
    # Tasks that failed in the last 24 hours (a notification that could not be sent, say).
    failed_recently: int

    @property
    def stopped(self) -> bool:
        """No heartbeat lately: the worker's process is not running."""
        beat = self.last_heartbeat_seconds
        return beat is not None and beat > STOPPED_AFTER.total_seconds()

    @property
    def stuck(self) -> bool:
        """A task has waited too long, whatever the heartbeat says: a worker that is alive but
        held up (by a mail server that does not answer, say) sends nothing either."""
        waiting = self.oldest_pending_seconds
        return waiting is not None and waiting > PENDING_TOO_LONG.total_seconds()

    def as_dict(self) -> dict[str, object]:
        return {
            "worker_last_heartbeat_seconds": self.last_heartbeat_seconds,
            "oldest_pending_task_seconds": self.oldest_pending_seconds,
            "failed_tasks_last_24_hours": self.failed_recently,
            "worker_stopped": self.stopped,
            "tasks_waiting_too_long": self.stuck,
        }


def worker_health(*, fresh: bool = False) -> WorkerHealth | None:
    """The worker's health, or None where tasks run at once in the request (no worker).

    Every staff page shows it, so it is worked out at most every HEALTH_SECONDS and kept in the
    shared cache (the task table has no index for these questions); `fresh` works it out now.
    """
    if settings.TASKS["default"]["BACKEND"] != _DATABASE_BACKEND:
        return None
    kept = None if fresh else cache.get(HEALTH_KEY)
    if isinstance(kept, dict):
        return WorkerHealth(**kept)
    health = _worker_health(timezone.now())
    cache.set(HEALTH_KEY, dataclasses.asdict(health), timeout=HEALTH_SECONDS)
    return health


def _worker_health(now: datetime.datetime) -> WorkerHealth:
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    found = DBTaskResult.objects.aggregate(
        oldest=Min("enqueued_at", filter=Q(status=TaskResultStatus.READY)),
        failed=Count(
            "pk",
            filter=Q(status=TaskResultStatus.FAILED, finished_at__gte=now - FAILURES_SINCE),
        ),
    )
    beat = cache.get(HEARTBEAT_KEY)
    last = datetime.datetime.fromisoformat(beat) if isinstance(beat, str) else None
    return WorkerHealth(
        last_heartbeat_seconds=None if last is None else int((now - last).total_seconds()),
        oldest_pending_seconds=(
            None if found["oldest"] is None else int((now - found["oldest"]).total_seconds())
        ),
        failed_recently=found["failed"],
    )
