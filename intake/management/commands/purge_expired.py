from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from intake.records.retention import purge_expired


class Command(BaseCommand):
    help = (
        "Delete what is past its retention period: expired unfinished questionnaires, unused "
        "invitations after EXPIRED_INVITATION_DAYS, and submissions SUBMISSION_RETENTION_YEARS "
        "after their treatment date. Run it daily. --dry-run only reports the counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report counts, delete nothing")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        report = purge_expired(dry_run=dry_run)
        if dry_run:
            self.stdout.write(f"Would delete {report}.")
        else:
            self.stdout.write(f"Deleted {report}.")
