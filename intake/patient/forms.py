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
from intake.questionnaire import DATE_OF_BIRTH, PatientDetails, Questionnaire
from intake.rules import (
    CHOICE_TYPES,
    DEFAULT_MAX_LENGTH,
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
_DAY_OR_MONTH = re.compile(r"\d{1,2}")
_YEAR = re.compile(r"\d{4}")
_SHORT_YEAR = re.compile(r"\d{1,3}")
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
        **kwargs: Any,
    ) -> None:
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
            f"Please enter the date, or tick ‘{self.not_sure_label}’."
            if self.not_sure_label
            else "Please enter the date."
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
                    f"Please either enter a date or tick ‘{self.not_sure_label}’, not both.",
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
                f"Please enter the {_join(missing)} as well.", code="incomplete_date"
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
                "Please enter the year in full, for example 2024.", code="invalid_year"
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
                f"Please check the year — it needs to be {EARLIEST_YEAR} or later.",
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
                "This date is in the future — please check it.", code="future_date"
            )
        if self.date_range == "future" and last < self.submitted_on:
            raise ValidationError("This date is in the past — please check it.", code="past_date")
        if self.birth_date and age_on(last, self.submitted_on) > OLDEST_AGE:
            raise ValidationError(
                f"Please check the year — this date of birth gives an age over {OLDEST_AGE}.",
                code="implausible_age",
            )
        return text

    def _invalid_message(self) -> str:
        """What to say about a date that does not exist, with an example the patient can copy."""
        if self.allow_month_year:
            return "Please enter a real date, for example 14 3 2024 (or just the month and year)."
        return "Please enter a real date, for example 14 3 2024."


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
        **kwargs: Any,
    ) -> None:
        if min_value is not None and max_value is not None:
            outside = f"Please enter a number from {min_value} to {max_value}."
            too_small = too_big = outside
        else:
            too_small = f"Please enter a number of {min_value} or more."
            too_big = f"Please enter a number of {max_value} or less."
        messages = {
            "invalid": "Please enter a number, using digits, for example 3 or 2.5.",
            "min_value": too_small,
            "max_value": too_big,
            "max_digits": "Please enter a smaller number.",
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


_CHOICE_MESSAGES = {
    "required": "Please choose an answer.",
    "invalid_choice": "Please choose one of the answers shown.",
}


def question_field(
    question: QuestionSpec, *, submitted_on: datetime.date, birth_date: bool = False
) -> forms.Field:
    """The form field for one question, cleaning to the engine's value format."""
    common: dict[str, Any] = {
        "label": question.text,
        "help_text": question.help_text,
        "required": question.required,
    }
    kind = question.type
    choices = [(choice.code, choice.label) for choice in question.choices]
    if kind in CHOICE_TYPES:
        return forms.ChoiceField(
            choices=choices, widget=forms.RadioSelect, error_messages=_CHOICE_MESSAGES, **common
        )
    if kind == "multiple_choice":
        return CodesField(
            choices=choices,
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                **_CHOICE_MESSAGES,
                "required": "Please tick at least one answer.",
                "invalid_list": "Please choose from the answers shown.",
            },
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
            **common,
        )
    if kind == "number":
        return NumberField(
            min_value=question.min,
            max_value=question.max,
            error_messages={"required": "Please enter a number."},
            **common,
        )
    long = kind == "long_text"
    return forms.CharField(
        max_length=question.max_length or DEFAULT_MAX_LENGTH[kind],
        strip=True,
        validators=[] if long else [refuse_bidi_controls],
        widget=forms.Textarea(attrs={"rows": 5}) if long else forms.TextInput,
        error_messages={
            "required": "Please enter your answer.",
            "max_length": (
                "Please shorten your answer to %(limit_value)d characters or fewer "
                "(it has %(show_value)d)."
            ),
            "null_characters_not_allowed": "Please remove the unusual characters from your answer.",
        },
        **common,
    )


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
        section_key: str,
        *,
        submitted_on: datetime.date,
        reference_date: datetime.date | None = None,
        answers: Mapping[str, Any] = _NO_ANSWERS,
        data: Mapping[str, Any] | None = None,
        exclude: Collection[str] = (),
    ) -> None:
        definition = questionnaire.definition
        self.definition = definition
        self.section = definition.section(section_key)
        # `exclude`: questions asked on another page (the date of birth, with the details).
        self.questions = {
            question.key: question
            for question in self.section.questions
            if question.key not in exclude
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
            self.fields[key].required = question.required and key in self.visible_keys

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
        """The page's questions: the visible ones and the follow-ups this page can reveal."""
        on_page = self.visible_keys | self.live_keys
        parts = [
            _question_html(
                self[key],
                live=key in self.live_keys,
                hidden=key in self.live_keys and key not in self.visible_keys,
            )
            for key in self.questions
            if key in on_page
        ]
        return mark_safe("\n".join(parts))  # noqa: S308 - each part is escaped by format_html


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


class StartForm(forms.Form):
    """The start page: an appointment date, for patients who have one booked."""

    treatment_date = forms.DateField(
        label="Appointment date (if you have one booked)",
        help_text="For example 14/3/2026. Leave it blank if you haven't booked yet.",
        required=False,
        input_formats=["%d/%m/%Y", "%d/%m/%y", "%d %m %Y", "%Y-%m-%d", "%d-%m-%Y"],
        error_messages={"invalid": "Please enter the date like 14/3/2026."},
        widget=forms.DateInput(
            format="%d/%m/%Y", attrs={"inputmode": "numeric", "autocomplete": "off"}
        ),
    )

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_treatment_date(self) -> datetime.date | None:
        value: datetime.date | None = self.cleaned_data.get("treatment_date")
        if value is not None and value < self.today:
            raise ValidationError(
                "This date has already passed — please check it.", code="past_date"
            )
        if value is not None and value > self.today + datetime.timedelta(days=730):
            raise ValidationError(
                "Please enter an appointment date within the next two years.", code="too_far"
            )
        return value


class PatientDetailsForm(StartForm):
    """Who the patient is and how to reach them; the date of birth feeds the age rules."""

    full_name = forms.CharField(
        label="Full name",
        max_length=200,
        validators=[refuse_bidi_controls],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={
            "required": "Please enter your full name.",
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
            "required": "Please enter your email address.",
            "invalid": "Please enter an email address like name@example.com.",
            "null_characters_not_allowed": UNUSUAL_CHARACTERS,
        },
    )
    phone = forms.CharField(
        label="Phone number",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
        error_messages={
            "required": "Please enter a phone number we can call you on.",
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
                "Please enter a phone number like 07700 900123 or +44 7700 900123.",
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
        error_messages={"required": "Please confirm that your answers are accurate."},
    )
    processing = forms.BooleanField(
        label=(
            "I consent to the clinic using my health information to prepare for and carry out "
            "this consultation."
        ),
        error_messages={"required": "Please give your consent so we can review your answers."},
    )
    signature = forms.CharField(
        label="Type your full name as your signature",
        max_length=200,
        validators=[refuse_bidi_controls],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={
            "required": "Please type your full name to sign.",
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
                "Please type your full name exactly as you gave it in your details: %(name)s.",
                code="signature_mismatch",
                params={"name": self.full_name},
            )
        return " ".join(signature.split())


def _name_key(name: str) -> str:
    """A name compared without case or extra spaces."""
    return " ".join(name.split()).casefold()
