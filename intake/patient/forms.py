"""Builds one step's form (one section of a question set) from a published definition.

The form checks that each answer is a valid value of its question's type and turns it into the
rules engine's answer format (docs/question-sets.md). It never decides what an answer means
clinically: which questions are shown comes from the engine's `visible_questions`, and flags come
from `evaluate` later.
"""

from __future__ import annotations

import calendar
import datetime
import json
import re
from collections.abc import Collection, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.core.exceptions import ValidationError
from django.forms.boundfield import BoundField
from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from clinic.text import UNUSUAL_CHARACTERS, refuse_bidi_controls
from intake.models import ReCheck
from intake.questionnaire import PatientDetails, Questionnaire
from intake.rules import (
    CHOICE_TYPES,
    DATE_OF_BIRTH,
    DEFAULT_MAX_LENGTH,
    IMPLICIT_CHOICES,
    NOT_SURE,
    Definition,
    QuestionSpec,
    age_on,
    is_unanswered,
    page_conditions,
    visible_questions,
)

NOT_SURE_LABEL = "I'm not sure"
EARLIEST_YEAR = 1900
OLDEST_AGE = 120
# More digits than any sensible answer; it also stops "1e999" from becoming a 1000-digit integer.
NUMBER_MAX_DIGITS = 15

_NO_ANSWERS: Mapping[str, Any] = MappingProxyType({})
# Digits 0 to 9 only, as the page script reads them (\d would take other scripts' digits too).
_DAY_OR_MONTH = re.compile(r"[0-9]{1,2}")
_YEAR = re.compile(r"[0-9]{4}")
_SHORT_YEAR = re.compile(r"[0-9]{1,3}")
# Patients write months as they say them; accept "March" and "Mar" as well as "3".
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")  # fmt: skip
_MONTH_NAMES = {name: number for number, name in enumerate(_MONTHS, start=1)}
_MONTH_NAMES |= {name[:3]: number for name, number in _MONTH_NAMES.items()} | {"sept": 9}


class PartialDateWidget(forms.MultiWidget):
    """Day, month and year boxes, each with its own label, and an optional "not sure" tick box."""

    def __init__(
        self,
        *,
        not_sure_label: str | None = None,
        birth_date: bool = False,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        def box(part: str, size: int) -> forms.TextInput:
            """One labelled box of the date."""
            # Text with a numeric keypad rather than type=number, as the GOV.UK date pattern
            # does: number inputs change on scroll, accept "e" and are announced unreliably.
            return forms.TextInput(
                attrs={
                    "class": f"form-control partial-date-{part}",
                    "inputmode": "numeric",
                    "size": str(size),
                    "autocomplete": f"bday-{part}" if birth_date else "off",
                }
            )

        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            "day": box("day", 2),
            "month": box("month", 2),
            "year": box("year", 4),
        }
        self.part_labels = ["Day", "Month", "Year"]
        if not_sure_label is not None:
            widgets["not_sure"] = forms.CheckboxInput(attrs={"class": "form-check-input"})
            self.part_labels.append(not_sure_label)
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        """Split an engine value ("2024-03-14", "2024-03" or "not_sure") into the boxes' values."""
        parts: list[Any] = ["", "", "", False]
        if value == NOT_SURE:
            parts[3] = True
        elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
            year, month, *day = value.split("-")
            parts[:3] = [str(int(day[0])) if day else "", str(int(month)), year]
        return parts[: len(self.widgets)]

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        """The boxes side by side, each labelled, with the "not sure" tick box below them."""
        renderer = renderer or get_default_renderer()
        subwidgets = self.get_context(name, value, attrs)["widget"]["subwidgets"]
        invalid = any(sub["attrs"].get("aria-invalid") == "true" for sub in subwidgets)
        # Bootstrap shows an error only after a sibling marked is-invalid; crispy puts the error
        # after this widget, so the wrappers carry the mark.
        state = " is-invalid" if invalid else ""
        controls = []
        for index, sub in enumerate(subwidgets):
            if index == 3:
                # Crispy gives every part "form-control"; a tick box needs Bootstrap's check style.
                sub["attrs"]["class"] = "form-check-input" + state
            # As Widget._render does: the widget template escapes what it shows.
            html = renderer.render(sub["template_name"], {"widget": sub})
            controls.append(mark_safe(html))  # noqa: S308
        ids = [sub["attrs"].get("id") for sub in subwidgets]
        boxes = format_html_join(
            "",
            '<div class="col-auto">{}{}</div>',
            ((_label_tag(ids[i], self.part_labels[i]), controls[i]) for i in range(3)),
        )
        result = format_html('<div class="row g-2 partial-date{}">{}</div>', state, boxes)
        if len(subwidgets) == 4:
            result += format_html(
                '<div class="form-check mt-2 partial-date-not-sure{}">{}{}</div>',
                state,
                controls[3],
                _label_tag(ids[3], self.part_labels[3], css="form-check-label"),
            )
        return result


