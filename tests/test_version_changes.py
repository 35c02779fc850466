"""Before publishing, the admin sees what changed against the published version, and who is
part-way through it."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import logged_in, staff

from intake.authoring.changes import FieldChange, compare_documents, publishing_impact
from intake.models import Draft, Invitation, import_document, new_token, token_digest

pytestmark = pytest.mark.django_db


def _revised(make_document):
    document = make_document()
    questions = document["sections"][0]["questions"]
    questions[0]["text"] = "Have you ever taken isotretinoin (Roaccutane)?"
    questions[1]["show_if"] = {"q": "isotretinoin", "is": "yes"}
    questions.append({"key": "smoker", "text": "Do you smoke?", "type": "yes_no"})
    document["rules"][0]["tier"] = "need_to_know"
    document["rules"].append(
        {
            "id": "smoking",
            "flag": "smoking",
            "tier": "manageable",
            "when": {"q": "smoker", "is": "yes"},
            "practitioner_message": "Smokes.",
        }
    )
    document["parameters"]["BLOCK_MONTHS"]["value"] = 12
    return document


def test_changes_list_questions_and_rules_added_removed_and_changed(make_document):
    old = make_document()
    new = _revised(make_document)
    new["rules"] = new["rules"][1:]  # the isotretinoin rule is removed

    changes = {(c.kind, c.key): c for c in compare_documents(old, new)}

    assert sorted((kind, key, c.status) for (kind, key), c in changes.items()) == [
        ("parameter", "BLOCK_MONTHS", "changed"),
        ("question", "isotretinoin", "changed"),
        ("question", "last_dose", "changed"),
        ("question", "smoker", "added"),
        ("rule", "isotretinoin_recent", "removed"),
        ("rule", "smoking", "added"),
    ]
    assert changes["question", "isotretinoin"].fields == (
        FieldChange(
            "text",
            "Have you taken isotretinoin?",
            "Have you ever taken isotretinoin (Roaccutane)?",
        ),
    )
    assert changes["question", "last_dose"].fields == (
        FieldChange(
            "follow-up condition", "isotretinoin in (yes, not_sure)", "isotretinoin is yes"
        ),
    )
    assert changes["parameter", "BLOCK_MONTHS"].fields == (FieldChange("value", "6", "12"),)
    removed = changes["rule", "isotretinoin_recent"].fields
    assert FieldChange("condition", "last_dose within BLOCK_MONTHS months", "") in removed
    assert FieldChange("tier", "not_possible", "") in removed


def test_a_changed_tier_and_condition_are_shown_side_by_side(make_document):
    new = make_document()
    new["rules"][0]["tier"] = "need_to_know"
    new["rules"][0]["when"] = {"q": "last_dose", "within_before": {"days": 30}}

    (change,) = compare_documents(make_document(), new)

    assert change.fields == (
        FieldChange("tier", "not_possible", "need_to_know"),
        FieldChange(
            "condition", "last_dose within BLOCK_MONTHS months", "last_dose within 30 days"
        ),
    )


def test_identical_documents_have_no_changes(make_document):
    assert compare_documents(make_document(), make_document()) == []


def _draft_on(version, *, invitation=None, expired=False, submitted=False):
    now = timezone.now()
    return Draft.objects.create(
        version=version,
        invitation=invitation,
        resume_digest=token_digest(new_token()),
        expires_at=now + datetime.timedelta(days=-1 if expired else 10),
    )


def _invitation(version, **fields):
    return Invitation.objects.create(
        question_set=version.question_set,
        patient_name="Ann Example",
        email="ann@example.com",
        token_digest=token_digest(new_token()),
        expires_at=timezone.now() + datetime.timedelta(days=fields.pop("days", 10)),
    )


def test_impact_counts_questionnaires_in_progress_and_open_invitations(make_document):
    current = import_document(make_document())
    current.publish()
    _draft_on(current)
    _draft_on(current, expired=True)
    started = _invitation(current)
    _draft_on(current, invitation=started)
    _invitation(current)
    _invitation(current, days=-1)

    impact = publishing_impact(current, now=timezone.now())

    assert impact.drafts_in_progress == 2
    assert impact.invitations_started == 1
    assert impact.invitations_not_started == 1


def test_the_publish_page_shows_the_changes_and_the_impact(client, make_document):
    current = import_document(make_document())
    current.publish()
    _draft_on(current)
    _invitation(current)
    draft = import_document(_revised(make_document))
    logged_in(client, staff("clinic.admin", "Clinic admin"))

    response = client.get(reverse("admin:intake_questionsetversion_publish", args=[draft.pk]))

    page = html.unescape(re.sub(r"\s+", " ", response.content.decode()))
    assert "What changes against Chemical peel v1 (1) (published now)" in page
    assert (
        "1 questionnaire in progress (0 from invitations). 1 open invitation not started yet "
        "will get the new version." in page
    )
    assert "<td>tier</td> <td>not_possible</td> <td>need_to_know</td>" in page
    assert "Question <code>smoker</code></th><td rowspan=" in page
    assert "<td>value</td> <td>6</td> <td>12</td>" in page
    assert 'value="Publish Chemical peel v2 (1)"' in page
