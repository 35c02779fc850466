from django.contrib import admin

from bench.peer.models import Submission


# Stock Django cannot subscript ModelAdmin at run time (the project patches it in).
@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "name",
        "email",
        "submitted_at",
        "treatment_date",
        "outcome",
        "status",
        "reviewer",
    ]
    list_per_page = 50
