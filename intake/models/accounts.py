from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A member of clinic staff. Patients never have accounts."""

    class Meta:
        verbose_name = "staff user"
