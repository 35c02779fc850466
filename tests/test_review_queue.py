"""The review queue's views, order, filters and search."""

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from factories import TODAY, logged_in, make_submission, staff

from intake.models import Submission

pytestmark = pytest.mark.django_db

QUEUE = "/admin/intake/submission/"


def day(offset: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=offset)


def add(version, name: str, **fields: Any) -> Submission:
    """A submission as the queue would list it, its outcome and status set directly."""
    submission = make_submission(
        version,
        patient_name=name,
        email=fields.pop("email", f"{name.lower().replace(' ', '.')}@example.com"),
        treatment_date=fields.pop("treatment_date", day(10)),
    )
    if fields:
        Submission.objects.filter(pk=submission.pk).update(**fields)
        submission.refresh_from_db()
    return submission


def listed(client, query: str = "") -> list[str]:
    """The patients' names on the queue's page, in order."""
    response = client.get(QUEUE + query)
    assert response.status_code == 200
    return re.findall(r'<th class="field-patient"><a [^>]*><bdi>([^<]+)</bdi>', response.text)


@pytest.fixture
def practitioner(client):
    logged_in(client, staff("p", "Practitioner"))
    return client


def test_the_queue_opens_on_what_needs_review_soonest_first_then_by_severity(practitioner, version):
    add(version, "Unbooked Severe", treatment_date=None, outcome="not_possible")
    add(version, "Next Week Severe", treatment_date=day(7), outcome="not_possible")
    add(version, "Today Plain", treatment_date=day(0), outcome="")
    add(version, "Today Severe", treatment_date=day(0), outcome="not_possible")
    add(version, "Today Need", treatment_date=day(0), outcome="need_to_know")
    add(version, "Today Manageable", treatment_date=day(0), outcome="manageable")
    add(version, "Tomorrow In Review", treatment_date=day(1), review_status="in_review")
    add(version, "Old Unreviewed", treatment_date=datetime.date(2024, 3, 1))
    add(version, "Yesterday", treatment_date=day(-1))
    for status in ("cleared", "cleared_with_conditions", "deferred", "not_suitable"):
        add(version, f"Decided {status}", treatment_date=day(2), review_status=status)

    assert listed(practitioner) == [
        "Today Severe",
        "Today Need",
        "Today Manageable",
        "Today Plain",
        "Tomorrow In Review",
        "Next Week Severe",
        "Unbooked Severe",
    ]


def test_on_the_same_day_and_severity_the_earlier_submission_comes_first(practitioner, version):
    later = add(version, "Sent Later", treatment_date=day(3))
    add(version, "Sent Earlier", treatment_date=day(3))
    Submission.objects.filter(pk=later.pk).update(
        submitted_at=timezone.now() + datetime.timedelta(hours=1)
    )

    assert listed(practitioner) == ["Sent Earlier", "Sent Later"]


def test_the_views_passed_decided_and_all(practitioner, version):
    add(version, "Waiting Soon", treatment_date=day(1))
    add(version, "Waiting Passed", treatment_date=day(-2), review_status="in_review")
    add(version, "Decided Passed", treatment_date=day(-2), review_status="cleared")
    add(version, "Decided Soon", treatment_date=day(1), review_status="deferred")

    assert listed(practitioner, "?view=passed") == ["Waiting Passed"]
    assert sorted(listed(practitioner, "?view=decided")) == ["Decided Passed", "Decided Soon"]
    assert sorted(listed(practitioner, "?view=all")) == [
        "Decided Passed",
        "Decided Soon",
        "Waiting Passed",
        "Waiting Soon",
    ]
    # Everything, new first, then in review, then decided, each by date.
    assert listed(practitioner, "?view=all") == [
        "Waiting Soon",
        "Waiting Passed",
        "Decided Passed",
        "Decided Soon",
    ]


