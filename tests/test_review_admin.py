"""Practitioners' review in the admin: queue, submission page, decisions, audit, roles."""

import csv
import datetime
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from factories import (
    ACCEPTED_PLAN,
    ACCEPTED_PLAN_FORM,
    COLD_SORE,
    PREGNANT,
    STAFF_PASSWORD,
    TODAY,
    complete_until_check,
    logged_in,
    make_submission,
    page,
    publish_approved,
    record_plan,
    staff,
    start,
    submit,
)

from intake import published
from intake.models import (
    AuditEntry,
    AuditLogIsAppendOnly,
    Invitation,
    ReviewStatus,
    Submission,
    User,
)
from intake.review.decisions import (
    ConcurrentChange,
    DecisionRefused,
    change_review_status,
    decide_flag,
)

pytestmark = pytest.mark.django_db

SKINPEN = Path(__file__).resolve().parent.parent / "intake" / "question_sets" / "skinpen.json"
NOTE = "free text health answer: daily fish oil"


# Roles and permissions


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        (None, "/admin/intake/submission/", 302),
        ("Practitioner", "/admin/intake/submission/", 200),
        ("Practitioner", "SUBMISSION", 200),
        ("Practitioner", "PRINT", 200),
        ("Practitioner", "/admin/intake/invitation/add/", 200),
        ("Practitioner", "/admin/intake/auditentry/", 403),
        ("Practitioner", "/admin/intake/questionset/add/", 403),
        ("Clinic admin", "/admin/intake/auditentry/", 200),
        ("Clinic admin", "/admin/intake/questionset/add/", 200),
        ("Clinic admin", "SUBMISSION", 200),
        ("Medical lead", "SUBMISSION", 200),
        ("superuser", "DELETE", 403),
        ("Clinic admin", "DELETE", 403),
        (None, "SUBMISSION", 302),
        (None, "PRINT", 302),
    ],
)
def test_who_can_reach_what(client, version, role, url, status):
    submission = make_submission(version)
    if role == "superuser":
        logged_in(client, staff("root", superuser=True))
    elif role:
        logged_in(client, staff("someone", role))
    url = {
        "SUBMISSION": page(submission),
        "PRINT": f"/admin/intake/submission/{submission.pk}/print/",
        "DELETE": f"/admin/intake/submission/{submission.pk}/delete/",
    }.get(url, url)

    response = client.get(url)

    assert response.status_code == status


def test_nobody_can_change_what_the_patient_answered_through_the_admin(client, version):
    submission = make_submission(version, PREGNANT)
    logged_in(client, staff("root", superuser=True))

    client.post(page(submission), {"answers": "{}", "patient_name": "Changed", "revision": 0})
    client.post(f"/admin/intake/submission/{submission.pk}/delete/", {"post": "yes"})

    fresh = Submission.objects.get(pk=submission.pk)
    assert fresh.answers == submission.answers
    assert fresh.patient_name == "Ann Example"
    assert fresh.current_flags().count() == 1


def test_unknown_or_malformed_submission_ids_are_not_found(client, version):
    logged_in(client, staff("p", "Practitioner"))

    assert client.get("/admin/intake/submission/not-a-uuid/change/").status_code == 404
    missing = "/admin/intake/submission/00000000-0000-0000-0000-000000000000/change/"
    assert client.get(missing).status_code == 404


# The queue


def test_the_queue_lists_unreviewed_first_then_soonest_treatment(client, version):
    make_submission(
        version, patient_name="Later", treatment_date=TODAY + datetime.timedelta(days=9)
    )
    make_submission(
        version, patient_name="Sooner", treatment_date=TODAY + datetime.timedelta(days=2)
    )
    done = make_submission(version, patient_name="Done", treatment_date=TODAY)
    Submission.objects.filter(pk=done.pk).update(review_status="cleared")
    logged_in(client, staff("p", "Practitioner"))

    text = client.get("/admin/intake/submission/?view=all").content.decode()

    assert text.index("Sooner") < text.index("Later") < text.index("Done")


def test_the_queue_shows_the_outcome_in_words_and_never_the_free_text(client, version):
    make_submission(version, COLD_SORE | PREGNANT | {"other_medicines": NOTE})
    logged_in(client, staff("p", "Practitioner"))

    # Codes may wrap after their underscores (<wbr>), which changes nothing in their text.
    text = client.get("/admin/intake/submission/").content.decode().replace("<wbr>", "")

    assert "Not possible" in text
    assert "cold_sore_history" in text and "pregnancy_breastfeeding" in text
    assert NOTE not in text


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("outcome=not_possible", "Pregnant", "Plain"),
        ("outcome=none", "Plain", "Pregnant"),
        ("flags=cold_sores", "Sores", "Plain"),
        ("treatment=next_7_days", "Soon", "Later"),
        ("q=Sores", "Sores", "Plain"),
    ],
)
def test_the_queue_filters(client, version, query, shown, hidden):
    make_submission(
        version,
        PREGNANT,
        patient_name="Pregnant",
        treatment_date=TODAY + datetime.timedelta(days=30),
    )
    make_submission(
        version, patient_name="Plain", treatment_date=TODAY + datetime.timedelta(days=30)
    )
    make_submission(
        version, COLD_SORE, patient_name="Sores", treatment_date=TODAY + datetime.timedelta(days=30)
    )
    make_submission(version, patient_name="Soon", treatment_date=TODAY + datetime.timedelta(days=3))
    make_submission(
        version, patient_name="Later", treatment_date=TODAY + datetime.timedelta(days=20)
    )
    logged_in(client, staff("p", "Practitioner"))

    text = client.get(f"/admin/intake/submission/?{query}").content.decode()

    assert f">{shown}<" in text
    assert f">{hidden}<" not in text