def _label_tag(widget_id: str | None, text: str, *, css: str = "form-label") -> SafeString:
    """A <label> for one box of a date."""
    if widget_id:
        return format_html('<label class="{}" for="{}">{}</label>', css, widget_id, text)
    return format_html('<label class="{}">{}</label>', css, text)


class PartialDateField(forms.MultiValueField):
    """A date typed as day, month and year; cleans to "YYYY-MM-DD", "YYYY-MM" or "not_sure"."""

    widget: PartialDateWidget

    def __init__(
        self,
        *,
        submitted_on: datetime.date,
        date_range: str = "any",
        allow_month_year: bool = False,
        allow_not_sure: bool = False,
        not_sure_label: str = "",
        birth_date: bool = False,
        name: str = "the date",
        **kwargs: Any,
    ) -> None:
        # What the messages call the date: "your date of birth", "the date your last one started".
        self.name = name
        self.submitted_on = submitted_on
        self.date_range = date_range
        self.allow_month_year = allow_month_year
        self.allow_not_sure = allow_not_sure
        self.not_sure_label = (not_sure_label or NOT_SURE_LABEL) if allow_not_sure else None
        self.birth_date = birth_date
        fields: list[forms.Field] = [forms.CharField(required=False) for _ in range(3)]
        if allow_not_sure:
            fields.append(forms.BooleanField(required=False))
        kwargs.setdefault(
            "widget", PartialDateWidget(not_sure_label=self.not_sure_label, birth_date=birth_date)
        )
        required_message = (
            f"Enter {name}, or tick ‘{self.not_sure_label}’"
            if self.not_sure_label
            else f"Enter {name}"
        )
        kwargs["error_messages"] = {
            "required": required_message,
            **kwargs.get("error_messages", {}),
        }
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[Any]) -> str:
        """Unused: clean() reads the boxes itself so that every problem gets its own message."""
        raise NotImplementedError

    def clean(self, value: Any) -> str:
        """The engine's value for the boxes' contents, or "" when nothing was entered."""
        day, month, year, not_sure = self._parts(value)
        if not_sure:
            if day or month or year:
                raise ValidationError(
                    f"Enter {self.name} or tick ‘{self.not_sure_label}’, not both",
                    code="date_and_not_sure",
                )
            return NOT_SURE
        if not (day or month or year):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return ""
        wanted = [("day", day), ("month", month), ("year", year)]
        if self.allow_month_year and not day:
            wanted = wanted[1:]
        missing = [name for name, part in wanted if not part]
        if missing:
            raise ValidationError(
                f"Enter the {_join(missing)} for {self.name}", code="incomplete_date"
            )
        return self._check(self._read(day, month, year))

    def _parts(self, value: Any) -> tuple[str, str, str, bool]:
        """The boxes' text (stripped) and the tick box; junk of any shape is an invalid date."""
        if not isinstance(value, list | tuple):
            raise ValidationError(self._invalid_message(), code="invalid_date")
        boxes = list(value[:3]) + [""] * (3 - len(value[:3]))
        texts = []
        for box in boxes:
            if box is None:
                texts.append("")
            elif isinstance(box, str):
                texts.append(box.strip())
            else:
                raise ValidationError(self._invalid_message(), code="invalid_date")
        ticked = self.allow_not_sure and len(value) > 3 and value[3] is True
        return texts[0], texts[1], texts[2], ticked

    def _read(self, day: str, month: str, year: str) -> tuple[int, int, int | None]:
        """(year, month, day or None) from the boxes, refusing anything that is not a real date."""
        if _SHORT_YEAR.fullmatch(year):
            raise ValidationError(
                f"Enter the year in full for {self.name}, for example 2024",
                code="invalid_year",
            )
        month_number = _MONTH_NAMES.get(month.lower().rstrip("."))
        if month_number is None and _DAY_OR_MONTH.fullmatch(month):
            month_number = int(month)
        if (
            not _YEAR.fullmatch(year)
            or month_number is None
            or not 1 <= month_number <= 12
            or (day and not _DAY_OR_MONTH.fullmatch(day))
        ):
            raise ValidationError(self._invalid_message(), code="invalid_date")
        year_number = int(year)
        if year_number < EARLIEST_YEAR:
            raise ValidationError(
                f"Enter a year from {EARLIEST_YEAR} for {self.name}",
                code="year_too_early",
            )
        if not day:
            return year_number, month_number, None
        try:
            datetime.date(year_number, month_number, int(day))
        except ValueError:
            raise ValidationError(self._invalid_message(), code="invalid_date") from None
        return year_number, month_number, int(day)

    def _check(self, parts: tuple[int, int, int | None]) -> str:
        """Check the date against the question's range; return it in the engine's format."""
        year, month, day = parts
        if day is None:
            first = datetime.date(year, month, 1)
            last = datetime.date(year, month, calendar.monthrange(year, month)[1])
            text = f"{year:04d}-{month:02d}"
        else:
            first = last = datetime.date(year, month, day)
            text = first.isoformat()
        # As in the engine, a month answer is wrong only if none of its days fits the range.
        if (self.date_range == "past" or self.birth_date) and first > self.submitted_on:
            raise ValidationError(
                f"Enter a date today or in the past for {self.name}", code="future_date"
            )
        if self.date_range == "future" and last < self.submitted_on:
            raise ValidationError(
                f"Enter a date today or in the future for {self.name}", code="past_date"
            )
        if self.birth_date and age_on(last, self.submitted_on) > OLDEST_AGE:
            raise ValidationError(
                f"Check the year of {self.name}: it gives an age over {OLDEST_AGE}",
                code="implausible_age",
            )
        return text

    def _invalid_message(self) -> str:
        """What to say about a date that does not exist, with an example the patient can copy."""
        if self.allow_month_year:
            return (
                f"Enter a real date for {self.name}, for example 14 3 2024 "
                "(or just the month and year, 3 2024)"
            )
        return f"Enter a real date for {self.name}, for example 14 3 2024"


