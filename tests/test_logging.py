"""Operational logs: one JSON line per request and per security event, never patient data."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from factories import logged_in, make_submission, staff

from clinic.logs import JsonFormatter, username_digest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def lines(caplog, logger: str) -> list[dict]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == logger]


def test_each_request_is_one_json_line_with_its_id_and_route_never_its_token(client, caplog):
    caplog.set_level(logging.INFO)
    token = "secret-token-of-a-patient-link-0123456789"

    response = client.get(f"/invitation/{token}/")

    [line] = lines(caplog, "clinic.requests")
    assert line["route"] == "invitation/<str:token>/"
    assert line["status"] == response.status_code == 404
    assert line["request_id"] == response["X-Request-ID"]
    assert len(line["request_id"]) == 32
    assert line["duration_ms"] >= 0
    assert token not in caplog.text
    assert all(token not in JsonFormatter().format(r) for r in caplog.records)


def test_a_proxys_request_id_is_kept_and_a_strange_one_replaced(client, caplog):
    caplog.set_level(logging.INFO)

    kept = client.get("/healthz", headers={"X-Request-ID": "edge-1234abcd"})
    replaced = client.get("/healthz", headers={"X-Request-ID": "<script>\n"})

    assert kept["X-Request-ID"] == "edge-1234abcd"
    assert replaced["X-Request-ID"] != "<script>\n"
    assert [line["request_id"] for line in lines(caplog, "clinic.requests")] == [
        "edge-1234abcd",
        replaced["X-Request-ID"],
    ]


def test_logins_failures_and_logouts_are_security_events_without_passwords(caplog):
    caplog.set_level(logging.INFO)
    user = staff("pat", "Practitioner")
    client = Client()

    client.post("/admin/login/", {"username": "pat", "password": "wrong-password-xyz"})
    client.post("/admin/login/", {"username": "pat", "password": "a-long-password-123"})
    client.post("/admin/logout/")

    events = [(line["event"], line.get("user_id")) for line in lines(caplog, "clinic.security")]
    assert events == [("login_failed", None), ("login", user.pk), ("logout", user.pk)]
    failed = lines(caplog, "clinic.security")[0]
    assert failed["username_digest"] == username_digest("pat")
    assert "pat" not in json.dumps(failed)
    assert failed["client"] == "127.0.0.1"
    assert "wrong-password" not in caplog.text and "a-long-password" not in caplog.text


def test_permission_denied_and_exports_are_security_events(client, version, caplog):
    caplog.set_level(logging.INFO)
    submission = make_submission(version)
    logged_in(client, staff("pat", "Practitioner"))
    client.get("/admin/intake/auditentry/")
    logged_in(client, staff("cara", "Clinic admin"))
    client.post(
        "/admin/intake/submission/",
        {"action": "export_csv", "_selected_action": [submission.pk]},
    )

    events = lines(caplog, "clinic.security")
    denied = next(e for e in events if e["event"] == "permission_denied")
    export = next(e for e in events if e["event"] == "export")
    assert denied["route"].startswith("admin/")
    assert (export["what"], export["submissions"]) == ("submissions_csv", 1)
    assert "Ann Example" not in caplog.text and submission.email not in caplog.text


def test_djangos_own_error_lines_lose_the_path():
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s", ("/x/tok",), None
    )
    record.status_code = 500
    record.request = object()

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "Request failed with status 500"
    assert "tok" not in json.dumps(line)


def test_an_exception_is_logged_by_type_and_place_without_its_message():
    email = "ann@" + "example.com"
    try:
        raise ValueError(f"duplicate key (email)=({email})")
    except ValueError:
        import sys as system

        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "boom", None, system.exc_info()
        )

    line = json.loads(JsonFormatter().format(record))

    assert line["exception"]["type"] == "builtins.ValueError"
    assert "test_logging.py" in line["exception"]["traceback"]
    assert "ann@example.com" not in json.dumps(line)


def test_the_configured_logs_are_json_on_stdout():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"} | {"SECRET_KEY": "x" * 50}
    code = (
        "import logging; "
        "logging.getLogger('clinic.security').info('lockout', extra={'event': 'lockout'})"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert (line["logger"], line["event"], line["level"]) == ("clinic.security", "lockout", "INFO")
