"""What every list page of the clinic's own admin shares."""

from typing import Any, TypeVar

from django.contrib import admin
from django.core.exceptions import BadRequest
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

_M = TypeVar("_M", bound=Model)


class ClinicModelAdmin(admin.ModelAdmin[_M]):
    """A model admin whose list page refuses a query string with a NUL character in it.

    PostgreSQL cannot compare text holding NUL: a tampered filter such as ?review_status=%00 would
    reach the database and fail with a server error. It gets the 400 page instead.
    """

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise BadRequest("The query string holds a NUL character.")
        return super().changelist_view(request, extra_context)
