"""Before publishing, the admin sees what changed against the published version, and who is
part-way through it."""

import datetime
import html
import json
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import logged_in, make_submission, publish_approved, staff

from intake import published
from intake.authoring.changes import FieldChange, compare_documents, publishing_impact
from intake.authoring.replay import replay
from intake.models import Draft, Invitation, import_document, new_token, token_digest
from intake.rules import load_definition

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
    weakenings = {key for (kind, key), change in changes.items() if change.weakening}
    assert weakenings == {"isotretinoin_recent"}


def test_a_rule_moved_to_a_milder_tier_is_a_weakening_and_to_a_stricter_one_is_not(make_document):
    strict = make_document()
    mild = make_document()
    mild["rules"][0]["tier"] = "need_to_know"

    assert [change.weakening for change in compare_documents(strict, mild)] == [True]
    assert [change.weakening for change in compare_documents(mild, strict)] == [False]


def test_a_flag_that_no_longer_needs_its_plan_is_a_weakening(make_document):
    declared = make_document(
        declarations={
            "plans": {"antiviral": {"show_answers": ["isotretinoin"]}},
            "filters": {"retinoids": {"label": "Retinoid flags"}},
            "flags": {"oral_isotretinoin": {"plan": "antiviral", "filters": ["retinoids"]}},
        }
    )
    without_plan = make_document(
        declarations={
            "filters": {"retinoids": {"label": "Retinoid flags"}},
            "flags": {"oral_isotretinoin": {"filters": ["retinoids"]}},
        }
    )

    changes = compare_documents(declared, without_plan)

    assert [(c.kind, c.key, c.status, c.weakening) for c in changes] == [
        ("flag declaration", "oral_isotretinoin", "changed", True),
        ("plan", "antiviral", "removed", False),
    ]
    assert changes[0].fields == (FieldChange("plan needed", "antiviral", ""),)
    assert [c.weakening for c in compare_documents(without_plan, declared)] == [False, False]


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
    publish_approved(current)
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
    publish_approved(current)
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
    assert 'value="Submit for approval"' in page  # publishing comes after a medical lead's approval


SKINPEN_CASES = json.loads(
    (Path(__file__).resolve().parent.parent / "intake/question_sets/skinpen.cases.json").read_text()
)


# Last dose five months and a day before the treatment: inside 6 months, outside 3.
def _isotretinoin_patient(version, treatment, **fields):
    last_dose = treatment - datetime.timedelta(days=152)
    answers = {
        "isotretinoin_last_12_months": "yes",
        "isotretinoin_taking_now": "no",
        "isotretinoin_last_dose": last_dose.isoformat(),
    }
    return make_submission(version, answers, treatment_date=treatment, **fields)


def _weakened(version):
    draft = version.new_draft()
    draft.test_cases = SKINPEN_CASES
    draft.save(update_fields=["test_cases"])
    draft.parameters.filter(name="ISOTRETINOIN_BLOCK_MONTHS").update(value=3)
    return draft


def test_replaying_a_weakened_rule_counts_the_cases_and_patients_it_would_change(version):
    today = timezone.localdate()
    upcoming = [_isotretinoin_patient(version, today + datetime.timedelta(days=d)) for d in (3, 9)]
    recent = _isotretinoin_patient(version, today - datetime.timedelta(days=20))
    _isotretinoin_patient(  # long past: neither upcoming nor recent
        version,
        today - datetime.timedelta(days=400),
        submitted_at=timezone.now() - datetime.timedelta(days=420),
    )
    make_submission(version, {}, treatment_date=today + datetime.timedelta(days=5))  # unchanged
    draft = _weakened(version)

    replayed = replay(
        load_definition(draft.to_document()),
        version=draft,
        current=published.questionnaire(version).definition,
    )

    groups = {(group.who, str(group.shift)): group for group in replayed.groups}
    weakened = "oral_isotretinoin not possible → need to know"
    assert groups["upcoming patient", weakened].count == 2
    assert groups["upcoming patient", weakened].names == tuple(s.reference for s in upcoming)
    assert groups["upcoming patient", weakened].label == "2 upcoming patients"
    assert groups["upcoming patient", "outcome not possible → need to know"].count == 2
    assert groups["recent submission", weakened].names == (recent.reference,)
    assert groups["test case", weakened].count >= 3
    assert all(group.weakening for group in groups.values())
    assert (replayed.submissions, replayed.capped, replayed.cases) == (4, False, len(SKINPEN_CASES))


def test_the_publish_page_marks_a_weakening_and_who_it_would_reach(client, version):
    today = timezone.localdate()
    _isotretinoin_patient(version, today + datetime.timedelta(days=3))
    draft = _weakened(version)
    rules = draft.rules.filter(rule_id="isotretinoin_review_band")
    rules.update(tier="manageable")
    logged_in(client, staff("clinic.admin", "Clinic admin"))

    response = client.get(reverse("admin:intake_questionsetversion_publish", args=[draft.pk]))

    page = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    page = re.sub(r"\s+", " ", page)
    assert "What this draft would raise" in page
    assert "This version has no label and no release notes yet. Add them on its page" in page
    assert (
        "1 upcoming patient oral_isotretinoin not possible → manageable Clinical weakening" in page
    )
    assert (
        "Rule isotretinoin_review_band Changed Clinical weakening tier need_to_know manageable"
        in page
    )
    assert "are clinical weakenings" in page
    # The cases fail too, so the draft cannot be published as it is.
    assert "one day short of 6 months" in page
    assert 'value="Publish' not in response.content.decode()


