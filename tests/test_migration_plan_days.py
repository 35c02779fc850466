"""Migration 0020 turns antiviral plans recorded with dates into days around the treatment day,
against the date the rules were checked against when the plan was made; the page then works the
dates out from the current treatment date."""

import datetime
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from intake.models import FlagDecision
from intake.review import plans

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE, AFTER = ("intake", "0020_user_notify_of_submissions"), ("intake", "0021_plan_relative_days")
OLD_PLAN = {
    "offered": True,
    "accepted": True,
    "drug": "valaciclovir",
    "dose": "500 mg twice daily",
    "start_date": "2026-12-17",
    "end_date": "2026-12-23",
    "prescriber": "Dr A Prescriber",
    "risk_discussion": "",
}


def migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.fixture
def before_days():
    apps = migrate(BEFORE)
    try:
        yield apps
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("intake")[0])


def decided_with(apps, plan, *, reference_date, treatment_date, reference="ABCD-2345"):
    """At 0019: a submission whose cold-sore flag was decided with `plan`; the decision's id."""
    question_set = apps.get_model("intake", "QuestionSet").objects.get_or_create(
        slug="skinpen", defaults={"title": "SkinPen"}
    )[0]
    version = apps.get_model("intake", "QuestionSetVersion").objects.get_or_create(
        question_set=question_set,
        number=1,
        defaults={"status": "published", "definition": {}, "content_hash": "a" * 64},
    )[0]
    now = timezone.now()
    submission = apps.get_model("intake", "Submission").objects.create(
        id=uuid.uuid4(),
        reference=reference,
        version=version,
        patient_name="Ann Example",
        date_of_birth=datetime.date(1990, 4, 3),
        email="ann@example.com",
        phone="07700 900123",
        answers={},
        consent_name="Ann Example",
        consented_at=now,
        treatment_date=treatment_date,
    )
    assessment = apps.get_model("intake", "Assessment").objects.create(
        submission=submission, reference_date=reference_date, outcome="need_to_know"
    )
    flag = apps.get_model("intake", "Flag").objects.create(
        assessment=assessment,
        position=0,
        code="cold_sore_history",
        tier="need_to_know",
        rule_id="cold_sore_history",
        practitioner_message="History of cold sores.",
        declarations={"plan": "antiviral"},
    )
    user = apps.get_model("intake", "User").objects.get_or_create(username="p")[0]
    return (
        apps.get_model("intake", "FlagDecision")
        .objects.create(flag=flag, kind="acknowledged", note="ok", antiviral_plan=plan, by=user)
        .pk
    )


def test_a_plan_with_dates_becomes_days_around_the_treatment_date_it_was_made_for(before_days):
    booked = decided_with(
        before_days,
        OLD_PLAN,
        reference_date=datetime.date(2026, 12, 18),
        treatment_date=datetime.date(2026, 12, 18),
    )
    unbooked = decided_with(
        before_days,
        OLD_PLAN | {"start_date": "2026-12-01", "end_date": "2026-12-05"},
        reference_date=datetime.date(2026, 12, 2),
        treatment_date=None,
        reference="EFGH-2345",
    )
    declined = decided_with(
        before_days,
        {"offered": True, "accepted": False, "start_date": "", "end_date": "", "drug": ""},
        reference_date=datetime.date(2026, 12, 18),
        treatment_date=datetime.date(2026, 12, 18),
        reference="JKLM-2345",
    )
    unreadable = decided_with(
        before_days,
        OLD_PLAN | {"start_date": "17/12/2026"},
        reference_date=datetime.date(2026, 12, 18),
        treatment_date=datetime.date(2026, 12, 18),
        reference="NPQR-2345",
    )

    migrate(AFTER)

    plan = FlagDecision.objects.get(pk=booked).antiviral_plan
    assert (plan["start_day"], plan["end_day"], plan["planned_for"]) == (-1, 5, "2026-12-18")
    assert "start_date" not in plan and "end_date" not in plan
    assert plan["recorded_dates"] == {"start_date": "2026-12-17", "end_date": "2026-12-23"}
    assert plan["drug"] == "valaciclovir" and plan["dose"] == "500 mg twice daily"
    # No treatment date booked: against the submission date the rules used.
    plan = FlagDecision.objects.get(pk=unbooked).antiviral_plan
    assert (plan["start_day"], plan["end_day"], plan["planned_for"]) == (-1, 3, "2026-12-02")
    plan = FlagDecision.objects.get(pk=declined).antiviral_plan
    assert (plan["accepted"], plan["start_day"]) == (False, None)
    assert "needs_reentry" not in plan
    plan = FlagDecision.objects.get(pk=unreadable).antiviral_plan
    assert plan["needs_reentry"] is True
    assert plan["recorded_dates"]["start_date"] == "17/12/2026"


def test_a_migrated_plan_shows_its_dates_from_the_current_treatment_date(before_days):
    booked = decided_with(
        before_days,
        OLD_PLAN,
        reference_date=datetime.date(2026, 12, 18),
        treatment_date=datetime.date(2026, 12, 18),
    )
    migrate(AFTER)

    shown = plans.view(
        FlagDecision.objects.get(pk=booked).antiviral_plan,
        treatment_date=datetime.date(2027, 1, 8),
        today=datetime.date(2026, 12, 1),
    )

    assert shown.course == "from 7 Jan 2027 (day −1) for 7 days, to 13 Jan 2027 (day +5)"
    assert shown.moved.startswith("Made for treatment on 18 Dec 2026; the treatment date is now")


def test_going_back_restores_the_dates_as_recorded(before_days):
    booked = decided_with(
        before_days,
        OLD_PLAN,
        reference_date=datetime.date(2026, 12, 18),
        treatment_date=datetime.date(2026, 12, 18),
    )
    migrate(AFTER)

    migrate(BEFORE)

    apps = MigrationExecutor(connection).loader.project_state([BEFORE]).apps
    restored = apps.get_model("intake", "FlagDecision").objects.get(pk=booked).antiviral_plan
    assert restored == OLD_PLAN
