import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from factories import publish_approved

from intake import rules
from intake.models import (
    Choice,
    FrozenVersionError,
    Parameter,
    PublishError,
    Question,
    QuestionSetVersion,
    Rule,
    Section,
    VersionStatus,
    content_hash,
    import_document,
)
from intake.published import NotPublished
from intake.published import questionnaire as published_questionnaire

pytestmark = pytest.mark.django_db

SKINPEN_CASES = (
    Path(__file__).resolve().parent.parent / "intake" / "question_sets" / "skinpen.cases.json"
)


def published(document: dict[str, Any]) -> QuestionSetVersion:
    version = import_document(document)
    publish_approved(version)
    return version


def test_importing_a_document_creates_a_draft_that_exports_the_same_document(make_document):
    document = make_document()

    version = import_document(document)

    assert version.status == VersionStatus.DRAFT
    assert version.number == 1
    assert version.to_document() == document


def test_each_import_of_the_same_set_gets_the_next_version_number(make_document):
    first = import_document(make_document())
    second = import_document(make_document())

    assert (first.number, second.number) == (1, 2)
    assert first.question_set_id == second.question_set_id


def test_publishing_freezes_the_document_with_its_content_hash(make_document, django_user_model):
    author = django_user_model.objects.create_user("author")
    version = import_document(make_document())

    publish_approved(version, by=author)

    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED
    assert version.definition == make_document()
    assert version.content_hash == content_hash(make_document())
    assert len(version.content_hash) == 64
    assert version.published_by == author
    assert version.published_at is not None


def test_the_content_hash_changes_when_the_content_changes(make_document):
    changed = make_document(version={"label": "1", "notes": "Reworded."})

    assert content_hash(make_document()) == content_hash(make_document())
    assert content_hash(make_document()) != content_hash(changed)


def test_a_published_version_cannot_be_saved_with_changes(make_document):
    version = published(make_document())

    version.notes = "Sneaky edit"
    with pytest.raises(FrozenVersionError):
        version.save()

    version.refresh_from_db()
    version.definition["rules"][0]["tier"] = "manageable"
    with pytest.raises(FrozenVersionError):
        version.save()

    fresh = QuestionSetVersion.objects.get(pk=version.pk)
    assert fresh.notes == ""
    assert fresh.definition["rules"][0]["tier"] == "not_possible"


def test_a_published_version_cannot_go_back_to_draft_or_be_deleted(make_document):
    version = published(make_document())

    version.status = VersionStatus.DRAFT
    with pytest.raises(FrozenVersionError):
        version.save()
    with pytest.raises(FrozenVersionError):
        QuestionSetVersion.objects.get(pk=version.pk).delete()
    with pytest.raises(FrozenVersionError):
        QuestionSetVersion.objects.filter(pk=version.pk).delete()
    with pytest.raises(FrozenVersionError):
        QuestionSetVersion.objects.filter(pk=version.pk).update(notes="bulk edit")

    assert QuestionSetVersion.objects.get(pk=version.pk).status == VersionStatus.PUBLISHED


@pytest.mark.parametrize("model", [Section, Question, Choice, Rule, Parameter])
def test_rows_of_a_published_version_cannot_be_changed_or_deleted(make_document, model):
    version = published(make_document())
    if model is Choice:
        # The minimal document has no explicit choices; give the draft one before publishing.
        document = make_document()
        document["sections"][0]["questions"][0]["type"] = "single_choice"
        document["sections"][0]["questions"][0]["choices"] = [{"code": "yes", "label": "Yes"}]
        document["sections"][0]["questions"][1]["show_if"] = {"q": "isotretinoin", "is": "yes"}
        version = published(document)
    path = model.version_path
    row = model.objects.filter(**{path: version}).first()
    assert row is not None

    with pytest.raises(FrozenVersionError):
        row.save()
    with pytest.raises(FrozenVersionError):
        row.delete()
    with pytest.raises(FrozenVersionError):
        model.objects.filter(pk=row.pk).update(position=99)
    with pytest.raises(FrozenVersionError):
        model.objects.filter(pk=row.pk).delete()

    assert QuestionSetVersion.objects.get(pk=version.pk).to_document() == version.definition


