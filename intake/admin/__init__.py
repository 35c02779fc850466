"""The clinic's admin, by topic: staff, question sets, invitations, submissions, audit and
patients' data requests."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from intake.admin import data_requests, invitations, question_sets, submissions
from intake.models import User


@admin.register(User)
class StaffUserAdmin(UserAdmin[User]):
    # Each member of staff sets it on their own "Notifications" page; shown here for whoever
    # manages accounts.
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Notifications", {"fields": ("notify_of_submissions",)}),
    )


__all__ = ["data_requests", "invitations", "question_sets", "submissions"]
