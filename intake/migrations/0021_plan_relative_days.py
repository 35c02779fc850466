"""Antiviral plans keep their course as days relative to the treatment day, and a decision can
be carried over to the same flag after a change of treatment date.

Plans recorded with absolute dates ("start_date", "end_date") are converted against the date the
rules were checked against when the plan was made: its flag's assessment's reference date, which
is the treatment date booked then or, when none was booked, the submission date (as the rules
themselves do, screening specification §2). That date is kept as the plan's "planned_for", so the
page says when the treatment date has since moved. The dates as recorded are kept under
"recorded_dates". A plan whose dates cannot be read keeps them and is marked "needs_reentry".
"""

import datetime

import django.db.models.deletion
from django.db import migrations, models


def to_relative_days(plan, reference):
    """The plan with its course in days around `reference`, or None if it has no dates."""
    if not isinstance(plan, dict) or "start_date" not in plan and "end_date" not in plan:
        return None
    converted = {k: v for k, v in plan.items() if k not in ("start_date", "end_date")}
    recorded = {"start_date": plan.get("start_date", ""), "end_date": plan.get("end_date", "")}
    converted["recorded_dates"] = recorded
    converted["planned_for"] = reference.isoformat()
    if not any(recorded.values()):
        # Declined or not offered: there was no course to convert.
        converted["start_day"] = converted["end_day"] = None
        return converted
    try:
        start = datetime.date.fromisoformat(recorded["start_date"])
        end = datetime.date.fromisoformat(recorded["end_date"])
    except (TypeError, ValueError):
        converted["start_day"] = converted["end_day"] = None
        converted["needs_reentry"] = True
        return converted
    converted["start_day"] = (start - reference).days
    converted["end_day"] = (end - reference).days
    return converted


def forwards(apps, schema_editor):
    FlagDecision = apps.get_model("intake", "FlagDecision")
    decisions = FlagDecision.objects.filter(antiviral_plan__isnull=False).select_related(
        "flag__assessment"
    )
    for decision in decisions.iterator():
        converted = to_relative_days(
            decision.antiviral_plan, decision.flag.assessment.reference_date
        )
        if converted is not None:
            FlagDecision.objects.filter(pk=decision.pk).update(antiviral_plan=converted)


def backwards(apps, schema_editor):
    FlagDecision = apps.get_model("intake", "FlagDecision")
    for decision in FlagDecision.objects.filter(antiviral_plan__has_key="recorded_dates"):
        plan = dict(decision.antiviral_plan)
        restored = {
            k: v
            for k, v in plan.items()
            if k not in ("recorded_dates", "start_day", "end_day", "planned_for", "needs_reentry")
        }
        restored |= plan["recorded_dates"]
        FlagDecision.objects.filter(pk=decision.pk).update(antiviral_plan=restored)


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0020_user_notify_of_submissions'),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
        migrations.AddField(
            model_name='flagdecision',
            name='carried_from',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='intake.flagdecision'),
        ),
        migrations.AlterField(
            model_name='flagdecision',
            name='antiviral_plan',
            field=models.JSONField(blank=True, help_text='Cold-sore cover as recorded (the app never prescribes); its course in days relative to the treatment day (intake.review.plans).', null=True),
        ),
        migrations.AlterField(
            model_name='submissionchange',
            name='kind',
            field=models.CharField(choices=[('status', 'Review status'), ('treatment_date', 'Treatment date'), ('flag_decision', 'Flag decision'), ('override', 'Override'), ('plan', 'Antiviral plan'), ('carried_over', 'Decision carried over')], max_length=20),
        ),
    ]
