"""Site-wide views that belong to no app: the health check, and the page for a server error."""

import sys
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseServerError,
    JsonResponse,
)
from django.template import loader
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from clinic import __version__
from clinic.contact import template_context


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Up if the database answers; says the app's version and nothing else."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "version": __version__}, status=503)
    return JsonResponse({"status": "ok", "version": __version__})


class HealthCheckMiddleware:
    """Answer /healthz even when the Host header is not one of the clinic's.

    Container and load-balancer health checks call the app by its internal address
    (127.0.0.1:8000), which is not one of ALLOWED_HOSTS; every other URL still refuses an unknown
    host. A health check by an allowed name goes through the whole stack like any request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz":
            try:
                request.get_host()
            except DisallowedHost:
                return healthz(request)
        return self.get_response(request)


# Seconds a client is asked to wait when the database cannot be reached.
RETRY_AFTER_OUTAGE = 30


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 400 page, with the clinic's contact details: Django's own renders it without them."""
    page = loader.get_template(defaults.ERROR_400_TEMPLATE_NAME).render(template_context())
    return HttpResponseBadRequest(page)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page, or, while the database cannot be reached, a 503 saying so in the clinic's
    words: nothing saved is lost, try again shortly. Rendered without the request, as Django's
    own 500 page is, so that it needs nothing from the database: the clinic's name and contact
    details come from the settings alone."""
    context = template_context()
    if _database_unreachable(sys.exc_info()[1]):
        page = loader.get_template("503.html").render(context)
        response = HttpResponseServerError(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER_OUTAGE)
        return response
    page = loader.get_template(defaults.ERROR_500_TEMPLATE_NAME).render(context)
    return HttpResponseServerError(page)


# PostgreSQL's codes for a server going away: connection exceptions, and shutting down.
_GONE = ("08", "57P01", "57P02", "57P03")


def _database_unreachable(error: BaseException | None) -> bool:
    """A lost or refused database connection, not a query that failed on its own (a deadlock, a
    timeout, a bug): only the first is worth "try again in a minute"."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if type(cause).__module__.startswith("sqlite3"):
        return "locked" in str(cause)
    code = getattr(cause, "pgcode", None)
    return code is None or code.startswith(_GONE)
