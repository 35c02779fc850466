import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.settings import BASE_DIR, database_from_url

ROOT = Path(__file__).resolve().parent.parent


def test_sqlite_urls_are_relative_to_the_project():
    assert database_from_url("sqlite:///db.sqlite3") == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(BASE_DIR / "db.sqlite3"),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
    assert database_from_url("sqlite:////var/lib/intake/db.sqlite3")["NAME"] == (
        "/var/lib/intake/db.sqlite3"
    )


def test_postgres_urls_give_every_connection_setting():
    config = database_from_url("postgres://intake:s%40cret@db.internal:5433/intake?sslmode=require")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("intake", "intake", "s@cret")
    assert (config["HOST"], config["PORT"]) == ("db.internal", "5433")
    assert config["OPTIONS"] == {"sslmode": "require"}
    assert config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize("url", ["mysql://x@y/z", "postgres://host:5432/", "sqlite://"])
def test_unsupported_or_incomplete_database_urls_are_refused(url):
    with pytest.raises(ImproperlyConfigured):
        database_from_url(url)


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import clinic.settings as s; print(s.DEBUG, s.TIME_ZONE, s.LANGUAGE_CODE)",
        ],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_secret_key_is_required_unless_debug_is_on():
    refused = load_settings()
    allowed = load_settings(DEBUG="1")

    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stderr
    assert allowed.returncode == 0


def test_debug_is_off_by_default_and_the_app_speaks_uk_english():
    result = load_settings(SECRET_KEY="x" * 50)

    assert result.stdout.split() == ["False", "Europe/London", "en-gb"]


def test_a_malformed_boolean_stops_start_up_with_its_name():
    result = load_settings(SECRET_KEY="x" * 50, DEBUG="maybe")

    assert result.returncode != 0
    assert "DEBUG must be one of" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [("CLINIC_PHONE", "call us"), ("CLINIC_EMAIL", "hello"), ("CLINIC_EMAIL", "a@b.c?cc=x@y.z")],
)
def test_a_malformed_clinic_phone_or_email_stops_start_up_with_its_name(name, value):
    refused = load_settings(SECRET_KEY="x" * 50, **{name: value})
    allowed = load_settings(
        SECRET_KEY="x" * 50, CLINIC_PHONE="+44 (0)20 7946-0000", CLINIC_EMAIL="a@b.example"
    )

    assert refused.returncode != 0
    assert f"{name} must be" in refused.stderr
    assert allowed.returncode == 0


def cache_and_sessions(**env: str) -> list[str]:
    code = (
        "import clinic.settings as s; "
        "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'], s.SESSION_ENGINE)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean | {"SECRET_KEY": "x" * 50} | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def test_the_cache_and_sessions_live_in_the_database_so_web_processes_share_them():
    assert cache_and_sessions() == [
        "django.core.cache.backends.db.DatabaseCache",
        "cache",
        "clinic.sessions",
    ]


def test_with_redis_configured_the_cache_lives_there_and_sessions_are_read_through_it():
    assert cache_and_sessions(REDIS_URL="redis://cache.internal:6379/0") == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://cache.internal:6379/0",
        "django.contrib.sessions.backends.cached_db",
    ]


@pytest.mark.django_db
def test_a_database_session_is_read_back_until_it_expires(settings):
    from importlib import import_module

    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore

    session = SessionStore()
    session["intake_draft"] = "d-1"
    session.set_expiry(60)
    session.save()
    expired = SessionStore()
    expired["intake_draft"] = "d-2"
    expired.set_expiry(-1)
    expired.save()

    assert SessionStore(session_key=session.session_key)["intake_draft"] == "d-1"
    later = SessionStore(session_key=expired.session_key)
    assert "intake_draft" not in later
    # An expired key is never used again: saving gives the browser a new one.
    later["intake_draft"] = "d-3"
    later.save()
    assert later.session_key != expired.session_key


@pytest.mark.django_db
def test_a_session_started_by_one_web_process_is_read_by_another(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    from importlib import import_module

    from django.core.cache import caches

    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    caches["default"].close()
    try:
        caches["default"].set("ping", "pong", 5)
    except Exception as error:
        pytest.skip(f"no Redis at {redis_url}: {error}")
    engine = import_module(settings.SESSION_ENGINE)
    first = engine.SessionStore()
    first["draft_id"] = "d-1"
    first.save()
    caches["default"].clear()  # another process's cache may be empty: the database has it

    second = engine.SessionStore(session_key=first.session_key)

    assert caches["default"].get("ping") is None
    assert second["draft_id"] == "d-1"


def test_the_old_per_address_sending_limit_stops_start_up_rather_than_being_ignored():
    result = load_settings(SECRET_KEY="x" * 50, RATE_LIMIT_SUBMISSIONS_PER_HOUR="10")

    assert result.returncode != 0
    assert "RATE_LIMIT_SUBMITS_PER_DRAFT_PER_HOUR" in result.stderr
