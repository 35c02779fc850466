from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from intake.models import Draft


class Command(BaseCommand):
    help = (
        "Delete unfinished questionnaires (drafts) past their expiry date, with every answer "
        "they hold. Run it daily, e.g. from cron. --dry-run only reports the count."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Report, delete nothing")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        expired = Draft.objects.filter(expires_at__lte=timezone.now())
        if dry_run:
            self.stdout.write(f"{expired.count()} expired draft(s) would be deleted.")
            return
        deleted, _ = expired.delete()
        self.stdout.write(f"Deleted {deleted} expired draft(s).")
