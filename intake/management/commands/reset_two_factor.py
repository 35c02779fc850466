from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic.logs import security_event
from intake.models import User
from intake.staff_access import reset_two_factor


class Command(BaseCommand):
    help = (
        "Remove a staff member's authenticator and backup codes (for a lost phone). They set up "
        "a new authenticator at their next sign-in; check who is asking before running this."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user is called {username!r}.")
        removed = reset_two_factor(user)
        security_event(None, "two_factor_reset", user_id=user.pk)
        self.stdout.write(
            f"Removed {removed} device(s) of {username}; they will set up a new authenticator "
            "at their next sign-in."
        )