def _join(words: list[str]) -> str:
    """ "day", "month and year" or "day, month and year"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class NumberField(forms.DecimalField):
    """A number typed as text; cleans to an int when it is whole, else a float."""

    def __init__(
        self,
        *,
        min_value: float | None = None,
        max_value: float | None = None,
        name: str = "the number",
        **kwargs: Any,
    ) -> None:
        if min_value is not None and max_value is not None:
            outside = f"Enter a number from {min_value} to {max_value} for {name}"
            too_small = too_big = outside
        else:
            too_small = f"Enter a number of {min_value} or more for {name}"
            too_big = f"Enter a number of {max_value} or less for {name}"
        messages = {
            "required": f"Enter {name}",
            "invalid": f"Enter a number for {name}, using digits, for example 3 or 2.5",
            "min_value": too_small,
            "max_value": too_big,
            "max_digits": f"Enter a smaller number for {name}",
        }
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(
            min_value=None if min_value is None else Decimal(str(min_value)),
            max_value=None if max_value is None else Decimal(str(max_value)),
            max_digits=NUMBER_MAX_DIGITS,
            error_messages={**messages, **kwargs.pop("error_messages", {})},
            **kwargs,
        )

    def clean(self, value: Any) -> int | float | None:
        """The number, or None when the box was left empty."""
        number = super().clean(value)
        if number is None:
            return None
        return int(number) if number == number.to_integral_value() else float(number)


class CodesField(forms.MultipleChoiceField):
    """Ticked choice codes, once each, in the order the choices are listed."""

    def __init__(self, *, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        self.codes = [code for code, _ in choices]
        super().__init__(choices=choices, **kwargs)

    def clean(self, value: Any) -> list[str]:
        """The ticked codes; an empty list when none was ticked."""
        ticked = set(super().clean(value))
        return [code for code in self.codes if code in ticked]


def question_field(
    question: QuestionSpec, *, submitted_on: datetime.date, birth_date: bool = False
) -> forms.Field:
    """The form field for one question, cleaning to the engine's value format.

    Every message names the question (its short name), the same in the error summary as beside
    the question: "Select whether you are pregnant or breastfeeding", "Enter your date of birth".
    """
    name = question.name_in_errors
    common: dict[str, Any] = {
        "label": question.text,
        "help_text": question.help_text,
        "required": question.required,
    }
    kind = question.type
    choices = [(choice.code, choice.label) for choice in question.choices]
    choose = {
        "required": f"Select {name}",
        "invalid_choice": f"Select one of the answers shown for {name}",
    }
    if kind in CHOICE_TYPES:
        return forms.ChoiceField(
            choices=choices, widget=forms.RadioSelect, error_messages=choose, **common
        )
    if kind == "multiple_choice":
        return CodesField(
            choices=choices,
            widget=forms.CheckboxSelectMultiple,
            error_messages={**choose, "invalid_list": choose["invalid_choice"]},
            **common,
        )
    if kind == "date":
        return PartialDateField(
            submitted_on=submitted_on,
            date_range=question.date_range,
            allow_month_year=question.allow_month_year,
            allow_not_sure=question.allow_not_sure,
            not_sure_label=question.not_sure_label,
            birth_date=birth_date,
            name=name,
            **common,
        )
    if kind == "number":
        return NumberField(min_value=question.min, max_value=question.max, name=name, **common)
    return AnswerTextField(question, name=name, **common)


class AnswerTextField(forms.CharField):
    """A text answer. Its limit is never enforced by cutting what was typed: the box has no
    `maxlength` (a browser would drop the end of a pasted answer without a word); the page counts
    the characters as they are typed, and a longer answer is refused with a message."""

    def __init__(self, question: QuestionSpec, *, name: str, **kwargs: Any) -> None:
        long = question.type == "long_text"
        self.limit = question.max_length or DEFAULT_MAX_LENGTH[question.type]
        # A long answer's box shows how many characters are left (bootstrap5/field.html).
        self.counted = long
        super().__init__(
            max_length=self.limit,
            strip=True,
            validators=[] if long else [refuse_bidi_controls],
            widget=forms.Textarea(attrs={"rows": 5}) if long else forms.TextInput,
            error_messages={
                "required": f"Enter {name}",
                "max_length": (
                    f"Enter {name} in %(limit_value)d characters or fewer "
                    "(your answer has %(show_value)d)"
                ),
                "null_characters_not_allowed": (
                    "Please remove the unusual characters from your answer."
                ),
            },
            **kwargs,
        )

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        if self.counted:
            # For the character count on the page (static/intake/character-count.js).
            attrs["data-character-limit"] = str(self.limit)
        return attrs


def _question_html(field: BoundField, *, live: bool, hidden: bool) -> SafeString:
    """One question as the page shows it: the field, in a wrapper the page script reads."""
    return format_html(
        '<div class="question{}" data-question="{}"{}>{}</div>',
        " follow-up" if live else "",
        field.name,
        " data-initially-hidden" if hidden else "",
        as_crispy_field(field),
    )


class StepForm(forms.Form):
    """The questions of one section, with follow-ups shown or hidden by the rules engine.

    `visible_keys` are this step's questions shown for the stored answers plus this step's values
    (posted, or the initial ones); `hidden_keys` are the rest, whose posted values are neither
    validated nor returned. `live_keys` are follow-ups whose visibility an answer on this page can
    still change, given the answers to other steps: a page without JavaScript shows them (they are
    optional until their trigger is answered), and their widgets carry `data-show-if`, the
    condition with the other steps' answers applied, for the progressive-enhancement script.
    """

    # The server is the one judge of required answers: a follow-up revealed or hidden on the page
    # would otherwise keep a stale `required` attribute, and the browser's messages are neither in
    # our words nor reliably announced.
    use_required_attribute = False

    def __init__(
        self,
        questionnaire: Questionnaire,
        section_key: str | None,
        *,
        submitted_on: datetime.date,
        reference_date: datetime.date | None = None,
        answers: Mapping[str, Any] = _NO_ANSWERS,
        data: Mapping[str, Any] | None = None,
        exclude: Collection[str] = (),
        only: Collection[str] | None = None,
    ) -> None:
        definition = questionnaire.definition
        self.definition = definition
        # No section: `only` names the page's questions, from any section (the re-check).
        self.section = definition.section(section_key) if section_key else None
        every = (
            self.section.questions
            if self.section
            else tuple(q for section in definition.sections for q in section.questions)
        )
        # `exclude`: questions asked on another page (the date of birth, with the details).
        self.questions = {
            question.key: question
            for question in every
            if question.key not in exclude and (only is None or question.key in only)
        }
        initial = {
            key: answers[key] for key in self.questions if not is_unanswered(answers.get(key))
        }
        super().__init__(data=data, initial=initial)
        for key, question in self.questions.items():
            self.fields[key] = question_field(
                question,
                submitted_on=submitted_on,
                birth_date=key in questionnaire.birth_date_keys,
            )
        others = {key: value for key, value in answers.items() if key not in self.questions}
        conditions = follow_up_conditions(
            definition,
            others,
            self.questions,
            submitted_on=submitted_on,
            reference_date=reference_date,
        )
        self.live_keys = frozenset(conditions)
        for key, condition in conditions.items():
            self.fields[key].widget.attrs["data-show-if"] = condition
        step_values = self._posted_values() if self.is_bound else initial
        shown = visible_questions(
            definition,
            {**others, **step_values},
            submitted_on=submitted_on,
            reference_date=reference_date,
        )
        self.visible_keys = frozenset(key for key in self.questions if key in shown)
        self.hidden_keys = frozenset(self.questions.keys() - self.visible_keys)
        for key, question in self.questions.items():
            field = self.fields[key]
            field.required = question.required and key in self.visible_keys
            # A follow-up this page can reveal says it is required when it appears.
            field.required_when_shown = question.required and key in self.live_keys  # type: ignore[attr-defined]
        self.show_if = questionnaire.show_if

    def _posted_values(self) -> dict[str, Any]:
        """This step's posted answers that are valid, to decide which follow-ups are shown."""
        values = {}
        for key, field in self.fields.items():
            try:
                value = field.clean(self[key].data)
            except ValidationError:
                continue
            if not is_unanswered(value):
                values[key] = value
        return values

    def full_clean(self) -> None:
        """Validate the shown questions only; a hidden follow-up's posted value is discarded."""
        every_field = self.fields
        self.fields = {key: f for key, f in every_field.items() if key not in self.hidden_keys}
        try:
            super().full_clean()
        finally:
            self.fields = every_field

    def answers(self) -> dict[str, Any]:
        """This step's answers to shown questions in the engine's format, blanks left out."""
        if not self.is_bound or self.errors:
            raise ValueError("StepForm.answers() needs a bound form that is valid.")
        return {
            key: self.cleaned_data[key]
            for key in self.questions
            if key in self.visible_keys and not is_unanswered(self.cleaned_data.get(key))
        }

    def partial_answers(self) -> dict[str, Any]:
        """The valid answers to shown questions on a page that has errors elsewhere."""
        valid = self._posted_values()
        return {key: value for key, value in valid.items() if key in self.visible_keys}

    def questions_html(self) -> SafeString:
        """The page's questions: the visible ones and the follow-ups this page can reveal.

        Follow-ups come in a group under the question that reveals them, introduced by what
        reveals them ("If you answered ‘Yes’"), so that a page without JavaScript, which shows
        them all, reads as a paper form would.
        """
        on_page = self.visible_keys | self.live_keys
        # What a cue may name: the questions this page shows (others are decided already).
        asked = {key: question for key, question in self.questions.items() if key in on_page}
        parts: list[SafeString] = []
        group: list[SafeString] = []
        group_cue: str | None = None
        for key in self.questions:
            if key not in on_page:
                continue
            live = key in self.live_keys
            html = _question_html(
                self[key], live=live, hidden=live and key not in self.visible_keys
            )
            cue = _cue(self.show_if.get(key), asked) if live else None
            if group and cue == "":
                # Revealed by a follow-up of the group (by the date it gives, say): one of them.
                group.append(html)
                continue
            if group and cue != group_cue:
                parts.append(_follow_ups_html(group, group_cue))
                group = []
            if cue is None:
                parts.append(html)
            else:
                group.append(html)
            group_cue = cue
        if group:
            parts.append(_follow_ups_html(group, group_cue))
        return mark_safe("\n".join(parts))  # noqa: S308 - each part is escaped by format_html