def test_editing_a_new_draft_never_changes_the_published_version(make_document):
    version = published(make_document())
    snapshot = QuestionSetVersion.objects.get(pk=version.pk).definition

    draft = version.new_draft()
    rule = draft.rules.get()
    rule.tier = "need_to_know"
    rule.save()
    draft.questions.filter(key="isotretinoin").update(text="Reworded question")

    assert draft.number == version.number + 1
    assert draft.to_document()["rules"][0]["tier"] == "need_to_know"
    fresh = QuestionSetVersion.objects.get(pk=version.pk)
    assert fresh.definition == snapshot
    assert fresh.to_document() == snapshot


def test_a_draft_can_be_edited_and_then_published(make_document):
    draft = import_document(make_document())
    parameter = draft.parameters.get(name="BLOCK_MONTHS")
    parameter.value = 12
    parameter.save()

    publish_approved(draft)

    assert draft.definition["parameters"]["BLOCK_MONTHS"]["value"] == 12


def test_latest_published_is_the_version_new_patients_get(make_document):
    first = published(make_document())
    second = published(make_document(version={"label": "2", "notes": ""}))
    import_document(make_document(version={"label": "3", "notes": "draft"}))

    assert first.question_set.latest_published() == second

    second.retire()
    assert first.question_set.latest_published() == first
    assert QuestionSetVersion.objects.get(pk=second.pk).status == VersionStatus.RETIRED


def test_a_published_version_is_evaluated_by_the_rules_engine(make_document):
    version = published(make_document())

    evaluation = rules.evaluate(
        published_questionnaire(version).definition,
        {"isotretinoin": "yes", "last_dose": "2025-03-01"},
        submitted_on=datetime.date(2025, 5, 1),
    )

    assert [flag.code for flag in evaluation.flags] == ["oral_isotretinoin"]


def test_a_draft_is_never_evaluated(make_document):
    with pytest.raises(NotPublished):
        published_questionnaire(import_document(make_document()))


def bad_rule(**changes: Any) -> dict[str, Any]:
    rule = {
        "id": "isotretinoin_recent",
        "flag": "oral_isotretinoin",
        "tier": "not_possible",
        "temporary": True,
        "when": {"q": "last_dose", "within_before": {"months": "BLOCK_MONTHS"}},
        "practitioner_message": "Recent.",
        "patient_guidance": "",
        "sources": [],
    }
    rule.update(changes)
    return rule


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            bad_rule(when={"q": "last_dos", "answered": True}),
            ["isotretinoin_recent", "last_dos"],
        ),
        (
            bad_rule(when={"q": "isotretinoin", "is": "perhaps"}),
            ["isotretinoin_recent", "perhaps"],
        ),
        (
            bad_rule(when={"q": "last_dose", "within_before": {"months": "BLOK_MONTHS"}}),
            ["isotretinoin_recent", "BLOK_MONTHS"],
        ),
        (
            bad_rule(when={"q": "isotretinoin", "within_before": {"days": 7}}),
            ["isotretinoin_recent", "isotretinoin"],
        ),
    ],
    ids=["unknown question", "unknown choice", "unknown parameter", "type mismatch"],
)
def test_publishing_rejects_a_rule_naming_it_and_the_problem(make_document, rule, expected):
    draft = import_document(make_document())
    Rule.objects.filter(version=draft).update(when=rule["when"])

    with pytest.raises(PublishError) as raised:
        draft.publish()

    message = str(raised.value)
    for word in expected:
        assert word in message
    assert QuestionSetVersion.objects.get(pk=draft.pk).status == VersionStatus.DRAFT


def test_publishing_rejects_a_follow_up_that_refers_to_a_later_question(make_document):
    draft = import_document(make_document())
    draft.questions.filter(key="isotretinoin").update(show_if={"q": "last_dose", "answered": True})

    with pytest.raises(PublishError) as raised:
        draft.publish()

    assert "isotretinoin" in str(raised.value)
    assert "last_dose" in str(raised.value)


def test_importing_an_invalid_document_creates_nothing_and_lists_every_problem(make_document):
    document = make_document()
    document["rules"].append(dict(document["rules"][0]))  # duplicate rule id
    document["sections"][0]["questions"].append(dict(document["sections"][0]["questions"][0]))

    with pytest.raises(PublishError) as raised:
        import_document(document)

    assert len(raised.value.problems) >= 2
    assert "isotretinoin_recent" in str(raised.value)
    assert QuestionSetVersion.objects.count() == 0


