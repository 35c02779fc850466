"""What the deployment promises: health check, error pages, containers, production settings."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import yaml
from django.db import DatabaseError
from django.test import Client

from clinic import __version__

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_the_health_check_reports_the_version_and_nothing_else(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_health_check_fails_when_the_database_does_not_answer(client):
    with mock.patch("clinic.views.connection.cursor", side_effect=DatabaseError("down")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "down" not in response.content.decode()


@pytest.mark.django_db
def test_the_health_check_answers_on_the_containers_own_address(settings):
    settings.ALLOWED_HOSTS = ["intake.example-clinic.co.uk"]
    client = Client()

    # The container health check: http://127.0.0.1:8000/healthz, not one of the clinic's hosts.
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 400


@pytest.mark.django_db
def test_the_health_check_answers_over_plain_http_where_pages_redirect(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # a new client loads the middleware with the changed setting

    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301


@pytest.mark.django_db
def test_error_pages_are_in_the_clinics_words_without_internals(client):
    response = client.get("/no-such-page/")

    text = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in text
    assert "Traceback" not in text and "urlpatterns" not in text


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_runs_postgres_the_web_app_and_the_worker():
    services = compose()["services"]

    assert set(services) == {"db", "migrate", "web", "worker", "purge", "rechecks", "proxy"}
    version = int(re.search(r"postgres:(\d+)", services["db"]["image"]).group(1))
    assert version >= 16
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert any(volume.startswith("db-data:") for volume in services["db"]["volumes"])
    assert "db-data" in compose()["volumes"]
    for name in ("migrate", "web", "worker"):
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("migrate", "web", "worker", "purge", "rechecks"):
        assert services[name]["env_file"] == ".env"
        assert services[name]["build"] == "."
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["worker"]["command"][-1] == "task_worker"  # db_worker with a heartbeat
    assert "purge_expired" in " ".join(services["purge"]["command"])
    assert "send_rechecks" in " ".join(services["rechecks"]["command"])


def test_migrations_run_once_before_any_web_container_starts():
    services = compose()["services"]

    assert "migrate --noinput" in " ".join(services["migrate"]["command"])
    assert "createcachetable" in " ".join(services["migrate"]["command"])
    for name in ("web", "worker", "purge", "rechecks"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"
    assert "migrate" not in " ".join(services["web"]["command"])


def test_web_can_be_scaled_behind_the_proxy():
    services = compose()["services"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")

    # No fixed host port on web, so `docker compose up --scale web=3` has no clash; the proxy
    # publishes 80/443 and looks up every web container by the service's DNS name.
    assert "ports" not in services["web"]
    assert {"80:80", "443:443"} <= set(services["proxy"]["ports"])
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    assert re.search(r"dynamic a \{\s*name web\s*port 8000", caddyfile)
    assert services["proxy"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert "lb_try_duration" in caddyfile


def test_no_secret_is_baked_into_compose_or_the_image():
    text = (ROOT / "docker-compose.yml").read_text() + (ROOT / "Dockerfile").read_text()

    assert not re.search(r"SECRET_KEY\s*[:=]\s*['\"]?[A-Za-z0-9]{20,}", text)
    assert not re.search(r"^ENV .*SECRET", text, re.MULTILINE)
    db_environment = compose()["services"]["db"]["environment"]
    assert db_environment["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD")


def test_the_image_runs_as_a_non_root_user_from_the_lock_file():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")

    assert re.search(r"^FROM python:3\.13-slim", dockerfile, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "collectstatic" in dockerfile
    assert "/healthz" in dockerfile
    assert "migrate" in dockerfile and "gunicorn" in dockerfile


def test_the_deployment_checklist_passes_with_production_settings():
    unwanted = {"DEBUG", "SECURE_HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the last: browser tests
    env = {k: v for k, v in os.environ.items() if k not in unwanted}
    env |= {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "intake.example-clinic.co.uk",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
