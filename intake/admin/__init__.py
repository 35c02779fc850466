"""The clinic's admin, by topic: staff, question sets, invitations, submissions and audit."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from intake.admin import invitations, question_sets, submissions
from intake.models import User

admin.site.register(User, UserAdmin)

__all__ = ["invitations", "question_sets", "submissions"]
