"""Small helpers for driving question-set authoring through the admin in tests."""

from __future__ import annotations

from typing import Any

from test_review_admin import logged_in, staff

__all__ = ["logged_in", "staff"]


def _value(bound_field: Any) -> Any:
    value = bound_field.value()
    widget = bound_field.field.widget
    if widget.input_type == "checkbox" if hasattr(widget, "input_type") else False:
        return "on" if value else None
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


def _add_form(data: dict[str, Any], form: Any) -> None:
    for bound_field in form:
        if bound_field.field.disabled:
            continue
        value = _value(bound_field)
        if value is not None:
            data[bound_field.html_name] = value


def change_form_data(response: Any) -> dict[str, Any]:
    """What the admin change page would post back unchanged: main form and every inline."""
    data: dict[str, Any] = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _add_form(data, formset.management_form)
        for form in formset.forms:
            _add_form(data, form)
    return data


def add_inline_row(data: dict[str, Any], prefix: str, **fields: Any) -> None:
    """Append a new row to an inline formset in posted data."""
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(index + 1)
    for name, value in fields.items():
        if value is True:
            value = "on"
        if value is False:
            continue
        data[f"{prefix}-{index}-{name}"] = value


def row_index(data: dict[str, Any], prefix: str, field: str, value: str) -> int:
    """The index of the inline row whose `field` has `value`."""
    for index in range(int(data[f"{prefix}-TOTAL_FORMS"])):
        if data.get(f"{prefix}-{index}-{field}") == value:
            return index
    raise KeyError(f"No {prefix} row with {field}={value}")


def submission_for(version: Any, answers: dict[str, Any], **fields: Any) -> Any:
    """A stored submission to a published version, with the flags the rules engine raises."""
    import datetime

    from django.utils import timezone

    from intake import published
    from intake.models import Submission
    from intake.rules import evaluate

    today = timezone.localdate()
    evaluation = evaluate(
        published.questionnaire(version).definition,
        answers,
        submitted_on=today,
        reference_date=None,
    )
    submission = Submission(
        version=version,
        patient_name="Ann Example",
        date_of_birth=datetime.date(1990, 4, 3),
        email="ann@example.com",
        phone="07700 900123",
        answers=evaluation.answers,
        consent_name="Ann Example",
        consented_at=timezone.now(),
        **fields,
    )
    submission.record_assessment(evaluation, reference_date=today)
    return submission