@pytest.mark.parametrize("value", ["%C2%B2", "9" * 30, "x"])
def test_a_tampered_version_filter_lists_nothing_rather_than_failing(client, version, value):
    make_submission(version, patient_name="Zelda Example")
    logged_in(client, staff("p", "Practitioner"))

    response = client.get(f"/admin/intake/submission/?version={value}")

    assert response.status_code == 200
    assert "Zelda Example" not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/intake/submission/?review_status=%00",
        "/admin/intake/submission/?q=Ann%00",
        "/admin/intake/auditentry/?action=%00",
        "/admin/intake/invitation/?q=%00",
        "/admin/intake/questionset/?q=%00",
    ],
)
def test_a_nul_character_in_a_list_query_is_a_bad_request(client, version, url):
    make_submission(version)
    logged_in(client, staff("boss", "Clinic admin"))

    response = client.get(url)

    # PostgreSQL cannot compare text holding NUL: it must never reach the database.
    assert response.status_code == 400
    assert "Something went wrong with that request" in response.content.decode()


def queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/intake/submission/").status_code == 200
    return len(queries)


def test_the_queue_costs_the_same_queries_for_10_and_10000_submissions(client, version):
    template = make_submission(version, COLD_SORE)
    logged_in(client, staff("p", "Practitioner"))

    def add(count: int) -> None:
        Submission.objects.bulk_create(
            Submission(
                version=version,
                patient_name=f"Patient {n}",
                date_of_birth=template.date_of_birth,
                email="x@example.com",
                phone="07700 900123",
                answers={},
                treatment_date=TODAY,
                consent_name="x",
                consented_at=template.consented_at,
                reference=f"T{n:08d}",
                flag_codes="cold_sore_history",
                outcome="need_to_know",
            )
            for n in range(count)
        )

    add(9)
    small = queue_queries(client)
    Submission.objects.filter(reference__startswith="T").delete()
    add(9_999)
    large = queue_queries(client)

    assert small == large


def add_submissions(version, count: int, **fields: Any) -> None:
    """Many plain submissions at once, without going through the rules."""
    Submission.objects.bulk_create(
        Submission(
            version=version,
            patient_name=f"Patient {n}",
            date_of_birth=datetime.date(1990, 4, 3),
            email="x@example.com",
            phone="07700 900123",
            answers={},
            consent_name="x",
            consented_at=timezone.now(),
            reference=f"T{n:08d}",
            **({"treatment_date": TODAY + datetime.timedelta(days=n % 9)} | fields),
        )
        for n in range(count)
    )


UNREVIEWED_THIS_WEEK = "/admin/intake/submission/?review_status__exact=new&treatment=next_7_days"


def test_the_unreviewed_this_week_queue_costs_the_same_queries_for_10_and_10000(client, version):
    logged_in(client, staff("p", "Practitioner"))

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(UNREVIEWED_THIS_WEEK).status_code == 200
        return len(queries)

    add_submissions(version, 10)
    small = cost()
    Submission.objects.all().delete()
    add_submissions(version, 10_000)

    assert cost() == small


def test_the_queue_counts_no_further_than_a_thousand(client, version):
    add_submissions(version, 1_060)
    logged_in(client, staff("p", "Practitioner"))

    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        text = client.get("/admin/intake/submission/").content.decode()
    later = client.get("/admin/intake/submission/?p=22")

    assert "More than 1000 submissions" in text
    counts = [sql for sql in statements if "COUNT(" in sql.upper()]
    assert counts and all("LIMIT 1001" in sql for sql in counts)
    # Pages past the counted ones still open.
    assert later.status_code == 200 and ">Patient " in later.content.decode()


def test_a_short_queue_gives_its_exact_count(client, version):
    add_submissions(version, 12)
    logged_in(client, staff("p", "Practitioner"))

    assert "12 submissions" in client.get("/admin/intake/submission/").content.decode()


def without_tokens(text: str) -> str:
    """A page with its per-request CSRF tokens and CSP nonces taken out."""
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return re.sub(r'nonce="[^"]+"', "", text)


@pytest.mark.parametrize(
    "query",
    ["", "?review_status__exact=new&treatment=next_7_days", "?o=-7.1", "?q=Example&p=1"],
)
def test_the_queue_rows_are_the_same_html_as_the_admins_own(client, version, monkeypatch, query):
    from intake.review.queue import QueueRows

    make_submission(
        version,
        COLD_SORE,
        patient_name='Zoë <O\'Brien> & "Co" Example',
        treatment_date=TODAY + datetime.timedelta(days=2),
    )
    make_submission(version, PREGNANT, patient_name="  Ann Example  ")
    unbooked = make_submission(version, patient_name="   ")
    Submission.objects.filter(pk=unbooked.pk).update(treatment_date=None)
    decided = make_submission(version, patient_name="Done Example", treatment_date=TODAY)
    lead = staff("lead <b>", "Medical lead")
    Submission.objects.filter(pk=decided.pk).update(
        review_status="cleared", reviewer=lead, outcome="manageable"
    )
    old = make_submission(version, patient_name="Old Example")
    Submission.objects.filter(pk=old.pk).update(outcome="a_tier_since_retired")
    served = []
    rows = QueueRows.__call__
    monkeypatch.setattr(QueueRows, "__call__", lambda self, r: served.append(1) or rows(self, r))
    url = "/admin/intake/submission/" + query

    for user in (staff("boss", superuser=True), staff("p", "Practitioner")):
        logged_in(client, user)
        ours = client.get(url).content.decode()
        with monkeypatch.context() as admin_own:
            admin_own.setattr(QueueRows, "serves", staticmethod(lambda cl: False))
            theirs = client.get(url).content.decode()

        assert without_tokens(ours) == without_tokens(theirs)
        assert "Example" in ours
    assert len(served) == 2