def _follow_ups_html(questions: list[SafeString], cue: str | None) -> SafeString:
    """Follow-ups under the question that reveals them, with what reveals them."""
    return format_html(
        '<div class="follow-ups">{}{}</div>',
        format_html('<p class="follow-up-cue">{}</p>', cue) if cue else "",
        mark_safe("\n".join(questions)),  # noqa: S308 - each part is escaped by format_html
    )


def _cue(condition: Any, questions: Mapping[str, QuestionSpec]) -> str:
    """What reveals a follow-up, in the patient's words: "If you answered ‘Yes’"; "" when the
    condition is not simply answers on this page (a date, say)."""
    if not isinstance(condition, Mapping):
        return ""
    leaves = condition.get("any", [condition])
    said = []
    for leaf in leaves:
        question = questions.get(str(leaf.get("q"))) if isinstance(leaf, Mapping) else None
        if question is None:
            continue
        labels = dict(IMPLICIT_CHOICES.get(question.type, ()))
        labels |= {choice.code: choice.label for choice in question.choices}
        if "is" in leaf:
            codes, verb = [leaf["is"]], "answered"
        elif "in" in leaf:
            codes, verb = list(leaf["in"]), "answered"
        elif "any_of" in leaf:
            codes, verb = list(leaf["any_of"]), "ticked"
        else:
            return ""
        said.append((verb, " or ".join(f"‘{labels.get(code, code)}’" for code in codes)))
    if not said:
        return ""
    if len(said) > 1 and len(set(said)) == 1:
        verb, answer = said[0]
        return f"If you {verb} {answer} to any of the questions above"
    return "If " + " or ".join(f"you {verb} {answer}" for verb, answer in said)


