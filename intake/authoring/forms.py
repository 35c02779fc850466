"""The forms clinic admins use to author question-set drafts in the admin.

Conditions are written in the readable syntax of `intake.rules.expressions`; these forms turn it
into the JSON condition language the rules engine reads. Whether the questions, choices and
parameters a condition names exist is checked for the whole draft as the save would leave it
(intake/authoring/drafts.py), because they may be added on the same page: by the last of a
page's row formsets (`DraftRows`), or by a question's own form when its page has no rows.
"""

from __future__ import annotations

import copy
import json
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet
from django.forms.models import construct_instance

from intake.authoring.drafts import DraftCheck, check_draft
from intake.models import Question, QuestionSetVersion, QuestionType, Rule, Section
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
    """A question on its own page, with the settings of its type.

    On a page without choice rows (a question of another type), the form checks the whole draft
    as saving it would leave it; a choice question's page leaves that to its choice rows.
    """

    checks_draft: ClassVar[bool] = False

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
        fields = [
            "section",
            "position",
            "key",
            "text",
            "short_name",
            "help_text",
            "type",
            "required",
        ]

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
        self.draft_check: DraftCheck | None = None
        if self.checks_draft and not self.errors:
            question = construct_instance(self, copy.copy(self.instance))
            self.draft_check = check_draft(question.version, question=question)
            for problem in self.draft_check.mistakes:
                self.add_error(None, problem.message)
        return cleaned


class VersionForm(forms.ModelForm[QuestionSetVersion]):
    class Meta:
        model = QuestionSetVersion
        fields = [
            "question_set",
            "label",
            "notes",
            "advice",
            "sources",
            "declarations",
            "test_cases",
        ]

    # A JSON box left empty means none, as a new version starts.
    def clean_advice(self) -> Any:
        return self.cleaned_data["advice"] or []

    def clean_sources(self) -> Any:
        return self.cleaned_data["sources"] or {}

    def clean_declarations(self) -> Any:
        return self.cleaned_data["declarations"] or {}

    def clean_test_cases(self) -> Any:
        cases = self.cleaned_data["test_cases"] or []
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


class DraftRows(BaseInlineFormSet):  # type: ignore[type-arg]
    """One kind of a draft's rows on a page (parameters, sections, questions, rules, choices).

    The row formsets of one page see each other in `page`, which the admin fills as it makes
    them. The last of them checks the whole draft as the save would leave it: each mistake goes
    to its row and makes the page invalid, so nothing is saved.
    """

    # The page's row formsets, in the order the admin makes them (see above); a formset made on
    # its own is its own page.
    page: ClassVar[list[DraftRows] | None] = None
    # Which rows these are, as `check_draft` takes them ("rules").
    part: ClassVar[str] = ""
    # How a problem names one of these rows: its kind ("rule") and the field holding its key.
    problem_kind: ClassVar[str] = ""
    key_field: ClassVar[str] = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.siblings: list[DraftRows] = self.page if self.page is not None else []
        self.siblings.append(self)
        self.draft_check: DraftCheck | None = None

    def add_fields(self, form: Any, index: int | None) -> None:
        """Name every field of a row for assistive technology: a table's rows have no labels
        of their own, only column headings ("Value, parameter 3")."""
        super().add_fields(form, index)
        noun = form._meta.model._meta.verbose_name
        row = f"{noun} {index + 1}" if index is not None else f"new {noun}"
        for field in form.fields.values():
            if not field.widget.is_hidden:
                label = "Delete" if field.label is None else str(field.label)
                # The admin wraps a foreign key's select; the select inside is what is drawn.
                widget = getattr(field.widget, "widget", field.widget)
                widget.attrs["aria-label"] = field.widget.attrs["aria-label"] = f"{label}, {row}"

    def kept_rows(self) -> list[Any]:
        """The rows as the save would leave them: unchanged, changed and new, not deleted."""
        return [
            form.instance
            for form in self.forms
            if not self._deleted(form) and (form.instance.pk is not None or form.has_changed())
        ]

    def _deleted(self, form: Any) -> bool:
        return self.can_delete and bool(getattr(form, "cleaned_data", {}).get("DELETE"))

    def clean(self) -> None:
        super().clean()
        if self.siblings[-1] is not self:
            return
        # Rows with mistakes of their own say so first; the draft is checked once they are right.
        if any(form.errors for formset in self.siblings for form in formset.forms):
            return
        owner = self.instance
        if isinstance(owner, Question):
            self.draft_check = check_draft(owner.version, question=owner, choices=self.kept_rows())
        else:
            rows = {formset.part: formset.kept_rows() for formset in self.siblings}
            self.draft_check = check_draft(
                owner,
                parameters=rows.get("parameters"),
                sections=rows.get("sections"),
                questions=rows.get("questions"),
                rules=rows.get("rules"),
            )
        for problem in self.draft_check.mistakes:
            for formset in self.siblings:
                if formset.mark(problem.kind, problem.key, problem.message):
                    break
        if self.draft_check.mistakes:
            raise ValidationError(
                "Nothing was saved: the draft would have the mistakes listed at the top of the "
                "page.",
                code="draft_mistakes",
            )

    def mark(self, kind: str, key: str, message: str) -> bool:
        """Show a problem at the row it names, if it is one of these; True if it is."""
        if kind != self.problem_kind:
            return False
        for form in self.forms:
            if self._deleted(form):
                continue
            if getattr(form, "cleaned_data", {}).get(self.key_field) == key:
                form.add_error(None, message)
                return True
        return False


class ParameterRows(DraftRows):
    part, problem_kind, key_field = "parameters", "parameter", "name"


class SectionRows(DraftRows):
    part, problem_kind, key_field = "sections", "section", "key"


class QuestionRows(DraftRows):
    """A version's questions; each offers only that version's own sections."""

    part, problem_kind, key_field = "questions", "question", "key"

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        if "section" in form.fields:
            form.fields["section"].queryset = Section.objects.filter(version=self.instance)


class RuleRows(DraftRows):
    part, problem_kind, key_field = "rules", "rule", "rule_id"


class ChoiceRows(DraftRows):
    part = "choices"


class ApprovalForm(forms.Form):
    """A medical lead's approval of the version they read, with what they checked."""

    note = forms.CharField(
        label="Your approval note",
        help_text="What you checked: the changes, the test cases, the patients affected.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        error_messages={
            "required": "Write a note saying what you checked.",
            "max_length": "Keep the note to %(limit_value)d characters or fewer.",
        },
    )
    # The approval hash of the version as the page showed it: approving binds to what was read.
    seen_hash = forms.RegexField(
        regex=r"\A[0-9a-f]{64}\Z",
        widget=forms.HiddenInput,
        error_messages={
            "required": "This page is out of date: open it again before approving.",
            "invalid": "This page is out of date: open it again before approving.",
        },
    )
