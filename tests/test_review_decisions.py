"""A refused review decision shows the page again, with what was typed and what is wrong."""

import datetime
import html

import pytest
from django.utils import timezone
from factories import COLD_SORE, logged_in, make_submission, page, staff

from intake.models import FlagDecision, Submission

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_refused_antiviral_plan_keeps_everything_the_practitioner_typed(client, version):
    submission = make_submission(version, COLD_SORE)
    flag = submission.current_flags().get(code="cold_sore_history")
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission),
        {
            "flag": flag.pk,
            "revision": 0,
            "kind": "acknowledged",
            "note": "Discussed the cold sore from May 2020 at length",
            "offered": "yes",
            "accepted": "yes",
            "drug": "valaciclovir",
            "dose": "500 mg twice daily",
            "start_date": "2026-12-10",
            "end_date": "2026-12-01",
            "prescriber": "Dr A Prescriber",
        },
    )

    assert response.status_code == 400
    page_text = text(response)
    assert (
        f'<a href="#note-{flag.pk}">The antiviral course cannot end before it starts.</a>'
        in page_text
    )
    assert "Discussed the cold sore from May 2020 at length</textarea>" in page_text
    for typed in ("valaciclovir", "500 mg twice daily", "2026-12-10", "Dr A Prescriber"):
        assert f'value="{typed}"' in page_text
    assert page_text.count(" checked>") == 2  # offered and accepted, both "yes"
    # The flag's decision form is open, and nothing was stored.
    assert '<details class="decide" open>' in page_text
    assert not FlagDecision.objects.exists()


def test_a_refused_date_change_keeps_the_date_and_reason_typed(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))
    far = timezone.localdate() + datetime.timedelta(days=3000)

    response = client.post(
        page(submission),
        {
            "treatment_date": far.isoformat(),
            "date_reason": "Patient asked to move it",
            "revision": 0,
        },
    )

    assert response.status_code == 400
    page_text = text(response)
    assert "Enter a date within a year before or two years after today." in page_text
    assert f'value="{far.isoformat()}"' in page_text
    assert "Patient asked to move it</textarea>" in page_text
    assert Submission.objects.get(pk=submission.pk).treatment_date == submission.treatment_date


def test_a_refused_status_change_keeps_the_reason_and_links_to_the_field(client, version):
    submission = make_submission(version, {"pregnant_or_breastfeeding": "yes"})
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission), {"status": "cleared", "reason": "Seen her today", "revision": 0}
    )

    assert response.status_code == 400
    page_text = text(response)
    assert "cannot be cleared while a not-possible flag stands" in page_text
    assert "Seen her today</textarea>" in page_text
    assert '<option value="cleared" selected>' in page_text
    assert Submission.objects.get(pk=submission.pk).review_status == "new"


def test_each_problem_in_the_summary_links_to_its_field(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(page(submission), {"status": "deferred", "reason": "", "revision": 0})

    assert response.status_code == 400
    assert '<a href="#id_reason">Reason: This field is required.</a>' in response.content.decode()


def test_a_saved_decision_still_goes_back_to_the_page(client, version):
    submission = make_submission(version)
    logged_in(client, staff("p", "Practitioner"))

    response = client.post(
        page(submission), {"status": "in_review", "reason": "Calling her", "revision": 0}
    )

    assert response.status_code == 302
    assert response["Location"] == page(submission)