def test_the_view_filter_offers_each_view_and_shows_the_default_as_chosen(practitioner, version):
    add(version, "Ann Example")

    text = practitioner.get(QUEUE).text

    assert re.search(r'<li class="selected">\s*<a href="\?view=needs_review"', text)
    for view in ("passed", "decided", "all"):
        assert f'href="?view={view}"' in text
    # Another filter's link keeps to "Needs review", and lists nothing it leaves out.
    assert 'href="?outcome=not_possible"' in text


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        # A review status or a treatment date chosen stands instead of the default view.
        ("?review_status__exact=cleared", ["Decided Today"]),
        ("?treatment=today", ["Waiting Today", "Decided Today"]),
        ("?treatment=passed", ["Waiting Passed"]),
        # A search finds a submission whatever its status.
        ("?q=decided", ["Decided Today"]),
        # An explicit view and a status: both apply.
        ("?view=needs_review&review_status__exact=cleared", []),
        # A filter of another kind narrows the default view.
        ("?outcome=not_possible", ["Waiting Today"]),
    ],
)
def test_a_choice_in_the_link_overrides_the_default_view(practitioner, version, query, shown):
    add(version, "Waiting Today", treatment_date=day(0), outcome="not_possible")
    add(version, "Decided Today", treatment_date=day(0), review_status="cleared")
    add(version, "Waiting Passed", treatment_date=day(-5), outcome="not_possible")

    assert listed(practitioner, query) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("not_possible", ["Severe"]),
        ("need_to_know", ["Need"]),
        ("manageable", ["Manageable"]),
        ("none", ["Plain"]),
    ],
)
def test_the_severity_filter(practitioner, version, value, shown):
    add(version, "Severe", outcome="not_possible")
    add(version, "Need", outcome="need_to_know")
    add(version, "Manageable", outcome="manageable")
    add(version, "Plain", outcome="")

    assert listed(practitioner, f"?outcome={value}") == shown
    assert "By severity" in practitioner.get(QUEUE).text


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("today", ["Today"]),
        ("tomorrow", ["Tomorrow"]),
        ("next_7_days", ["Today", "Tomorrow", "In 7 days"]),
        ("next_30_days", ["Today", "Tomorrow", "In 7 days", "In 8 days", "In 30 days"]),
        ("passed", ["Yesterday"]),
    ],
)
def test_the_treatment_date_filters(practitioner, version, value, shown):
    for name, offset in [
        ("Yesterday", -1),
        ("Today", 0),
        ("Tomorrow", 1),
        ("In 7 days", 7),
        ("In 8 days", 8),
        ("In 30 days", 30),
        ("In 31 days", 31),
    ]:
        add(version, name, treatment_date=day(offset))
    add(version, "Not booked", treatment_date=None)

    assert listed(practitioner, f"?treatment={value}") == shown


def test_the_treatment_date_filters_go_by_the_clinics_day(practitioner, version, settings):
    add(version, "Today", treatment_date=day(0))
    add(version, "Tomorrow", treatment_date=day(1))
    # Far enough east of the clinic that it is tomorrow there for much of the clinic's day.
    settings.TIME_ZONE = "Pacific/Kiritimati"
    kiritimati_today = timezone.localdate()

    expected = "Today" if kiritimati_today == TODAY else "Tomorrow"
    assert listed(practitioner, "?treatment=today") == [expected]


def test_the_reference_is_a_column(practitioner, version):
    submission = add(version, "Ann Example")

    text = practitioner.get(QUEUE).text

    assert f'<td class="field-reference">{submission.reference}</td>' in text
    assert "Reference</a>" in text


@pytest.mark.parametrize(
    "typed",
    ["{reference}", "{bare}", "{lower_bare}", "{lower}", " {bare_start} ", "{dash_start}"],
)
def test_search_finds_a_reference_with_or_without_its_dash_in_any_case(
    practitioner, version, typed
):
    wanted = add(version, "Wanted Patient", review_status="cleared")
    Submission.objects.filter(pk=wanted.pk).update(reference="J8TQ-746D")
    add(version, "Other Patient")
    query = typed.format(
        reference="J8TQ-746D",
        bare="J8TQ746D",
        lower_bare="j8tq746d",
        lower="j8tq-746d",
        bare_start="j8tq7",
        dash_start="J8TQ-7",
    )

    assert listed(practitioner, "?" + _q(query)) == ["Wanted Patient"]


def _q(text: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": text})


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("ann", ["Ann Example", "Annabel Other"]),
        ("ANN EX", ["Ann Example"]),
        ("ann.example@", ["Ann Example"]),
        ("annabel.other@example.com", ["Annabel Other"]),
        # Only beginnings: the middle of a name or an email finds nothing.
        ("example", []),
        ("other@example", []),
    ],
)
def test_search_finds_a_patient_by_the_start_of_their_name_or_email(
    practitioner, version, typed, shown
):
    add(version, "Ann Example", email="ann.example@example.com")
    add(version, "Annabel Other", email="annabel.other@example.com")
    add(version, "Bob Person", email="bob@example.com")

    assert sorted(listed(practitioner, "?" + _q(typed))) == shown


def test_search_loads_no_health_data(practitioner, version):
    add(version, "Ann Example")

    with CaptureQueriesContext(connection) as queries:
        names = listed(practitioner, "?q=ann")

    assert names == ["Ann Example"]
    selects = [q["sql"] for q in queries if "intake_submission" in q["sql"]]
    assert selects
    for sql in selects:
        assert '"answers"' not in sql
        assert '"date_of_birth"' not in sql


def test_the_queue_has_no_navigation_sidebar_beside_it(practitioner, version):
    add(version, "Ann Example")

    assert 'id="nav-sidebar"' not in practitioner.get(QUEUE).text
    # The other admin pages keep theirs.
    assert 'id="nav-sidebar"' in practitioner.get("/admin/intake/invitation/").text


