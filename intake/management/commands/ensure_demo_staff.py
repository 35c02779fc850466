import secrets
from typing import Any

from django.core.management.base import BaseCommand

from intake.models import User


class Command(BaseCommand):
    help = (
        "Create a demo staff login for a local trial, unless any staff account exists. "
        "The password is generated and printed once; it is never stored in clear."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.filter(is_staff=True).exists():
            self.stdout.write("A staff login already exists; no demo login created.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username="demo", email="", password=password)
        self.stdout.write(
            self.style.WARNING(
                "Demo staff login created (shown only this once):\n"
                f"  username: demo\n  password: {password}\n"
                "  admin:    http://127.0.0.1:8000/admin/"
            )
        )
