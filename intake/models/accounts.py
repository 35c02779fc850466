from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A member of clinic staff. Patients never have accounts."""

    # Practitioners are always told of a submission that needs review; anyone else in a staff
    # role (a clinic admin, say) only if they ask to be, on their own "Notifications" page.
    notify_of_submissions = models.BooleanField(
        "Notify me of new submissions",
        default=False,
        help_text="Email me when a submission needs review, as practitioners are.",
    )

    class Meta:
        verbose_name = "staff user"
