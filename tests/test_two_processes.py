"""More than one web process, as compose scales the web service: two gunicorn servers on two
loopback ports share PostgreSQL (and, in one variant, Redis). A patient whose requests alternate
between them completes the questionnaire, a limit counts across both, and a staff session works
on both. There is no Docker here, so this is the same arrangement run directly.
"""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache import cache
from django.db import connection
from django_otp.oath import totp
from factories import (
    BROWSER_PASSWORD,
    DETAILS,
    role,
    section_post,
    staff_device,
)

from intake import published
from intake.models import Submission

ROOT = Path(__file__).resolve().parent.parent
STARTS_PER_HOUR = 3

# The servers read this machine's clock (the authenticator codes too), so the tests keep it.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_clock]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    # A busy machine can take a while to boot a worker: a refused or slow first answer is
    # waited out (up to a minute), not taken for a failure.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn stopped: {process.stdout.read().decode()[-3000:]}")  # type: ignore[union-attr]
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not start")


@pytest.fixture(params=["database cache", "redis"])
def servers(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    if connection.vendor != "postgresql":
        pytest.skip("Several processes share PostgreSQL in production; this run uses SQLite.")
    params = connection.settings_dict
    environment = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "REDIS_URL", "DATABASE_URL"}
    } | {
        "DATABASE_URL": (
            f"postgres://{params['USER'] or 'postgres'}@{params['HOST'] or '127.0.0.1'}:"
            f"{params['PORT'] or 5432}/{params['NAME']}"
        ),
        "SECRET_KEY": "the-same-secret-key-for-both-processes-" + "x" * 20,
        "SECURE_HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "RATE_LIMIT_STARTS_PER_HOUR": str(STARTS_PER_HOUR),
    }
    # Counts left in the shared cache by earlier tests from this address would count here too.
    cache.clear()
    if request.param == "redis":
        import redis

        try:
            redis.Redis("127.0.0.1", 6379, db=14, socket_connect_timeout=1).flushdb()
        except redis.exceptions.ConnectionError:
            pytest.skip("Redis is not running on 127.0.0.1:6379.")
        environment["REDIS_URL"] = "redis://127.0.0.1:6379/14"
    if not (ROOT / "staticfiles" / "staticfiles.json").exists():
        # Production serves collected static files, as the image collects them when built.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=environment,
            check=True,
        )
    urls, processes = [], []
    for _ in range(2):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "clinic.wsgi"],
            cwd=ROOT,
            env=environment | {"GUNICORN_BIND": f"127.0.0.1:{port}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        urls.append(f"http://127.0.0.1:{port}")
        processes.append(process)
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_for(url, process)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def token_of(page: requests.Response) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


def test_a_patient_alternating_between_processes_completes_the_questionnaire(version, servers):
    a, b = servers
    patient = requests.Session()
    turn = iter([a, b] * 50)

    def post(path: str, data: dict) -> requests.Response:
        page = patient.get(next(turn) + path)
        response = patient.post(
            next(turn) + path, data | {"csrfmiddlewaretoken": token_of(page)}, timeout=10
        )
        assert response.status_code == 200, (path, response.status_code, response.text[:1000])
        return response

    start_page = patient.get(a + "/")
    started = patient.post(
        b + "/start/", {"treatment_date": "", "csrfmiddlewaretoken": token_of(start_page)}
    )
    assert started.status_code == 200 and "/questionnaire/1/" in started.url
    steps = published.questionnaire(version).steps
    post("/questionnaire/1/", DETAILS | {"treatment_date": ""})
    for step in steps[1:-1]:
        post(f"/questionnaire/{step.number}/", section_post(version, step.section_key))
    sent = post(
        f"/questionnaire/{steps[-1].number}/",
        {"accurate": "on", "processing": "on", "signature": "Ann Example"},
    )

    assert "your answers are sent" in sent.text
    assert Submission.objects.count() == 1

    # A limit counts across both processes: the patient's start was the first of three.
    others = [requests.Session() for _ in range(3)]
    statuses = []
    for number, other in enumerate(others):
        server = servers[number % 2]
        page = other.get(server + "/")
        statuses.append(
            other.post(
                servers[(number + 1) % 2] + "/start/",
                {"treatment_date": "", "csrfmiddlewaretoken": token_of(page)},
                allow_redirects=False,
            ).status_code
        )
    assert statuses == [302, 302, 429]


def test_a_staff_session_works_on_both_processes(version, servers):
    a, b = servers
    device = staff_device("nina", role("Practitioner"))
    # The suite hashes passwords with a fast hasher the servers do not take.
    device.user.password = PBKDF2PasswordHasher().encode(BROWSER_PASSWORD, "a-salt-for-the-test")
    device.user.save(update_fields=["password"])
    nurse = requests.Session()

    login = nurse.get(a + "/admin/login/")
    logged = nurse.post(
        b + "/admin/login/",
        {
            "username": "nina",
            "password": BROWSER_PASSWORD,
            "csrfmiddlewaretoken": token_of(login),
            "next": "/admin/",
        },
    )
    assert "/staff/two-factor/" in logged.url
    second = nurse.get(a + "/staff/two-factor/")
    signed_in = nurse.post(
        b + "/staff/two-factor/",
        {"code": f"{totp(device.bin_key):06d}", "csrfmiddlewaretoken": token_of(second)},
    )

    assert signed_in.status_code == 200
    for server in (a, b):
        queue = nurse.get(server + "/admin/intake/submission/", allow_redirects=False)
        assert queue.status_code == 200, server
