"""The task worker, with a heartbeat: `manage.py db_worker` (django-tasks-db), and every 30 seconds
a note that it is alive, so that staff pages can say when it has stopped."""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import close_old_connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker

from intake.tasks import HEARTBEAT_SECONDS, record_heartbeat

logger = logging.getLogger(__name__)


class Command(DatabaseWorker):
    help = (
        "Run the background tasks (notifications) as db_worker does, recording a heartbeat "
        "every 30 seconds for the staff pages' notice when the worker has stopped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        record_heartbeat()
        stop = threading.Event()
        beat = threading.Thread(target=_beat, args=(stop,), name="heartbeat", daemon=True)
        beat.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()


def _beat(stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            record_heartbeat()
            close_old_connections()
        except Exception:  # a cache or database away for a moment: the next beat tries again
            logger.warning("could not record the worker's heartbeat", exc_info=True)
