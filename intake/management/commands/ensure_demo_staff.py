import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.urls import reverse

from intake.models import User


class Command(BaseCommand):
    help = (
        "Create demo staff logins for a local trial, unless any staff account exists: a "
        "superuser, and a medical lead to approve question-set versions (publishing needs two "
        "people). The passwords are generated and printed once; they are never stored in clear. "
        "The sign-in address printed is SITE_URL's."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if User.objects.filter(is_staff=True).exists():
            self.stdout.write("A staff login already exists; no demo login created.")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username="demo", email="", password=password)
        lead_password = secrets.token_urlsafe(12)
        lead = User.objects.create_user("demo-lead", password=lead_password, is_staff=True)
        lead.groups.add(Group.objects.get(name="Medical lead"))
        sign_in = settings.SITE_URL.rstrip("/") + reverse("admin:index")
        self.stdout.write(
            self.style.WARNING(
                "Demo staff logins created (shown only this once):\n"
                f"  username: demo       password: {password}\n"
                f"  username: demo-lead  password: {lead_password}  (Medical lead: approves)\n"
                f"  admin:    {sign_in}"
            )
        )