def test_the_queue_writes_its_dates_in_the_time_zone_of_the_day(client, version, settings):
    submission = make_submission(version, patient_name="Ann Example")
    late = datetime.datetime(2026, 6, 1, 23, 30, tzinfo=datetime.UTC)
    Submission.objects.filter(pk=submission.pk).update(submitted_at=late)
    logged_in(client, staff("p", "Practitioner"))

    # British Summer Time, then UTC: a date written once is not reused for another zone.
    assert "2 Jun 2026, 12:30 a.m." in client.get("/admin/intake/submission/").content.decode()
    settings.TIME_ZONE = "UTC"
    assert "1 Jun 2026, 11:30 p.m." in client.get("/admin/intake/submission/").content.decode()


def test_a_popup_queue_is_left_to_the_admin(client, version):
    make_submission(version, patient_name="Ann Example")
    logged_in(client, staff("p", "Practitioner"))

    text = client.get("/admin/intake/submission/?_popup=1").content.decode()

    assert "data-popup-opener" in text and ">Ann Example<" in text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans")
@pytest.mark.parametrize(
    ("url", "index"),
    [
        ("/admin/intake/submission/", "waiting_order_idx"),
        ("/admin/intake/submission/?view=all", "queue_order_idx"),
        # New ones only: either of the queue's indexes gives that order.
        (UNREVIEWED_THIS_WEEK, "_order_idx"),
    ],
)
def test_the_queue_reads_its_index_in_order_without_sorting(client, version, url, index):
    add_submissions(version, 200, review_status="new")
    add_submissions(version, 0)
    logged_in(client, staff("p", "Practitioner"))
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    listing = next(q["sql"] for q in queries if "LIMIT 50" in q["sql"] and "COUNT" not in q["sql"])

    with connection.cursor() as cursor:
        # As the planner would at a million rows, where reading the table, or every matching
        # row to sort them, is no option: the plan shows whether an index gives the order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + listing)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert index in plan
    assert "Sort" not in plan


# The submission page


def test_the_submission_page_shows_flags_with_evidence_then_answers(client, version):
    submission = make_submission(version, COLD_SORE | {"other_medicines": NOTE})
    logged_in(client, staff("p", "Practitioner"))

    text = client.get(page(submission)).content.decode()

    assert text.index("cold_sore_history") < text.index("Answers (")
    assert "Have you ever had a cold sore" in text
    assert submission.current_flags().get().rule_id in text
    assert str(submission.version) in text
    assert 'class="flagged"' in text
    assert NOTE in text
    assert 'Signed "<bdi>Ann Example</bdi>"' in text


def test_answers_and_evidence_are_escaped_with_their_line_breaks_and_marks(client, version):
    from django.utils.html import escape

    from intake.models import Flag

    submission = make_submission(version, COLD_SORE | {"other_medicines": "fish <oil>\nand zinc"})
    flag = submission.current_flags().get(code="cold_sore_history")
    # An answer the patient was unsure of, to a question no longer in the set.
    gone = {"question_key": "gone", "question_text": "An <old> question", "answer": None}
    Flag.objects.filter(pk=flag.pk).update(evidence=[*flag.evidence, gone | {"uncertain": True}])
    questions = published.questionnaire(version).definition.questions
    logged_in(client, staff("p", "Practitioner"))

    for url in (page(submission), f"/admin/intake/submission/{submission.pk}/print/"):
        text = client.get(url).content.decode()

        medicines = escape(questions["other_medicines"].text)
        assert f"<tr><td>{medicines}</td><td>fish &lt;oil&gt;<br>and zinc</td></tr>" in text
        cold_sore = escape(questions["cold_sore_ever"].text)
        assert (
            f'<tr class="flagged"><td>{cold_sore}</td><td>Yes '
            '<strong class="flag-mark">(flagged)</strong></td></tr>'
        ) in text
        assert "<tr><td>An &lt;old&gt; question</td><td>Not answered <em>(uncertain)</em>" in text


def test_questions_hidden_for_this_patient_are_not_shown(client, version):
    submission = make_submission(version, {"cold_sore_now": "no", "cold_sore_ever": "no"})
    logged_in(client, staff("p", "Practitioner"))

    text = client.get(page(submission)).content.decode()

    assert "How many cold sores" not in text and "When did your last one start" not in text


def test_viewing_and_printing_are_audited(client, version):
    submission = make_submission(version)
    user = staff("p", "Practitioner")
    logged_in(client, user)

    client.get(page(submission))
    client.get(f"/admin/intake/submission/{submission.pk}/print/")

    actions = list(AuditEntry.objects.filter(user=user).values_list("action", flat=True))
    assert sorted(actions) == ["print", "view"]
    assert AuditEntry.objects.filter(reference=submission.reference).count() == 2


def test_patient_answers_are_escaped_on_the_admin_pages(client, version):
    attack = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    submission = make_submission(version, {"other_medicines": attack}, patient_name=attack)
    logged_in(client, staff("p", "Practitioner"))

    for url in (
        page(submission),
        f"/admin/intake/submission/{submission.pk}/print/",
        "/admin/intake/submission/",
    ):
        text = client.get(url).content.decode()
        assert "<script>alert(2)" not in text and "<img src=x" not in text


