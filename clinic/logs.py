"""Structured logs: one JSON line per request and per security-relevant event, on stdout.

Log lines are read by whoever runs the servers, so they never carry patient names, answers or
tokens: requests are logged by their URL pattern (`invitation/<str:token>/`), never the path
itself, and events only carry the fields passed to `security_event`, which callers keep to ids,
counts and staff usernames.
"""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from clinic.addresses import client_address

# The formatter and handler every process logs through, for Django's LOGGING and gunicorn's
# logconfig_dict alike.
JSON_TO_STDOUT: dict[str, Any] = {
    "formatters": {"json": {"()": "clinic.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
}

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

requests_log = logging.getLogger("clinic.requests")
security_log = logging.getLogger("clinic.security")

# A proxy's own request id is kept if it looks like one; anything else is replaced.
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}
# Set by django.request and django.server; the request and its path may hold tokens.
_UNSAFE_EXTRAS = frozenset({"request", "server_time"})


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            # Our own lines carry the id from when they were logged; others take the current one.
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        if hasattr(record, "request"):
            # Django's own request logging puts the path (and its tokens) into the message.
            status = getattr(record, "status_code", None)
            line["message"] = f"Request failed with status {status}"
        else:
            line["message"] = record.getMessage()
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in _UNSAFE_EXTRAS:
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The type and where it happened, never the message: database and validation errors
            # quote the values involved, which can be a patient's details or answers.
            exc_type, _, tb = record.exc_info
            line["exception"] = {
                "type": f"{exc_type.__module__}.{exc_type.__qualname__}",
                "traceback": "".join(traceback.format_tb(tb)).rstrip(),
            }
        return json.dumps(line, default=str, ensure_ascii=False)


def security_event(request: HttpRequest | None, event: str, **fields: Any) -> None:
    """Log one security-relevant event (login, logout, lockout, permission denied, export).

    `fields` must never hold patient names, answers or tokens.
    """
    extra: dict[str, Any] = {"event": event, "request_id": request_id_var.get(), **fields}
    if request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            extra.setdefault("user_id", user.pk)
        extra.setdefault("client", client_address(request))
    security_log.info(event, extra=extra)


class RequestLogMiddleware:
    """Give each request an id (also sent back as X-Request-ID) and log one line when done."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            self.log(request, response, started)
            return response
        finally:
            request_id_var.reset(token)

    def log(self, request: HttpRequest, response: HttpResponse, started: float) -> None:
        match = request.resolver_match
        # With LOG_LEVEL above INFO there is no request line, so nothing to gather for one.
        if requests_log.isEnabledFor(logging.INFO):
            user = getattr(request, "user", None)
            requests_log.info(
                "request",
                extra={
                    "request_id": request_id_var.get(),
                    "method": request.method,
                    # The pattern, not the path: patient links carry tokens in the path.
                    "route": match.route if match is not None else None,
                    "view": match.view_name if match is not None else None,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )
        if response.status_code == 403:
            security_event(request, "permission_denied", route=match.route if match else None)
        elif response.status_code == 429:
            security_event(request, "rate_limited", route=match.route if match else None)


def log_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    security_event(request, "login", user_id=user.pk)


def log_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    security_event(request, "logout", user_id=getattr(user, "pk", None))


def username_digest(username: str) -> str:
    """A keyed digest of a username typed at sign-in: attempts can be matched up in the logs,
    but a password typed into the username box by mistake is never written down."""
    digest = salted_hmac("clinic.logs.username", username.casefold(), algorithm="sha256")
    return digest.hexdigest()[:16]


def log_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))
    security_event(request, "login_failed", username_digest=username_digest(username))


def log_lockout(
    sender: Any,
    request: HttpRequest | None,
    username: str = "",
    ip_address: str = "",
    **kwargs: Any,
) -> None:
    security_event(
        request, "lockout", username_digest=username_digest(str(username)), client=ip_address
    )
