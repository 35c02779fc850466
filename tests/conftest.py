import copy
import datetime
import os
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import settings

# "dev", the default, is a quick look while changing code: 30 examples a property. CI runs "ci"
# (HYPOTHESIS_PROFILE=ci, set by .ci/run), which gives every property 500 examples (the fuzzing
# tests, whose examples are whole requests, 300 each: tests/test_fuzzing.py): enough to reach odd
# corners on every run. "nightly" searches much longer. pytest --hypothesis-profile=NAME overrides
# the variable.
# Requests and database work have no steady speed on a shared machine, so no deadline.
settings.register_profile("ci", max_examples=500, deadline=None, print_blob=True)
settings.register_profile("nightly", parent=settings.get_profile("ci"), max_examples=10_000)
settings.register_profile("dev", parent=settings.get_profile("ci"), max_examples=30)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

MINIMAL_DOCUMENT: dict[str, Any] = {
    "format": "consultation-intake/question-set/2",
    "question_set": {"slug": "peel", "title": "Chemical peel", "description": ""},
    "version": {"label": "1", "notes": ""},
    "parameters": {"BLOCK_MONTHS": {"value": 6, "description": "Months to wait."}},
    "sources": {"IFU": "Instructions for use."},
    "advice": [{"title": "Before", "items": ["Arrive with clean skin."]}],
    "declarations": {},
    "sections": [
        {
            "key": "medicines",
            "title": "Medicines",
            "intro": "",
            "questions": [
                {
                    "key": "isotretinoin",
                    "text": "Have you taken isotretinoin?",
                    "help_text": "",
                    "type": "yes_no_not_sure",
                    "required": True,
                    "show_if": None,
                },
                {
                    "key": "last_dose",
                    "text": "When did you take your last dose?",
                    "help_text": "",
                    "type": "date",
                    "required": True,
                    "date_range": "past",
                    "allow_month_year": True,
                    "allow_not_sure": True,
                    "show_if": {"q": "isotretinoin", "in": ["yes", "not_sure"]},
                },
            ],
        }
    ],
    "rules": [
        {
            "id": "isotretinoin_recent",
            "flag": "oral_isotretinoin",
            "tier": "not_possible",
            "temporary": True,
            "when": {"q": "last_dose", "within_before": {"months": "BLOCK_MONTHS"}},
            "practitioner_message": "Last dose within the blocking period.",
            "patient_guidance": "We need at least 6 months after your last dose.",
            "sources": ["IFU"],
        }
    ],
}


@pytest.fixture
def make_document() -> Callable[..., dict[str, Any]]:
    """A small valid question-set document; keyword arguments replace top-level parts."""

    def factory(**overrides: Any) -> dict[str, Any]:
        document = copy.deepcopy(MINIMAL_DOCUMENT)
        document.update(copy.deepcopy(overrides))
        return document

    return factory


# pytest-django's fixtures that give a test the database; a test marked django_db has it too.
DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `database` every test that can reach the database (before `-m` selects).

    The others (the rules engine, settings, forms) give the same result whichever database is
    configured, so CI runs them once, on PostgreSQL, and only the `database` tests on SQLite.
    """
    from django.test import TransactionTestCase

    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        cls = getattr(item, "cls", None)
        if (
            item.get_closest_marker("django_db")
            or fixtures & DATABASE_FIXTURES
            or (cls is not None and issubclass(cls, TransactionTestCase))
        ):
            item.add_marker(pytest.mark.database)


@pytest.fixture(autouse=True, scope="session")
def _plain_http_test_client() -> None:
    # The test client and the browser tests' live server speak plain HTTP. Session-wide, because
    # the live server's middleware reads the setting once, when it starts.
    from django.conf import settings
    from django.test.utils import override_settings

    settings.SECURE_SSL_REDIRECT = False
    # Tests render templates without running collectstatic first.
    storages = settings.STORAGES | {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    }
    # Argon2 is slow on purpose; tests that create many staff accounts use a fast hash.
    # (tests/test_staff_access.py checks the configured hashers themselves.)
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    override_settings(STORAGES=storages, PASSWORD_HASHERS=fast).enable()


@pytest.fixture(autouse=True)
def _one_clinic_day(request: pytest.FixtureRequest) -> Iterator[None]:
    """Hold the clock at midday, clinic time, on the date the tests were collected (ticking on).

    Test modules compute their dates when they are imported (tests/factories.py TODAY); a run that
    went on past midnight would otherwise meet a server that had moved to the next day, and the
    queue's "today" would no longer be the tests' today. Midday keeps this machine's calendar
    (UTC) and the clinic's on the same date. Tests that share the clock with another process
    keep the real one: the browser tests (Chromium reads it too) and those marked `real_clock`
    (servers they start); they compute their dates as each test runs.
    """
    if request.node.get_closest_marker("browser") or request.node.get_closest_marker("real_clock"):
        yield
        return
    import time_machine
    from django.conf import settings
    from factories import TODAY

    midday = datetime.datetime.combine(
        TODAY, datetime.time(12), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )
    with time_machine.travel(midday, tick=True):
        yield


@pytest.fixture
def version() -> Any:
    """The SkinPen question set, published."""
    from recorded_rows import published_skinpen

    return published_skinpen()