# Decisions


def test_a_review_status_change_is_recorded_with_who_when_and_why(client, version):
    submission = make_submission(version)
    user = staff("p", "Practitioner")
    logged_in(client, user)

    response = client.post(
        page(submission), {"status": "in_review", "reason": "Calling her", "revision": 0}
    )

    submission.refresh_from_db()
    assert response.status_code == 302
    assert submission.review_status == "in_review"
    assert submission.reviewer == user
    event = submission.review_events.get()
    assert (event.by, event.reason) == (user, "Calling her")
    assert "Calling her" in client.get(page(submission)).content.decode()
    assert AuditEntry.objects.filter(action="review", user=user).count() == 1


def test_a_submission_cannot_be_cleared_while_a_not_possible_flag_stands(version):
    submission = make_submission(version, PREGNANT)
    practitioner = staff("p", "Practitioner")

    with pytest.raises(DecisionRefused, match="pregnancy_breastfeeding"):
        change_review_status(submission, status="cleared", reason="ok", by=practitioner, revision=0)

    assert Submission.objects.get(pk=submission.pk).review_status == "new"


def test_only_the_medical_lead_can_override_and_then_the_submission_can_be_cleared(version):
    submission = make_submission(version, PREGNANT)
    flag = submission.current_flags().get()
    practitioner = staff("p", "Practitioner")
    lead = staff("lead", "Medical lead")

    with pytest.raises(DecisionRefused, match="medical lead"):
        decide_flag(flag, kind="overridden", note="fine", by=practitioner, revision=0)
    with pytest.raises(DecisionRefused, match="note"):
        decide_flag(flag, kind="overridden", note=" ", by=lead, revision=0)
    decide_flag(
        flag, kind="overridden", note="Finished breastfeeding last week", by=lead, revision=0
    )
    change_review_status(
        submission,
        status="cleared",
        reason="Override",
        by=practitioner,
        revision=1,
        signature=STAFF_PASSWORD,
    )

    assert Submission.objects.get(pk=submission.pk).review_status == ReviewStatus.CLEARED
    assert AuditEntry.objects.filter(action="override", user=lead).count() == 1


def test_a_review_can_be_reopened_but_never_goes_back_to_new(version):
    submission = make_submission(version)
    user = staff("p", "Practitioner")
    change_review_status(submission, status="not_suitable", reason="no", by=user, revision=0)

    with pytest.raises(DecisionRefused, match="back to new"):
        change_review_status(submission, status="new", reason="undo", by=user, revision=1)
    change_review_status(submission, status="in_review", reason="reopen", by=user, revision=1)

    assert Submission.objects.get(pk=submission.pk).review_status == "in_review"


def test_a_deferral_needs_an_earliest_rebook_date(version):
    submission = make_submission(version)
    user = staff("p", "Practitioner")

    with pytest.raises(DecisionRefused, match="rebook"):
        change_review_status(submission, status="deferred", reason="wait", by=user, revision=0)
    change_review_status(
        submission,
        status="deferred",
        reason="wait",
        by=user,
        revision=0,
        rebook_after=TODAY + datetime.timedelta(days=30),
    )

    assert Submission.objects.get(pk=submission.pk).rebook_after == TODAY + datetime.timedelta(
        days=30
    )


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (None, "antiviral plan"),
        ({"offered": True, "accepted": None}, "accepted"),
        (ACCEPTED_PLAN | {"prescriber": ""}, "prescriber"),
        ({"offered": True, "accepted": False, "risk_discussion": ""}, "risk"),
        (ACCEPTED_PLAN | {"end_day": -2}, "cannot end before"),
        (ACCEPTED_PLAN | {"strength": "", "route": ""}, "needs the strength, route"),
        (ACCEPTED_PLAN | {"drug": "other"}, "name of the other drug"),
        (ACCEPTED_PLAN | {"kidney_checked": False}, "Confirm that kidney function was checked"),
        (ACCEPTED_PLAN | {"allergy_checked": False}, "antiviral allergies were checked"),
        (ACCEPTED_PLAN | {"interactions_checked": False}, "interaction check was done"),
        (ACCEPTED_PLAN | {"start_day": "-1"}, "whole number of days"),
        (ACCEPTED_PLAN | {"issued_on": "2000-01-01"}, "cannot be issued before"),
    ],
)
def test_a_cold_sore_flag_needs_a_complete_antiviral_plan(version, plan, message):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")

    with pytest.raises(DecisionRefused, match=message):
        decide_flag(
            flag,
            kind="acknowledged",
            note="n",
            by=staff("p", "Practitioner"),
            revision=0,
            antiviral_plan=plan,
        )


def test_a_cold_sore_flag_is_acknowledged_with_the_plan_recorded(client, version):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))
    form = {
        "flag": flag.pk,
        "revision": 0,
        "kind": "acknowledged",
        "note": "Discussed",
        "offered": "yes",
        "accepted": "no",
        "risk_discussion": "Understands the risk; proceeds",
    }

    client.post(page(submission), form)

    decision = flag.decisions.get()
    assert decision.antiviral_plan["accepted"] is False
    assert "Understands the risk" in client.get(page(submission)).content.decode()


