"""Question sets in the admin (read-only listing of their versions)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from intake.admin.changelists import ClinicModelAdmin
from intake.models import QuestionSet, QuestionSetVersion


class VersionInline(admin.TabularInline[QuestionSetVersion, QuestionSet]):
    model = QuestionSetVersion
    fields = ("number", "label", "status", "published_at", "published_by", "content_hash")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(QuestionSet)
class QuestionSetAdmin(ClinicModelAdmin[QuestionSet]):
    list_display = ["title", "slug", "created_at"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [VersionInline]
