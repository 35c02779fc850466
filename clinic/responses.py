"""Response headers every dynamic page gets."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date

# What add_never_cache_headers and patch_cache_control(no_store=True, private=True) would leave,
# written in one go rather than parsed and written again on every response.
NEVER_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"


class NoStoreMiddleware:
    """Keep pages out of every cache: browsers' history and shared proxies alike.

    The pages show health data and patient details; static files are served (and cached for a
    year) by WhiteNoise before a request gets this far.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Cache-Control"] = NEVER_STORE
        response["Expires"] = http_date()
        return response


# Browser features the app never uses, denied to every page and anything it might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "bluetooth",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class PermissionsPolicyMiddleware:
    """Send the Permissions-Policy header on every response, the health check's included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Permissions-Policy"] = PERMISSIONS_POLICY
        return response