def test_the_plan_form_gives_the_courses_dates_for_the_days_typed(client, version):
    treatment = TODAY + datetime.timedelta(days=10)
    submission = make_submission(version, COLD_SORE, treatment_date=treatment)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))
    # Refused (no prescriber): the form comes back with the days typed and their dates.
    typed = ACCEPTED_PLAN_FORM | {"start_day": "-2", "end_day": "4", "prescriber": ""}

    refused = client.post(
        page(submission),
        {"flag": flag.pk, "revision": 0, "kind": "acknowledged", "note": "Discussed"} | typed,
    )

    first, last = treatment - datetime.timedelta(days=2), treatment + datetime.timedelta(days=4)
    assert refused.status_code == 400
    assert (
        f"Course: from {first.day} {first:%b %Y} (day −2) for 7 days, "
        f"to {last.day} {last:%b %Y} (day +4)."
    ) in html.unescape(refused.content.decode())
    assert not flag.decisions.exists()


@pytest.mark.parametrize("end_day", ["9999999999999999999999", "61", "-3", "five"])
def test_days_the_form_refuses_give_no_course_and_no_error(client, version, end_day):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))

    refused = client.post(
        page(submission),
        {"flag": flag.pk, "revision": 0, "kind": "acknowledged", "note": "Discussed"}
        | ACCEPTED_PLAN_FORM
        | {"end_day": end_day},
    )

    assert refused.status_code == 400
    assert "Course:" not in refused.content.decode()
    assert not flag.decisions.exists()


def test_a_second_practitioner_with_a_stale_page_is_refused(client, version):
    submission = make_submission(version)
    first, second = staff("a", "Practitioner"), staff("b", "Practitioner")
    change_review_status(submission, status="in_review", reason="mine", by=first, revision=0)

    with pytest.raises(ConcurrentChange):
        change_review_status(
            submission, status="not_suitable", reason="theirs", by=second, revision=0
        )
    logged_in(client, second)
    response = client.post(
        page(submission), {"status": "cleared", "reason": "x", "revision": 0}, follow=True
    )

    assert "Someone else has changed this submission" in response.content.decode()
    fresh = Submission.objects.get(pk=submission.pk)
    assert (fresh.review_status, fresh.reviewer) == ("in_review", first)


def test_a_flag_of_another_submission_cannot_be_decided_here(client, version):
    mine = make_submission(version, PREGNANT)
    other = make_submission(version, COLD_SORE)
    other_flag = other.current_flags().first()
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(mine),
        {"flag": other_flag.pk, "revision": 0, "kind": "acknowledged", "note": "x"},
        follow=True,
    )

    assert "not one of this submission" in response.content.decode()
    assert not other_flag.decisions.exists()


# Export and audit


def test_export_is_csv_safe_against_formulas_and_audited(client, version):
    submission = make_submission(version, PREGNANT)
    Submission.objects.filter(pk=submission.pk).update(flag_codes="=HYPERLINK(1)")
    admin_user = staff("boss", "Clinic admin")
    logged_in(client, admin_user)

    response = client.post(
        "/admin/intake/submission/",
        {"action": "export_csv", "_selected_action": [str(submission.pk)]},
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "reference",
        "submitted",
        "treatment_date",
        "outcome",
        "flag_codes",
        "review_status",
        "reviewer",
        "decided_at",
    ]
    assert rows[1][4] == "'=HYPERLINK(1)"
    assert rows[1][3] == "not_possible"
    assert AuditEntry.objects.filter(action="export", user=admin_user).count() == 1


def test_practitioners_cannot_export(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        "/admin/intake/submission/",
        {"action": "export_csv", "_selected_action": [str(submission.pk)]},
    )

    assert response["Content-Type"].startswith("text/html")


def test_the_audit_log_is_append_only(version):
    entry = AuditEntry.record(staff("p", "Practitioner"), "view", make_submission(version))

    with pytest.raises(AuditLogIsAppendOnly):
        entry.save()
    with pytest.raises(AuditLogIsAppendOnly):
        entry.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.all().delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEntry.objects.update(action="export")


# Treatment date changes


def isotretinoin_five_months_ago(version, *, treatment_in_days: int) -> Submission:
    """A patient whose last isotretinoin dose was 150 days ago: not possible within 6 months."""
    last_dose = (TODAY - datetime.timedelta(days=150)).isoformat()
    answers = {
        "isotretinoin_last_12_months": "yes",
        "isotretinoin_taking_now": "no",
        "isotretinoin_last_dose": last_dose,
    }
    return make_submission(
        version, answers, treatment_date=TODAY + datetime.timedelta(days=treatment_in_days)
    )


def test_changing_the_treatment_date_checks_the_rules_again_and_keeps_the_history(client, version):
    submission = isotretinoin_five_months_ago(version, treatment_in_days=7)
    assert submission.current_flags().get().tier == "not_possible"
    user = staff("p", "Practitioner")
    logged_in(client, user)
    later = TODAY + datetime.timedelta(days=60)

    response = client.post(
        page(submission),
        {"treatment_date": later.isoformat(), "date_reason": "Rebooked", "revision": 0},
    )

    submission.refresh_from_db()
    assert response.status_code == 302
    assert submission.treatment_date == later
    assert submission.current_flags().get().tier == "need_to_know"
    assert submission.outcome == "need_to_know"
    assert submission.assessments.count() == 2
    text = client.get(page(submission)).content.decode()
    assert "oral_isotretinoin: Not possible → Need to know" in text
    assert AuditEntry.objects.filter(action="date_change", user=user).count() == 1


def test_a_date_change_needs_a_reason(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission), {"treatment_date": "", "date_reason": "", "revision": 0}, follow=True
    )

    assert "Reason: This field is required." in response.content.decode()
    assert Submission.objects.get(pk=submission.pk).assessments.count() == 1


# The submission page's cost