def test_flag_codes_may_wrap_after_their_underscores(practitioner, version):
    submission = add(version, "Ann Example")
    Submission.objects.filter(pk=submission.pk).update(flag_codes="cold_sore_history <b>x</b>")

    text = practitioner.get(QUEUE).text

    assert "cold_<wbr>sore_<wbr>history, &lt;b&gt;x&lt;/b&gt;" in text


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL query plans")
@pytest.mark.parametrize(
    ("query", "indexes"),
    [
        ("?view=passed", ["waiting_order_idx"]),
        ("?view=decided", ["queue_order_idx"]),
        ("?q=j8tq746d", ["reference_key_prefix_idx", "patient_name_prefix_idx"]),
        ("?q=Ann+Ex", ["patient_name_prefix_idx", "email_prefix_idx"]),
    ],
)
def test_views_and_search_read_indexes_not_the_table(practitioner, version, query, indexes):
    for n in range(30):
        add(version, f"Patient {n}", treatment_date=day(n % 7 - 3))
        add(version, f"Done {n}", treatment_date=day(n % 7 - 3), review_status="cleared")
    wanted = add(version, "Ann Example", treatment_date=day(-1))
    Submission.objects.filter(pk=wanted.pk).update(reference="J8TQ-746D")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE intake_submission")
    with CaptureQueriesContext(connection) as queries:
        practitioner.get(QUEUE + query)
    # The page's rows (a single page has no LIMIT), not their count.
    listing = next(
        q["sql"] for q in queries if '"flag_codes"' in q["sql"] and "COUNT" not in q["sql"]
    )

    with connection.cursor() as cursor:
        # As the planner would at a million rows, where reading the table is no option.
        cursor.execute("SET LOCAL enable_seqscan = off")
        if "q=" not in query:  # a view's order comes from its index
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + listing)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    for index in indexes:
        assert index in plan
    assert "Seq Scan" not in plan
    if "q=" not in query:
        assert "Sort" not in plan
    else:  # a prefix, not a filter over every row of an index
        assert "Index Cond" in plan and "~>=~" in plan


def test_the_csv_export_gives_the_reviewer_and_the_decision_time_but_not_the_reason(
    client, version
):
    import csv
    import io

    from intake.review.decisions import change_review_status

    lead = staff("lead", "Medical lead")
    decided = add(version, "Decided Patient")
    change_review_status(
        decided, status="in_review", reason="Looking now", by=lead, revision=decided.revision
    )
    decided.refresh_from_db()
    change_review_status(
        decided, status="not_suitable", reason="SECRET REASON", by=lead, revision=decided.revision
    )
    decided_at = decided.review_events.order_by("-at").first().at
    reviewing = add(version, "Reviewing Patient")
    change_review_status(
        reviewing, status="in_review", reason="Looking", by=lead, revision=reviewing.revision
    )
    waiting = add(version, "Waiting Patient")
    logged_in(client, staff("boss", "Clinic admin"))

    response = client.post(
        QUEUE + "?view=all",
        {
            "action": "export_csv",
            "_selected_action": [str(s.pk) for s in (decided, reviewing, waiting)],
        },
    )

    text = response.content.decode()
    rows = {row["reference"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows[decided.reference]["reviewer"] == "lead"
    local = timezone.localtime(decided_at).isoformat(timespec="minutes")
    assert rows[decided.reference]["decided_at"] == local
    assert rows[decided.reference]["review_status"] == "not_suitable"
    # Under review: who reviews it, but no decision yet; waiting: neither.
    assert rows[reviewing.reference]["reviewer"] == "lead"
    assert rows[reviewing.reference]["decided_at"] == ""
    assert rows[waiting.reference]["reviewer"] == rows[waiting.reference]["decided_at"] == ""
    assert "SECRET REASON" not in text and "Looking" not in text
    assert "Patient" not in text  # no names, as before


def test_an_action_acts_on_the_rows_picked_whatever_the_view(client, version):
    import csv
    import io

    decided = add(version, "Decided Patient", review_status="cleared")
    waiting = add(version, "Waiting Patient")
    logged_in(client, staff("boss", "Clinic admin"))

    def exported(data: dict[str, Any]) -> list[str]:
        response = client.post(QUEUE, {"action": "export_csv", **data})
        return [row["reference"] for row in csv.DictReader(io.StringIO(response.text))]

    assert exported({"_selected_action": [str(decided.pk)]}) == [decided.reference]
    # "All matching" in the default view: only what the view lists.
    picked_all = {"_selected_action": [str(waiting.pk)], "select_across": "1"}
    assert exported(picked_all) == [waiting.reference]