def test_replay_runs_at_most_its_cap_of_submissions_and_says_so(client, version, monkeypatch):
    from intake.authoring import replay as module

    monkeypatch.setattr(module, "SUBMISSION_CAP", 2)
    today = timezone.localdate()
    for days in (-5, -1, 3, 9):  # two treated recently, two to come
        _isotretinoin_patient(version, today + datetime.timedelta(days=days))
    draft = _weakened(version)
    logged_in(client, staff("clinic.admin", "Clinic admin"))

    response = client.get(reverse("admin:intake_questionsetversion_publish", args=[draft.pk]))

    page = re.sub(r"\s+", " ", html.unescape(response.content.decode()))
    assert "There are more such submissions than 2: only the first 2 were run: upcoming" in page
    assert "2 upcoming patients" in page  # the patients still to be treated come first
    assert "recent submission" not in page


def test_a_changed_parameter_lists_the_texts_whose_wording_it_changes(make_document):
    old = make_document()
    old["rules"][0]["patient_guidance"] = "We need at least {BLOCK_MONTHS months} after your dose."
    new = make_document(rules=old["rules"], parameters={"BLOCK_MONTHS": {"value": 3}})

    changes = {(c.kind, c.key): c for c in compare_documents(old, new)}

    assert changes["rule", "isotretinoin_recent"].status == "changed"
    assert changes["rule", "isotretinoin_recent"].fields == (
        FieldChange(
            "patient guidance, as read",
            "We need at least 6 months after your dose.",
            "We need at least 3 months after your dose.",
        ),
    )
    assert FieldChange("value", "6", "3") in changes["parameter", "BLOCK_MONTHS"].fields


def test_a_question_split_in_two_is_reported_with_both_new_questions(make_document):
    old = make_document()
    new = make_document()
    questions = new["sections"][0]["questions"]
    dose = questions.pop(1)
    questions += [
        {**dose, "key": "last_dose_oral", "text": "When did you last take it by mouth?"},
        {**dose, "key": "last_dose_cream", "text": "When did you last use it as a cream?"},
    ]
    new["rules"][0]["when"] = {
        "any": [
            {"q": "last_dose_oral", "within_before": {"months": "BLOCK_MONTHS"}},
            {"q": "last_dose_cream", "within_before": {"months": "BLOCK_MONTHS"}},
        ]
    }

    changes = compare_documents(old, new)

    split = changes[0]
    assert (split.kind, split.key, split.status) == ("question", "last_dose", "split")
    assert split.fields == (
        FieldChange(
            "split into",
            "last_dose: When did you take your last dose?",
            "last_dose_oral: When did you last take it by mouth?\n"
            "last_dose_cream: When did you last use it as a cream?",
        ),
    )
    statuses = {(c.kind, c.key): c.status for c in changes[1:]}
    assert statuses[("question", "last_dose")] == "removed"
    assert statuses[("question", "last_dose_oral")] == "added"


def test_a_question_removed_and_another_added_is_no_split(make_document):
    new = make_document()
    new["sections"][0]["questions"][1]["key"] = "final_dose"
    new["rules"][0]["when"] = {"q": "final_dose", "within_before": {"months": "BLOCK_MONTHS"}}

    assert "split" not in {change.status for change in compare_documents(make_document(), new)}


def test_the_approval_page_warns_that_a_split_question_leaves_old_answers_behind(
    client, make_document
):
    current = import_document(make_document())
    publish_approved(current)
    document = make_document()
    dose = document["sections"][0]["questions"].pop(1)
    document["sections"][0]["questions"] += [
        {**dose, "key": "last_dose_oral"},
        {**dose, "key": "last_dose_cream"},
    ]
    document["rules"][0]["when"] = {
        "any": [
            {"q": "last_dose_oral", "answered": True},
            {"q": "last_dose_cream", "answered": True},
        ]
    }
    draft = import_document(document)
    logged_in(client, staff("clinic.admin", "Clinic admin"))

    response = client.get(reverse("admin:intake_questionsetversion_publish", args=[draft.pk]))

    page = html.unescape(re.sub(r"\s+", " ", response.content.decode()))
    assert 'Question <code>last_dose</code></th><td rowspan="1">Split' in page
    assert "1 question is split into others." in page


def test_a_changed_short_name_is_listed_with_its_wording_as_read(make_document):
    old = make_document()
    old["sections"][0]["questions"][0]["short_name"] = "whether you have taken isotretinoin"
    new = make_document()
    new["sections"][0]["questions"][0]["short_name"] = (
        "whether you have taken isotretinoin in the last {BLOCK_MONTHS months}"
    )

    (change,) = compare_documents(old, new)

    assert (change.kind, change.key, change.status) == ("question", "isotretinoin", "changed")
    assert change.fields == (
        FieldChange(
            "short name",
            "whether you have taken isotretinoin",
            "whether you have taken isotretinoin in the last {BLOCK_MONTHS months}",
        ),
    )


def test_a_change_to_the_rules_checked_first_is_listed(make_document):
    old = make_document()
    new = make_document(declarations={"eligibility": {"rules": ["isotretinoin_recent"]}})

    (change,) = compare_documents(old, new)

    assert (change.kind, change.key, change.status) == ("declaration", "eligibility", "added")
    assert change.fields == (
        FieldChange("rules checked before the health questions", "", "isotretinoin_recent"),
    )