def test_the_submission_page_costs_the_same_queries_however_many_flags(client, version):
    few = make_submission(version, PREGNANT)
    many = make_submission(
        version,
        COLD_SORE
        | PREGNANT
        | {"topical_retinoids_acids": "yes", "otc_nsaids_supplements": "yes", "tattoo_pmu": "yes"},
    )
    assert many.current_flags().count() >= 4
    logged_in(client, staff("p", "Practitioner"))
    client.get(page(few))  # warm the compiled-definition cache
    client.get(page(many))  # and audit both views (a reload within the window adds no entry)

    def cost(submission: Submission) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page(submission)).status_code == 200
        return len(queries)

    assert cost(few) == cost(many)


def test_the_submission_page_loads_nothing_lazily(client, version, monkeypatch):
    from django.db.models import FETCH_RAISE

    from intake.admin.submissions import SubmissionAdmin
    from intake.review.decisions import change_treatment_date

    submission = make_submission(version, COLD_SORE | PREGNANT)
    user = staff("lead", "Medical lead")
    flag = submission.current_flags().get(code="pregnancy_breastfeeding")
    decide_flag(flag, kind="acknowledged", note="Discussed", by=user, revision=0)
    change_review_status(submission, status="in_review", reason="Looking", by=user, revision=1)
    change_treatment_date(
        submission,
        treatment_date=TODAY + datetime.timedelta(days=40),
        reason="Moved",
        by=user,
        revision=2,
    )
    published.questionnaire(version)  # kept per process, as on a running server
    # Any access to a row or field the page did not fetch up front now fails the request.
    monkeypatch.setattr(SubmissionAdmin, "submission_fetch_mode", FETCH_RAISE)
    logged_in(client, user)

    text = client.get(page(submission)).content.decode()

    assert "pregnancy_breastfeeding" in text and "Discussed" in text
    assert "Moved" in text and "Looking" in text


# Notifications


def test_practitioners_are_told_of_a_flagged_submission_after_commit_without_health_details(
    client, version, settings, django_capture_on_commit_callbacks, mailoutbox
):
    staff("p", "Practitioner").__class__.objects.filter(username="p").update(email="p@clinic.test")
    settings.SITE_URL = "https://intake.clinic.test"
    start(client)
    check = complete_until_check(client, version, pregnant_or_breastfeeding="yes")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submit(client, check)
        assert mailoutbox == []  # nothing before the transaction commits
    assert len(callbacks) == 1
    callbacks[0]()

    submission = Submission.objects.get()
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["p@clinic.test"]
    assert (
        f"https://intake.clinic.test/admin/intake/submission/{submission.pk}/change/"
        in message.body
    )
    for private in ("Ann", "pregnan", "breastfeeding", "not_possible"):
        assert private not in message.body and private not in message.subject


def test_no_one_is_told_of_a_submission_without_flags_that_need_review(
    client, version, django_capture_on_commit_callbacks
):
    start(client)
    check = complete_until_check(client, version)

    with django_capture_on_commit_callbacks() as callbacks:
        submit(client, check)

    assert callbacks == []


def test_a_patients_session_does_not_reach_the_admin(client, version):
    start(client)

    assert client.get("/admin/intake/submission/")["Location"].startswith("/admin/login/")


# The worker closes database connections between tasks, as a long-running process must.
@pytest.mark.django_db(transaction=True)
def test_with_the_database_backend_the_worker_sends_the_notification(version, settings, mailoutbox):
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from intake.tasks import notify_practitioners

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # Transactional tests run after others have flushed the tables, roles included.
    practitioners, _ = Group.objects.get_or_create(name="Practitioner")
    User.objects.create_user("p", email="p@clinic.test", is_staff=True).groups.add(practitioners)
    submission = make_submission(version, PREGNANT)

    notify_practitioners.enqueue(str(submission.pk))
    assert DBTaskResult.objects.count() == 1
    assert mailoutbox == []
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    assert len(mailoutbox) == 1
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


@pytest.mark.parametrize(
    ("role", "may_decide"),
    [(None, False), ("Practitioner", True), ("Clinic admin", True), ("Medical lead", True)],
)
def test_who_can_record_a_review_decision(client, version, role, may_decide):
    submission = make_submission(version)
    if role:
        logged_in(client, staff("someone", role))

    response = client.post(page(submission), {"status": "in_review", "reason": "x", "revision": 0})

    assert Submission.objects.get(pk=submission.pk).review_status == (
        "in_review" if may_decide else "new"
    )
    assert response.status_code == 302


def test_staff_without_a_role_see_no_submissions(client, version):
    submission = make_submission(version)
    logged_in(client, staff("nobody"))

    assert client.get("/admin/intake/submission/").status_code == 403
    assert client.get(page(submission)).status_code == 403
    assert not AuditEntry.objects.filter(version=None).exists()  # publishing is logged


def test_a_date_change_that_changes_the_flags_reopens_a_decided_review(version):
    submission = isotretinoin_five_months_ago(version, treatment_in_days=60)
    user = staff("p", "Practitioner")
    flag = submission.current_flags().get()
    decide_flag(flag, kind="acknowledged", note="Discussed", by=user, revision=0)
    change_review_status(
        submission, status="cleared", reason="fine", by=user, revision=1, signature=STAFF_PASSWORD
    )

    from intake.review.decisions import change_treatment_date

    change_treatment_date(
        submission,
        treatment_date=TODAY + datetime.timedelta(days=7),
        reason="Moved earlier",
        by=user,
        revision=2,
    )

    fresh = Submission.objects.get(pk=submission.pk)
    assert fresh.review_status == "in_review"
    assert fresh.review_events.first().reason.startswith("Reopened")


