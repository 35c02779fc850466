"""The clinic's admin, by topic: staff, question sets, invitations, submissions, audit and
patients' data requests."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from intake.admin import data_requests, invitations, question_sets, submissions
from intake.models import User

admin.site.register(User, UserAdmin)

__all__ = ["data_requests", "invitations", "question_sets", "submissions"]
