"""Requests refused before any view sees them."""

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse


class RefuseNulCharactersMiddleware:
    """Answer a query string holding a NUL character with the 400 page.

    PostgreSQL cannot compare text holding NUL, so a tampered admin filter such as
    ?review_status=%00 would otherwise reach the database and fail with a server error. Form
    fields refuse NUL in posted text themselves, with a message.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise BadRequest("The query string holds a NUL character.")
        return self.get_response(request)