def follow_up_conditions(
    definition: Definition,
    others: Mapping[str, Any],
    questions: Collection[str],
    *,
    submitted_on: datetime.date,
    reference_date: datetime.date | None,
) -> dict[str, str]:
    """Follow-ups among `questions` (one page) whose visibility an answer on the page can still
    change, given the answers to other pages (`others`), each with what decides it as the page
    script reads it (JSON text). A follow-up these answers decide is not among them: shown as a
    plain question, or not on the page at all."""
    residuals = page_conditions(
        definition, others, questions, submitted_on=submitted_on, reference_date=reference_date
    )
    return {
        key: json.dumps(residual, separators=(",", ":"))
        for key, residual in residuals.items()
        if isinstance(residual, dict)
    }


# Django refuses NUL characters in text (PostgreSQL cannot store them); say so in plain words.
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{6,18}[0-9]")


# How far ahead an appointment date may be, and how far ahead the start page's example is.
APPOINTMENT_DAYS_AHEAD = 730
EXAMPLE_DAYS_AHEAD = 21


def appointment_example(today: datetime.date) -> str:
    """A date in the near future, written as the patient would type it: "27 3 2027"."""
    example = today + datetime.timedelta(days=EXAMPLE_DAYS_AHEAD)
    return f"{example.day} {example.month} {example.year}"


