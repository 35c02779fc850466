"""Site-wide views that belong to no app: the health check."""

from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from clinic import __version__


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
