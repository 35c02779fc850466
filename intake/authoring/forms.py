"""The forms clinic admins use to author question-set drafts in the admin.

Conditions are written in the readable syntax of `intake.rules.expressions`; these forms turn it
into the JSON condition language the rules engine reads. Whether the questions, choices and
parameters a condition names exist is checked for the whole draft when it is saved (see
intake/admin/question_sets.py), because they may be added on the same page.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from intake.models import Question, QuestionSetVersion, QuestionType, Rule
from intake.rules.cases import CaseFileError, parse_cases
from intake.rules.expressions import ExpressionError, condition_text, parse

CONDITION_HELP = (
    "For example: <code>cold_sores in (yes, not_sure) and last_cold_sore within 28 days</code>. "
    "Comparisons: <code>is</code>, <code>in (…)</code>, <code>any of (…)</code>, "
    "<code>all of (…)</code>, <code>answered</code>, <code>within N days|months [after]</code>, "
    "<code>after submission</code>, <code>age under N</code>, "
    "<code>&gt; &gt;= &lt; &lt;= =</code>; "
    "combine with <code>and</code>, <code>or</code>, <code>not</code> and brackets. N is a number "
    "or a parameter name such as <code>ISOTRETINOIN_BLOCK_MONTHS</code>."
)


class ConditionField(forms.CharField):
    """A condition written as text; cleans to the JSON condition (or None when left blank)."""

    widget = forms.Textarea(attrs={"rows": 2, "cols": 80, "class": "condition"})

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", CONDITION_HELP)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        if text.lstrip().startswith("{"):
            # The JSON form is accepted too: it is how a condition with no text form is shown.
            try:
                return json.loads(text)
            except json.JSONDecodeError as error:
                raise ValidationError(
                    f"This is neither a condition nor valid JSON: {error}.", code="invalid_json"
                ) from None
        try:
            return parse(text)
        except ExpressionError as error:
            raise ValidationError(str(error), code="invalid_condition") from None

    def has_changed(self, initial: Any, data: Any) -> bool:
        return " ".join(str(initial or "").split()) != " ".join(str(data or "").split())


class CodesField(forms.CharField):
    """Codes separated by commas, e.g. the sources a rule cites."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [code.strip() for code in text.split(",") if code.strip()]


class RuleForm(forms.ModelForm[Rule]):
    condition = ConditionField(label="When (condition)")
    sources = CodesField(
        required=False, help_text="Source codes the rule cites, separated by commas (e.g. IFU)."
    )

    class Meta:
        model = Rule
        fields = [
            "position",
            "rule_id",
            "flag",
            "tier",
            "temporary",
            "practitioner_message",
            "patient_guidance",
        ]
        widgets = {
            "practitioner_message": forms.Textarea(attrs={"rows": 2, "cols": 80}),
            "patient_guidance": forms.Textarea(attrs={"rows": 2, "cols": 80}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["condition"] = condition_text(self.instance.when)
            self.initial["sources"] = ", ".join(self.instance.rule_sources)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Unchanged text keeps the stored JSON exactly, even where the text is only equivalent.
        if "condition" in self.changed_data and cleaned.get("condition") is not None:
            self.instance.when = cleaned["condition"]
        if "sources" in cleaned:
            self.instance.rule_sources = cleaned["sources"]
        return cleaned


class QuestionRowForm(forms.ModelForm[Question]):
    """A question as a row of its version's page; choices and type settings are on its own page."""

    follow_up = ConditionField(
        label="Show only if (follow-up)",
        required=False,
        help_text="Leave blank to always ask. " + CONDITION_HELP,
    )

    class Meta:
        model = Question
        fields = ["section", "position", "key", "text", "type", "required"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "cols": 40})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["follow_up"] = condition_text(self.instance.show_if)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "follow_up" in self.changed_data and "follow_up" in cleaned:
            self.instance.show_if = cleaned["follow_up"]
        return cleaned


DATE_RANGES = [
    ("any", "Any date"),
    ("past", "In the past (up to today)"),
    ("future", "In the future (from today)"),
]


class QuestionForm(QuestionRowForm):
    """A question on its own page, with the settings of its type."""

    date_range = forms.ChoiceField(choices=DATE_RANGES, required=False, label="Dates allowed")
    allow_month_year = forms.BooleanField(required=False, label="Month and year are enough")
    allow_not_sure = forms.BooleanField(required=False, label='Offer "I\'m not sure"')
    not_sure_label = forms.CharField(required=False, label='Wording of "not sure"')
    min = forms.DecimalField(required=False, label="Smallest number allowed")
    max = forms.DecimalField(required=False, label="Largest number allowed")
    max_length = forms.IntegerField(required=False, min_value=1, label="Longest answer (letters)")

    # Which settings belong to which type, and their values when not given.
    TYPE_OPTIONS: dict[str, dict[str, Any]] = {
        QuestionType.DATE: {
            "date_range": "any",
            "allow_month_year": False,
            "allow_not_sure": False,
            "not_sure_label": "",
        },
        QuestionType.NUMBER: {"min": None, "max": None},
        QuestionType.SHORT_TEXT: {"max_length": None},
        QuestionType.LONG_TEXT: {"max_length": None},
    }

    class Meta(QuestionRowForm.Meta):
        fields = ["section", "position", "key", "text", "help_text", "type", "required"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, value in self.instance.options.items():
            if name in self.fields:
                self.initial[name] = value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        defaults = self.TYPE_OPTIONS.get(cleaned.get("type", ""), {})
        before = self.instance.options
        options: dict[str, Any] = {}
        for name, default in defaults.items():
            value = cleaned.get(name)
            if value is not None and not isinstance(value, bool | str | int):
                value = int(value) if value == int(value) else float(value)
            if value in (None, "") and name == "date_range":
                value = default
            # A setting left at its default is written only if the document already had it,
            # so that saving a page unchanged leaves the document exactly as it was.
            if value != default or name in before:
                options[name] = value
        self.instance.options = options
        return cleaned


class VersionForm(forms.ModelForm[QuestionSetVersion]):
    class Meta:
        model = QuestionSetVersion
        fields = ["question_set", "label", "notes", "advice", "sources", "test_cases"]

    def clean_test_cases(self) -> Any:
        cases = self.cleaned_data["test_cases"]
        try:
            parse_cases(cases)
        except CaseFileError as error:
            raise ValidationError(str(error), code="invalid_cases") from None
        return cases


class ImportForm(forms.Form):
    document = forms.FileField(
        label="Question-set JSON document",
        error_messages={"required": "Please choose the question-set JSON document to import."},
    )
    cases = forms.FileField(
        label="Test cases (optional)", required=False, help_text="A JSON list of cases."
    )

    def _json(self, name: str) -> Any:
        upload = self.cleaned_data[name]
        if upload is None:
            return None
        try:
            return json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValidationError(
                f"{upload.name} is not a JSON file: {error}.", code="invalid_json"
            ) from None

    def clean_document(self) -> Any:
        return self._json("document")

    def clean_cases(self) -> Any:
        cases = self._json("cases")
        if cases is None:
            return []
        try:
            parse_cases(cases)
        except CaseFileError as error:
            raise ValidationError(str(error), code="invalid_cases") from None
        return cases
