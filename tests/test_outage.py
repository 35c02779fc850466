"""While the database cannot be reached, pages answer 503 in the clinic's words, not a bare 500."""

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client
from factories import logged_in, staff, start, step_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def outage(monkeypatch):
    """Every query fails as it does while PostgreSQL restarts."""

    def unreachable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    def begin():
        monkeypatch.setattr(CursorWrapper, "execute", unreachable)
        monkeypatch.setattr(CursorWrapper, "executemany", unreachable)

    return begin


@pytest.mark.parametrize("page", ["start page", "a step", "staff page"])
def test_pages_answer_503_saying_saved_answers_are_safe(version, outage, page):
    client = Client(raise_request_exception=False)
    if page == "a step":
        start(client)
    if page == "staff page":
        logged_in(client, staff("nina", "Practitioner"))
    url = {"start page": "/", "a step": step_url(1), "staff page": "/admin/"}[page]
    outage()

    response = (
        client.post("/start/", {"treatment_date": ""})
        if page == "start page"
        else (client.get(url))
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    text = response.content.decode()
    assert "Answers you have already saved are safe" in text
    assert "Traceback" not in text


def test_any_other_failure_is_still_the_500_page(version, monkeypatch):
    from intake.patient import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "_offered_version", broken)

    response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 500
    assert "Nothing you sent has been lost or half-saved" in response.content.decode()


def test_a_failing_query_on_a_live_database_is_still_a_500(version, monkeypatch):
    # A statement timeout or a deadlock is not an outage: it must not read as one.
    from intake.patient import views

    class QueryCanceled(Exception):  # as psycopg2 raises it, with the server's code
        pgcode = "57014"

    def timed_out(*args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout") from (
            QueryCanceled()
        )

    monkeypatch.setattr(views, "_offered_version", timed_out)

    response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 500
