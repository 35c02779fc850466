"""The client's network address, as trusted proxies report it."""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The address a request came from, for lockouts, rate limits and the security log.

    Behind `PROXY_COUNT` reverse proxies, each appends the address it received the request from
    to X-Forwarded-For, so the client is that many entries from the end; anything before it was
    written by the client and cannot be trusted.
    """
    count = settings.PROXY_COUNT
    if count > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return str(forwarded[-count])
    return str(request.META.get("REMOTE_ADDR", ""))
