"""What patients (and staff) type is shown as text, never run as markup, wherever it is shown.

A patient's name and free-text answers travel from the public questionnaire into the practitioners'
admin, so each page that shows them is checked with two classic payloads: the text appears
escaped, and never as a tag. The CSV export carries no patient text at all, and no cell of it can
start a spreadsheet formula.
"""

import csv
import io

import pytest
from django.utils.html import escape
from factories import (
    ACCEPTED_PLAN,
    COLD_SORE,
    DETAILS,
    logged_in,
    make_invitation,
    make_submission,
    page,
    section_post,
    staff,
    start,
    step_url,
)

from intake import published
from intake.models import AuditEntry, Invitation, QuestionSetVersion, Submission
from intake.records.exports import spreadsheet_safe as csv_safe
from intake.review.decisions import change_review_status, decide_flag

pytestmark = pytest.mark.django_db


ATTACKS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


@pytest.fixture(params=ATTACKS, ids=["script", "img-onerror"])
def attack(request: pytest.FixtureRequest) -> str:
    return request.param


def assert_shown_as_text(html: str, attack: str) -> None:
    assert attack not in html
    assert escape(attack) in html


def assert_never_markup(html: str, attack: str) -> None:
    assert attack not in html
    assert "<script>alert(1)" not in html and "<img src=x" not in html


def reviewed_submission(version: QuestionSetVersion, attack: str) -> Submission:
    """A submission whose patient-supplied text, and the staff's notes on it, are all `attack`."""
    submission = make_submission(
        version,
        COLD_SORE | {"other_medicines": attack, "gp_name": attack, "cold_sore_where": attack},
        patient_name=attack,
    )
    Submission.objects.filter(pk=submission.pk).update(consent_name=attack)
    lead = staff("lead", "Medical lead")
    flag = submission.current_flags().get(code="cold_sore_history")
    decide_flag(
        flag,
        kind="acknowledged",
        note=attack,
        by=lead,
        revision=0,
        antiviral_plan=ACCEPTED_PLAN | {"drug": attack, "dose": attack, "prescriber": attack},
    )
    change_review_status(
        Submission.objects.get(pk=submission.pk),
        status="in_review",
        reason=attack,
        by=lead,
        revision=1,
    )
    return Submission.objects.get(pk=submission.pk)


def test_the_queue_shows_the_patients_name_as_text(client, version, attack):
    reviewed_submission(version, attack)
    logged_in(client, staff("p", "Practitioner"))

    assert_shown_as_text(client.get("/admin/intake/submission/").content.decode(), attack)


@pytest.mark.parametrize("view", ["change", "print"])
def test_the_submission_page_and_print_view_show_every_answer_and_note_as_text(
    client, version, attack, view
):
    submission = reviewed_submission(version, attack)
    logged_in(client, staff("p", "Practitioner"))

    html = client.get(f"/admin/intake/submission/{submission.pk}/{view}/").content.decode()

    assert_shown_as_text(html, attack)
    # Name, consent, three answers, the decision note, the plan's drug, dose and prescriber, and
    # the review reason: each one escaped.
    assert html.count(escape(attack)) >= 8


def test_the_audit_pages_hold_no_patient_text(client, version, attack):
    submission = reviewed_submission(version, attack)
    boss = staff("boss", "Clinic admin")
    logged_in(client, boss)
    client.get(page(submission))
    entry = AuditEntry.objects.filter(submission=submission).first()

    for url in ("/admin/intake/auditentry/", f"/admin/intake/auditentry/{entry.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200
        assert escape(attack) not in response.content.decode()
        assert_never_markup(response.content.decode(), attack)


def test_the_invitation_admin_shows_the_patients_name_as_text(client, version, attack):
    logged_in(client, staff("p", "Practitioner"))

    added = client.post(
        "/admin/intake/invitation/add/",
        {
            "question_set": version.question_set.pk,
            "patient_name": attack,
            "email": "bea@example.com",
        },
        follow=True,
    )
    invitation = Invitation.objects.get()

    # The confirmation with the new link names the patient.
    assert_shown_as_text(added.content.decode(), attack)
    for url in (
        "/admin/intake/invitation/",
        f"/admin/intake/invitation/{invitation.pk}/change/",
    ):
        assert_shown_as_text(client.get(url).content.decode(), attack)


def test_the_invitation_page_greets_the_patient_by_name_as_text(client, version, attack):
    _, token = make_invitation(version, patient_name=attack)

    assert_shown_as_text(client.get(f"/invitation/{token}/").content.decode(), attack)


def test_the_export_carries_no_patient_text_and_no_formula(client, version):
    formula = '=HYPERLINK("http://evil.example","click")'
    for name in [*ATTACKS, formula, "+1", "-1", "@SUM(1)"]:
        make_submission(version, {"other_medicines": name, "gp_name": name}, patient_name=name)
    logged_in(client, staff("boss", "Clinic admin"))

    response = client.post(
        "/admin/intake/submission/",
        {
            "action": "export_csv",
            "_selected_action": [str(pk) for pk in Submission.objects.values_list("pk", flat=True)],
        },
    )

    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + 6
    for attack in [*ATTACKS, formula, "@SUM(1)"]:
        assert attack not in text
    for row in rows:
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell


@pytest.mark.parametrize(
    "cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]
)
def test_a_cell_that_a_spreadsheet_would_run_is_written_as_text(cell):
    assert csv_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["K7QM-3XPD", "cold_sore_history oral_isotretinoin", ""])
def test_ordinary_cells_are_written_as_they_are(cell):
    assert csv_safe(cell) == cell


def test_the_patients_check_page_shows_their_name_and_answers_as_text(client, version, attack):
    start(client)
    assert client.post(step_url(1), DETAILS | {"full_name": attack}).status_code == 302
    steps = published.questionnaire(version).steps
    for step in steps[1:-1]:
        data = section_post(version, step.section_key, other_medicines=attack, gp_name=attack)
        assert client.post(step_url(step.number), data).status_code == 302

    html = client.get(step_url(steps[-1].number)).content.decode()

    assert_shown_as_text(html, attack)
    assert html.count(escape(attack)) >= 3


def test_the_confirmation_page_shows_no_patient_text(client, version, attack):
    start(client)
    assert client.post(step_url(1), DETAILS | {"full_name": attack}).status_code == 302
    steps = published.questionnaire(version).steps
    for step in steps[1:-1]:
        data = section_post(version, step.section_key, other_medicines=attack)
        client.post(step_url(step.number), data)
    consent = {"accurate": "on", "processing": "on", "signature": attack}
    assert client.post(step_url(steps[-1].number), consent).status_code == 302

    html = client.get("/questionnaire/sent/").content.decode()

    assert Submission.objects.get().patient_name == attack
    assert escape(attack) not in html
    assert_never_markup(html, attack)