_NOT_A_DATE = "Enter your appointment date as a real date."
_PASSED = (
    "Your appointment date has already passed. Check it, or leave it blank if you haven't booked "
    "yet."
)
_APPOINTMENT_MESSAGES = {
    "incomplete_date": "Enter your appointment date with a day, month and year.",
    "invalid_year": "Enter the year of your appointment in full.",
    "past_date": _PASSED,
    "year_too_early": _PASSED,
}


class AppointmentDateField(PartialDateField):
    """The appointment date in day, month and year boxes: blank, today, or within two years.

    Its messages name the appointment, so that the error summary says which date is wrong; the
    example is in the hint beside the boxes.
    """

    def __init__(self, *, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(submitted_on=today, date_range="future", required=False, **kwargs)

    def clean(self, value: Any) -> str:
        try:
            return super().clean(value)
        except ValidationError as error:
            raise ValidationError(
                _APPOINTMENT_MESSAGES.get(error.code or "", _NOT_A_DATE), code=error.code
            ) from None


class StartForm(forms.Form):
    """The start page: an appointment date, for patients who have one booked."""

    def __init__(
        self, *args: Any, today: datetime.date, date_example: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        # The start page is rendered once and kept: it is given a stand-in for the example,
        # and the example for the day it is served replaces it (intake.patient.pages).
        example = date_example or appointment_example(today)
        self.fields["treatment_date"] = AppointmentDateField(
            label="Appointment date (if you have one booked)",
            help_text=f"For example, {example}. Leave it blank if you haven't booked yet.",
            today=today,
        )
        booked = self.initial.get("treatment_date")
        if isinstance(booked, datetime.date):
            # The boxes show a date as the engine writes it.
            self.initial = {**self.initial, "treatment_date": booked.isoformat()}

    def clean_treatment_date(self) -> datetime.date | None:
        value: str = self.cleaned_data.get("treatment_date") or ""
        if not value:
            return None
        date = datetime.date.fromisoformat(value)
        if date > self.today + datetime.timedelta(days=APPOINTMENT_DAYS_AHEAD):
            raise ValidationError(
                "Your appointment date must be within the next two years. Check it, or leave "
                "it blank if you haven't booked yet.",
                code="too_far",
            )
        return date


class PatientDetailsForm(StartForm):
    """Who the patient is and how to reach them; the date of birth feeds the age rules."""

    full_name = forms.CharField(
        label="Full name",
        max_length=200,
        validators=[refuse_bidi_controls],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={
            "required": "Enter your full name",
            "null_characters_not_allowed": UNUSUAL_CHARACTERS,
        },
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        validators=[refuse_bidi_controls],
        help_text="We'll only use it about your consultation.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": "Enter your email address",
            "invalid": "Enter your email address in the right format, like name@example.com",
            "null_characters_not_allowed": UNUSUAL_CHARACTERS,
        },
    )
    phone = forms.CharField(
        label="Phone number",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
        error_messages={
            "required": "Enter a phone number we can call you on",
            "null_characters_not_allowed": UNUSUAL_CHARACTERS,
        },
    )
    use_required_attribute = False
    field_order = ["full_name", DATE_OF_BIRTH, "email", "phone", "treatment_date"]

    def __init__(
        self,
        *args: Any,
        definition: Definition,
        today: datetime.date,
        treatment_date_fixed: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, today=today, **kwargs)
        question = definition.questions.get(DATE_OF_BIRTH)
        # Always a full date, whatever the question set allows: it is stored on the submission.
        self.fields[DATE_OF_BIRTH] = PartialDateField(
            label=question.text if question else "What is your date of birth?",
            help_text=question.help_text if question else "",
            submitted_on=today,
            date_range="past",
            birth_date=True,
            name=question.name_in_errors if question else "your date of birth",
        )
        self.order_fields(self.field_order)
        if treatment_date_fixed:
            # The clinic booked it with the invitation; the patient sees it but cannot change it.
            del self.fields["treatment_date"]

    def clean_full_name(self) -> str:
        return " ".join(self.cleaned_data["full_name"].split())

    def clean_phone(self) -> str:
        phone: str = self.cleaned_data["phone"]
        if not _PHONE.fullmatch(phone):
            raise ValidationError(
                "Enter your phone number in the right format, like 07700 900123 or +44 7700 900123",
                code="invalid_phone",
            )
        return " ".join(phone.split())

    def details(self) -> PatientDetails:
        """The patient's details, from a valid form."""
        data = self.cleaned_data
        birth = datetime.date.fromisoformat(data[DATE_OF_BIRTH])
        return PatientDetails(data["full_name"], birth, data["email"], data["phone"])


class ConsentForm(forms.Form):
    """The patient's consent, signed by typing their full name."""

    accurate = forms.BooleanField(
        label="My answers are accurate and complete to the best of my knowledge.",
        error_messages={"required": "Confirm that your answers are accurate"},
    )
    processing = forms.BooleanField(
        label=(
            "I consent to the clinic using my health information to prepare for and carry out "
            "this consultation."
        ),
        error_messages={"required": "Give your consent so that we can review your answers"},
    )
    signature = forms.CharField(
        label="Type your full name as your signature",
        max_length=200,
        validators=[refuse_bidi_controls],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={
            "required": "Type your full name to sign",
            "null_characters_not_allowed": UNUSUAL_CHARACTERS,
        },
    )
    use_required_attribute = False

    def __init__(self, *args: Any, full_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.full_name = full_name

    def clean_signature(self) -> str:
        signature: str = self.cleaned_data["signature"]
        if _name_key(signature) != _name_key(self.full_name):
            raise ValidationError(
                "Type your full name exactly as you gave it in your details: %(name)s",
                code="signature_mismatch",
                params={"name": self.full_name},
            )
        return " ".join(signature.split())


def _name_key(name: str) -> str:
    """A name compared without case or extra spaces."""
    return " ".join(name.split()).casefold()


class ReCheckForm(StepForm):
    """The questions asked again before treatment, on one page: each as on its step (the same
    fields, follow-ups and errors), blank, so that the patient answers afresh; and, where the
    patient accepted an antiviral plan, whether they have started the tablets."""

    def __init__(
        self,
        questionnaire: Questionnaire,
        *,
        keys: Collection[str],
        answers: Mapping[str, Any],
        submitted_on: datetime.date,
        reference_date: datetime.date | None,
        ask_antiviral: bool,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        # The other answers decide which follow-ups a re-asked answer can reveal.
        others = {key: value for key, value in answers.items() if key not in keys}
        super().__init__(
            questionnaire,
            None,
            submitted_on=submitted_on,
            reference_date=reference_date,
            answers=others,
            data=data,
            only=keys,
        )
        self.ask_antiviral = ask_antiviral
        if ask_antiviral:
            self.fields[ReCheck.ANTIVIRAL_STARTED] = forms.ChoiceField(
                label="Have you started the antiviral tablets?",
                choices=IMPLICIT_CHOICES["yes_no"],
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Select whether you have started the antiviral tablets",
                    "invalid_choice": "Select whether you have started the antiviral tablets",
                },
            )

    def antiviral_html(self) -> SafeString:
        if not self.ask_antiviral:
            return mark_safe("")
        return _question_html(self[ReCheck.ANTIVIRAL_STARTED], live=False, hidden=False)

    def extra(self) -> dict[str, str]:
        """What the page records beside the answers: whether the tablets are started."""
        if not self.ask_antiviral:
            return {}
        return {ReCheck.ANTIVIRAL_STARTED: self.cleaned_data[ReCheck.ANTIVIRAL_STARTED]}