def test_a_submission_with_a_cold_sore_history_needs_the_plan_before_clearing(version):
    submission = make_submission(version, COLD_SORE)
    user = staff("p", "Practitioner")

    with pytest.raises(DecisionRefused, match="antiviral plan"):
        change_review_status(submission, status="cleared", reason="ok", by=user, revision=0)
    flag = submission.current_flags().get(code="cold_sore_history")
    record_plan(flag, user, note="ok")
    change_review_status(
        submission, status="cleared", reason="ok", by=user, revision=1, signature=STAFF_PASSWORD
    )

    assert Submission.objects.get(pk=submission.pk).review_status == "cleared"


def test_decision_audit_entries_hold_no_health_data(version):
    submission = make_submission(version, PREGNANT)
    lead = staff("lead", "Medical lead")
    flag = submission.current_flags().get()

    decide_flag(flag, kind="overridden", note="ok", by=lead, revision=0)

    entry = AuditEntry.objects.get(action="override")
    assert entry.detail == {"flag_id": flag.pk}
    assert "pregnan" not in json.dumps(entry.detail)


def test_an_invalid_decision_form_says_what_is_wrong(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission), {"status": "in_review", "reason": "", "revision": "x"}, follow=True
    )

    assert "Reason: This field is required." in response.content.decode()
    assert Submission.objects.get(pk=submission.pk).review_status == "new"


def test_the_version_filter_costs_one_query_however_many_versions(client, version):
    logged_in(client, staff("p", "Practitioner"))
    make_submission(version)
    before = queue_queries(client)
    for _ in range(3):
        publish_approved(version.new_draft())

    assert queue_queries(client) == before


def test_every_permission_a_role_lists_exists():
    import importlib

    roles = importlib.import_module("intake.migrations.0004_roles").ROLES
    data_requests = importlib.import_module(
        "intake.migrations.0007_data_requests_and_retention"
    ).DATA_REQUEST_PERMISSIONS
    expected = {name: set(codenames) for name, codenames in roles.items()}
    expected["Clinic admin"] |= set(data_requests)
    expected["Medical lead"].add("approve_questionsetversion")  # 0012_two_person_publishing
    for name, codenames in expected.items():
        granted = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert granted == codenames, name


@pytest.mark.parametrize(
    "data",
    [
        {"treatment_date": "9999-12-31", "date_reason": "typo"},
        {"status": "deferred", "reason": "wait", "rebook_after": "2001-01-01"},
    ],
)
def test_implausible_dates_are_refused(client, version, data):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(page(submission), data | {"revision": 0}, follow=True)

    text = response.content.decode()
    assert "within a year before" in text or "cannot be in the past" in text
    fresh = Submission.objects.get(pk=submission.pk)
    assert (fresh.treatment_date, fresh.review_status) == (submission.treatment_date, "new")


def test_decisions_on_flags_superseded_by_a_date_change_stay_on_the_page(client, version):
    from intake.review.decisions import change_treatment_date

    submission = make_submission(version, COLD_SORE)
    user = staff("p", "Practitioner")
    flag = submission.current_flags().get(code="cold_sore_history")
    record_plan(flag, user)
    change_treatment_date(
        submission,
        treatment_date=TODAY + datetime.timedelta(days=20),
        reason="Moved",
        by=user,
        revision=1,
    )
    logged_in(client, user)

    text = client.get(page(submission)).content.decode()

    assert "Plan agreed" in text and "valaciclovir" in text


def test_a_past_event_dated_after_the_questionnaire_is_flagged_with_its_date_to_check(
    client, version
):
    # An answer that reached the database another way than the form, which refuses it.
    later = (TODAY + datetime.timedelta(days=3)).isoformat()
    submission = make_submission(version, {"surgery_in_area": "yes", "surgery_date": later})
    flag = submission.current_flags().get(code="surgery_in_area")
    logged_in(client, staff("p", "Practitioner"))

    text = client.get(page(submission)).content.decode()

    assert flag.tier == "not_possible"
    assert "read as still ongoing: please check this date" in text


def test_a_name_stored_with_a_direction_override_is_shown_isolated(client, version):
    # Stored before names refused such characters: shown in its own direction, not reversing
    # what follows it.
    submission = make_submission(version, patient_name="abc\u202egnp.exe")
    logged_in(client, staff("p", "Practitioner"))

    queue = client.get("/admin/intake/submission/").content.decode()
    shown = client.get(page(submission)).content.decode()

    assert "<bdi>abc\u202egnp.exe</bdi>" in queue
    assert "<bdi>abc\u202egnp.exe</bdi>" in shown
    assert "<title>\u2068abc\u202egnp.exe\u2069 – " in shown


def test_an_invitation_for_a_name_with_a_direction_override_is_refused(client, version):
    logged_in(client, staff("cara", "Clinic admin"))

    response = client.post(
        "/admin/intake/invitation/add/",
        {
            "question_set": version.question_set.pk,
            "patient_name": "abc\u202egnp.exe",
            "email": "ann@example.com",
            "treatment_date": "",
        },
    )

    assert response.status_code == 200  # the form again, with its error
    assert "Please remove the unusual characters" in response.content.decode()
    assert not Invitation.objects.exists()


# Rescheduling keeps what was decided


