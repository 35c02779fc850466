"""Migration 0013 gives what was published or drafted before declarations existed, and every flag
already raised, the behaviour the code gave them: an unreviewed cold-sore flag still needs its
antiviral plan before its submission can be cleared."""

import datetime
import json
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from intake import published
from intake.models import Flag, QuestionSetVersion, Submission, User
from intake.review.decisions import DecisionRefused, change_review_status

pytestmark = pytest.mark.django_db(transaction=True)

SKINPEN = Path(__file__).resolve().parent.parent / "intake" / "question_sets" / "skinpen.json"
BEFORE, AFTER = ("intake", "0012_two_person_publishing"), ("intake", "0013_declarations")


def migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def first_format_skinpen() -> dict:
    """SkinPen as a version published before declarations froze it: format 1, none declared."""
    document = json.loads(SKINPEN.read_text(encoding="utf-8"))
    document.pop("declarations")
    document["format"] = "consultation-intake/question-set/1"
    return document


def latest() -> tuple[str, str]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes("intake")[0]


def filters_of(submission) -> str:
    """The stored filters, read without the columns later migrations add."""
    return Submission.objects.values_list("flag_filters", flat=True).get(pk=submission.pk)


@pytest.fixture
def before_declarations():
    apps = migrate(BEFORE)
    try:
        yield apps
    finally:
        migrate(latest())


def published_with_a_cold_sore_flag(apps, definition, answers):
    """At 0012: SkinPen published with `definition`, and one submission to it whose unreviewed
    `cold_sore_history` flag was raised before declarations existed. (version, submission, flag)"""
    question_set = apps.get_model("intake", "QuestionSet").objects.get_or_create(
        slug="skinpen", defaults={"title": "SkinPen"}
    )[0]
    version = apps.get_model("intake", "QuestionSetVersion").objects.create(
        question_set=question_set,
        number=1,
        status="published",
        definition=definition,
        content_hash="a" * 64,
    )
    now = timezone.now()
    submission = apps.get_model("intake", "Submission").objects.create(
        id=uuid.uuid4(),
        reference="ABCD-2345",
        version=version,
        patient_name="Ann Example",
        date_of_birth=datetime.date(1990, 4, 3),
        email="ann@example.com",
        phone="07700 900123",
        answers=answers,
        consent_name="Ann Example",
        consented_at=now,
        outcome="need_to_know",
        flag_codes="cold_sore_history",
    )
    assessment = apps.get_model("intake", "Assessment").objects.create(
        submission=submission, reference_date=now.date(), outcome="need_to_know"
    )
    flag = apps.get_model("intake", "Flag").objects.create(
        assessment=assessment,
        position=0,
        code="cold_sore_history",
        tier="need_to_know",
        rule_id="cold_sore_history",
        practitioner_message="History of cold sores.",
    )
    return version, submission, flag


def test_an_unreviewed_cold_sore_flag_from_before_still_needs_its_plan(before_declarations):
    apps = before_declarations
    answers = {"kidney_problems": "no", "antiviral_allergy": "no"}
    version, submission, flag = published_with_a_cold_sore_flag(
        apps, first_format_skinpen(), answers
    )
    Version = apps.get_model("intake", "QuestionSetVersion")
    draft = Version.objects.create(question_set_id=version.question_set_id, number=2)
    apps.get_model("intake", "Rule").objects.create(
        version=draft,
        rule_id="history",
        flag="cold_sore_history",
        tier="need_to_know",
        when={"q": "x", "is": "yes"},
        practitioner_message="m",
    )

    migrate(AFTER)

    stored = Flag.objects.get(pk=flag.pk)
    assert stored.declarations == {
        "plan": "antiviral",
        "plan_answers": ["kidney_problems", "antiviral_allergy"],
        "filters": ["cold_sores"],
    }
    assert filters_of(submission) == " cold_sores "
    # Today's code runs on today's tables.
    migrate(latest())
    practitioner = User.objects.create_user("p", is_staff=True)
    with pytest.raises(DecisionRefused, match="antiviral plan on cold_sore_history"):
        change_review_status(
            Submission.objects.get(pk=submission.pk),
            status="cleared",
            reason="ok",
            by=practitioner,
            revision=0,
        )
    # New flags raised from the old version keep the old behaviour too.
    old = QuestionSetVersion.objects.get(pk=version.pk)
    published.forget_everything()
    definition = published.questionnaire(old).definition
    assert definition.declarations.flags["cold_sore_active"].plan == "antiviral"
    assert definition.treatment == "SkinPen"
    assert QuestionSetVersion.objects.get(pk=draft.pk).declarations["flags"] == {
        "cold_sore_history": {"plan": "antiviral", "filters": ["cold_sores"]}
    }


def test_applied_again_it_takes_a_format_2_versions_declarations_from_its_document(
    before_declarations,
):
    document = json.loads(SKINPEN.read_text(encoding="utf-8"))
    version, submission, flag = published_with_a_cold_sore_flag(before_declarations, document, {})

    migrate(AFTER)

    declared = document["declarations"]
    assert QuestionSetVersion.objects.get(pk=version.pk).declarations == declared
    assert Flag.objects.get(pk=flag.pk).declarations == {
        "plan": "antiviral",
        "plan_answers": declared["plans"]["antiviral"]["show_answers"],
        "filters": ["cold_sores"],
    }
    assert filters_of(submission) == " cold_sores "
    # Going back would leave a version the earlier code cannot read: refused.
    with pytest.raises(RuntimeError, match="cannot be reversed"):
        migrate(BEFORE)
    assert Flag.objects.get(pk=flag.pk).declarations["plan"] == "antiviral"
