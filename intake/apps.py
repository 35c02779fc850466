from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Consultation intake"
    default_auto_field = "django.db.models.BigAutoField"