def test_decisions_on_flags_a_date_change_leaves_as_they_were_carry_over(client, version):
    from intake.review.decisions import change_treatment_date

    submission = make_submission(version, COLD_SORE | PREGNANT)
    practitioner, lead = staff("p", "Practitioner"), staff("lead", "Medical lead")
    flags = {flag.code: flag for flag in submission.current_flags()}
    decide_flag(
        flags["pregnancy_breastfeeding"],
        kind="overridden",
        note="Stopped breastfeeding last month",
        by=lead,
        revision=0,
    )
    record_plan(flags["cold_sore_history"], practitioner)

    change_treatment_date(
        submission,
        treatment_date=TODAY + datetime.timedelta(days=20),
        reason="Patient asked to move it",
        by=practitioner,
        revision=2,
    )

    fresh = Submission.objects.get(pk=submission.pk)
    assert fresh.review_status == "new"  # the flags did not change: nothing to decide again
    now = {flag.code: flag for flag in fresh.current_flags()}
    override = now["pregnancy_breastfeeding"].decisions.get()
    plan = now["cold_sore_history"].decisions.get()
    assert (override.kind, override.note, override.by) == (
        "overridden",
        "Stopped breastfeeding last month",
        lead,
    )
    assert override.carried_from == flags["pregnancy_breastfeeding"].decisions.get()
    assert (plan.kind, plan.by) == ("acknowledged", practitioner)
    assert plan.antiviral_plan == flags["cold_sore_history"].decisions.get().antiviral_plan
    carried = fresh.changes.filter(kind="carried_over")
    assert sorted(carried.values_list("subject", flat=True)) == [
        "cold_sore_history",
        "pregnancy_breastfeeding",
    ]
    assert {change.by for change in carried} == {practitioner}
    assert all("Carried over" in change.reason for change in carried)
    # Cleared without deciding anything afresh.
    change_review_status(
        fresh, status="cleared", reason="still ok", by=lead, revision=3, signature=STAFF_PASSWORD
    )

    logged_in(client, practitioner)
    text = client.get(page(submission)).content.decode()
    assert text.count("carried over from the earlier assessment") == 2
    assert "2 decisions carried over" in text
    assert "Decisions on the flags before this change" not in text


def test_a_decision_on_a_flag_the_date_change_altered_is_not_carried_over(client, version):
    from intake.review.decisions import change_treatment_date

    submission = isotretinoin_five_months_ago(version, treatment_in_days=7)
    user = staff("lead", "Medical lead")
    flag = submission.current_flags().get()
    decide_flag(flag, kind="overridden", note="Dermatologist agrees", by=user, revision=0)
    change_review_status(
        submission, status="cleared", reason="fine", by=user, revision=1, signature=STAFF_PASSWORD
    )

    change_treatment_date(
        submission,
        treatment_date=TODAY + datetime.timedelta(days=60),
        reason="Moved later",
        by=user,
        revision=2,
    )

    fresh = Submission.objects.get(pk=submission.pk)
    assert fresh.current_flags().get().tier == "need_to_know"
    assert not fresh.current_flags().get().decisions.exists()
    assert fresh.review_status == "in_review"
    assert not fresh.changes.filter(kind="carried_over").exists()
    logged_in(client, user)
    text = client.get(page(submission)).content.decode()
    assert "Decisions on the flags before this change" in text
    assert "Dermatologist agrees" in text


def test_the_plan_moves_with_the_treatment_date_and_says_when_it_no_longer_fits(client, version):
    from intake.review.decisions import change_treatment_date

    submission = make_submission(
        version, COLD_SORE, treatment_date=TODAY + datetime.timedelta(days=10)
    )
    user = staff("p", "Practitioner")
    record_plan(
        submission.current_flags().get(code="cold_sore_history"),
        user,
        start_day=-2,
        end_day=4,
    )
    logged_in(client, user)

    def shown(day: datetime.date) -> str:
        return f"{day.day} {day:%b %Y}"

    text = client.get(page(submission)).content.decode()
    first = TODAY + datetime.timedelta(days=8)
    assert f"from {shown(first)} (day −2) for 7 days" in text
    assert "Check the plan" not in text

    # Moved to tomorrow: the course would have started yesterday.
    tomorrow = TODAY + datetime.timedelta(days=1)
    change_treatment_date(
        submission, treatment_date=tomorrow, reason="Earlier", by=user, revision=1
    )
    text = client.get(page(submission)).content.decode()
    yesterday = TODAY - datetime.timedelta(days=1)
    assert f"from {shown(yesterday)} (day −2) for 7 days" in text
    assert f"Made for treatment on {shown(TODAY + datetime.timedelta(days=10))}" in text
    assert f"would have started on {shown(yesterday)}, which has passed" in text

    # Moved before the consultation at which it was prescribed (the day before today).
    change_treatment_date(submission, treatment_date=TODAY, reason="Today", by=user, revision=2)
    text = client.get(page(submission)).content.decode()
    assert "before the face-to-face consultation of" in text and "prescribing again" in text


def test_the_print_view_shows_the_current_plan_and_the_date_changes(client, version):
    from intake.review.decisions import change_treatment_date

    submission = make_submission(version, COLD_SORE, treatment_date=datetime.date(2026, 12, 18))
    user = staff("p", "Practitioner")
    record_plan(submission.current_flags().get(code="cold_sore_history"), user, end_day=3)
    change_treatment_date(
        submission,
        treatment_date=datetime.date(2027, 1, 8),
        reason="Patient on holiday",
        by=user,
        revision=1,
    )
    logged_in(client, user)

    text = client.get(f"/admin/intake/submission/{submission.pk}/print/").content.decode()

    assert "from 7 Jan 2027 (day −1) for 5 days, to 11 Jan 2027 (day +3)" in text
    assert "Valaciclovir 500 mg" in text
    assert "Treatment date changes" in text
    assert "18 Dec 2026 → 8 Jan 2027 – Patient on holiday" in text
