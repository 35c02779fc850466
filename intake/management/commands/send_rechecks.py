from typing import Any

from django.core.management.base import BaseCommand

from intake.review.rechecks import send_due


class Command(BaseCommand):
    help = (
        "Make and email the re-checks before treatment that are due (RECHECK_HOUR, "
        "RECHECK_DAYS_BEFORE days before the treatment date), each once. Run it every few "
        "minutes: a second run, or two at once, sends nothing twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = send_due()
        self.stdout.write(
            f"Re-checks made: {report.made}, sent: {report.sent}, not sent (tried again on the "
            f"next run): {report.failed}."
        )