def test_importing_texts_too_long_for_the_database_names_each_and_stores_nothing(make_document):
    document = make_document(question_set={"slug": "peel", "title": "T" * 201})
    document["sections"][0]["questions"][0]["key"] = "k" * 61
    document["sections"][0]["questions"][1]["show_if"] = {"q": "k" * 61, "is": "yes"}

    with pytest.raises(PublishError) as raised:
        import_document(document)

    assert [p.message for p in raised.value.problems] == [
        "The question set's title is 201 characters long; at most 200 are allowed.",
        'Question key "kkkkkkkkkkkkkkkkkkkk…" is 61 characters long; at most 60 are allowed.',
    ]
    assert not QuestionSetVersion.objects.exists()


def test_a_draft_that_weakens_a_skinpen_rule_is_refused_by_its_cases(version):
    draft = version.new_draft()
    draft.test_cases = json.loads(SKINPEN_CASES.read_text(encoding="utf-8"))
    draft.save(update_fields=["test_cases"])
    draft.parameters.filter(name="ISOTRETINOIN_BLOCK_MONTHS").update(value=3)

    with pytest.raises(PublishError) as raised:
        draft.publish()

    messages = [problem.message for problem in raised.value.problems]
    assert any(
        "one day short of 6 months" in message
        and "oral_isotretinoin: expected Not possible, raised Need to know" in message
        for message in messages
    )
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_a_new_draft_states_the_tiers_its_version_raises_for_cases_written_with_codes_only(
    make_document,
):
    version = published(make_document())
    recent = {"isotretinoin": "yes", "last_dose": "2026-01-10"}
    code_only = [
        {
            "name": "Recent",
            "submitted_on": "2026-03-02",
            "answers": recent,
            "expect": ["oral_isotretinoin"],
        },
        {
            "name": "Wrong",
            "submitted_on": "2026-03-02",
            "answers": {"isotretinoin": "no"},
            "expect": ["oral_isotretinoin"],
        },
        {
            "name": "None",
            "submitted_on": "2026-03-02",
            "answers": {"isotretinoin": "no"},
            "expect": [],
        },
    ]
    # As a version published before cases stated tiers keeps them.
    with connection.cursor() as cursor:
        table = QuestionSetVersion._meta.db_table
        cursor.execute(
            f"UPDATE {table} SET test_cases = %s WHERE id = %s",  # noqa: S608
            [json.dumps(code_only), version.pk],
        )
    version.refresh_from_db()

    draft = version.new_draft()

    assert [case["expect"] for case in draft.test_cases] == [
        [{"code": "oral_isotretinoin", "tier": "not_possible"}],
        ["oral_isotretinoin"],
        [],
    ]
    assert [result.passed for result in draft.run_cases()] == [True, False, True]
    # A draft's own tiers are not yet approved by anyone: a copy of it is given none.
    draft.test_cases = code_only
    draft.save(update_fields=["test_cases"])
    assert draft.new_draft().test_cases == code_only


def test_a_short_name_is_kept_through_import_and_export(make_document):
    document = make_document()
    first = document["sections"][0]["questions"][0]
    first["short_name"] = "whether you have taken isotretinoin in the last {BLOCK_MONTHS months}"

    version = import_document(document)

    assert version.questions.get(key=first["key"]).short_name == first["short_name"]
    assert version.to_document() == document
    published(document)
    assert rules.load_definition(document).questions[first["key"]].missing_answer_message == (
        "Select whether you have taken isotretinoin in the last 6 months"
    )


def test_new_patients_are_offered_the_latest_published_version_of_their_question_set(
    make_document,
):
    first = published(make_document())
    second = first.new_draft()
    publish_approved(second)
    second.new_draft()  # a draft is never offered
    other = make_document()
    other["question_set"] = other["question_set"] | {"slug": "other", "title": "Another set"}
    published(other)

    offered = QuestionSetVersion.objects.offered("peel")

    assert offered is not None
    assert (offered.pk, offered.number) == (second.pk, 2)
    assert offered.content_hash == QuestionSetVersion.objects.get(pk=second.pk).content_hash
    # Only those few columns come with it, never the large JSON; the rest loads when read.
    assert {"definition", "test_cases", "advice", "sources"} <= offered.get_deferred_fields()
    assert offered.question_set.title == "Chemical peel"
    second.retire()
    assert QuestionSetVersion.objects.offered("peel").pk == first.pk
    assert QuestionSetVersion.objects.offered("missing") is None
