"""Reading a patient's answers: the value format of each question type."""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from intake.rules.calendar import month_bounds
from intake.rules.conditions import NEG_INFINITY, POS_INFINITY, Context, Interval
from intake.rules.definition import NOT_SURE, Definition, QuestionSpec
from intake.rules.problems import Problem
from intake.rules.problems import show_value as _show

_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")


def check_answers(
    definition: Definition, answers: Mapping[str, Any], *, submitted_on: datetime.date
) -> list[Problem]:
    """Every problem with the answers' keys and values (required-ness is not checked)."""
    if not isinstance(answers, Mapping):
        return [
            Problem(
                "type_mismatch",
                "answers",
                "",
                f"The answers must be an object of question key to answer, not {_show(answers)}.",
            )
        ]
    problems: list[Problem] = []
    context = Context(submitted_on=submitted_on, reference_date=submitted_on)
    for key, value in answers.items():
        question = definition.questions.get(key) if isinstance(key, str) else None
        if question is None:
            problems.append(
                Problem(
                    "unknown_question",
                    "question",
                    str(key),
                    f"The answers include unknown question {_show(key)}.",
                )
            )
            continue
        if not is_unanswered(value):
            read_answer(question, value, context, problems)
    return problems


def is_unanswered(value: Any) -> bool:
    """Whether a value means "no answer" (absent, null, empty text or nothing ticked)."""
    return value is None or value == "" or value == []


def read_answer(
    question: QuestionSpec, value: Any, context: Context, problems: list[Problem] | None
) -> None:
    """Store a usable answer in `context`; report what is wrong with it to `problems`, if given.

    The caller has already left out unanswered values (see is_unanswered). A value of the wrong
    shape is not stored. A value of the right shape but out of range (a past date after
    submission, a number over its maximum, text too long) is stored, because rules must still see
    it: a "last dose" after submission means the medicine is ongoing.
    """
    READERS[question.type](question, value, context, problems)


def _read_code(
    question: QuestionSpec, value: Any, context: Context, problems: list[Problem] | None
) -> None:
    if not isinstance(value, str):
        _report(problems, "type_mismatch", question, f"must be a choice code, not {_show(value)}")
    elif value not in question.choice_codes:
        _report(problems, "unknown_choice", question, f"uses unknown choice {_show(value)}")
    else:
        context.answered.add(question.key)
        context.codes[question.key] = value


def _read_ticked(
    question: QuestionSpec, value: Any, context: Context, problems: list[Problem] | None
) -> None:
    if not isinstance(value, list | tuple) or not all(isinstance(c, str) for c in value):
        _report(problems, "type_mismatch", question, f"must be a list of codes, not {_show(value)}")
        return
    ticked = frozenset(value)
    if not ticked <= question.choice_codes:
        unknown = [code for code in value if code not in question.choice_codes]
        _report(
            problems,
            "unknown_choice",
            question,
            "uses unknown choice " + ", ".join(_show(code) for code in unknown),
        )
        return
    context.answered.add(question.key)
    context.ticked[question.key] = ticked


def _read_day(
    question: QuestionSpec, value: Any, context: Context, problems: list[Problem] | None
) -> None:
    interval = _read_date(question, value, context.submitted, problems)
    if interval is not None:
        context.answered.add(question.key)
        context.dates[question.key] = interval


def _read_number(
    question: QuestionSpec, value: Any, context: Context, problems: list[Problem] | None
) -> None:
    if not is_number(value):
        _report(problems, "type_mismatch", question, f"must be a number, not {_show(value)}")
        return
    if question.min is not None and value < question.min:
        _report(problems, "out_of_range", question, f"is {value}, below the minimum {question.min}")
    elif question.max is not None and value > question.max:
        _report(problems, "out_of_range", question, f"is {value}, above the maximum {question.max}")
    context.answered.add(question.key)
    context.numbers[question.key] = value


def _read_text(
    question: QuestionSpec, value: Any, context: Context, problems: list[Problem] | None
) -> None:
    if not isinstance(value, str):
        _report(problems, "type_mismatch", question, f"must be text, not {_show(value)}")
        return
    limit = question.max_length
    if limit is not None and len(value) > limit:
        _report(
            problems, "too_long", question, f"has {len(value)} characters; the limit is {limit}"
        )
    context.answered.add(question.key)


def _read_date(
    question: QuestionSpec, value: Any, submitted_on: datetime.date, problems: list[Problem] | None
) -> Interval | None:
    if not isinstance(value, str):
        _report(problems, "type_mismatch", question, f"must be a date, not {_show(value)}")
        return None
    kind, low, high = _parse_date_text(value)
    s = submitted_on.toordinal()
    if kind == "not_sure":
        if not question.allow_not_sure:
            _report(problems, "not_sure_not_allowed", question, 'cannot be "not sure"')
            return None
        if question.date_range == "past":
            return NEG_INFINITY, s
        if question.date_range == "future":
            return s, POS_INFINITY
        return NEG_INFINITY, POS_INFINITY
    if kind == "day":
        if problems is not None:
            _check_range(question, value, (low, high), submitted_on, problems)
        return low, high
    if kind == "month":
        if not question.allow_month_year:
            _report(
                problems,
                "month_year_not_allowed",
                question,
                f"must be a full date, not the month {_show(value)}",
            )
            return None
        if problems is not None:
            _check_range(question, value, (low, high), submitted_on, problems)
        return _clip(question, (low, high), s)
    if kind == "invalid":
        _report(problems, "invalid_date", question, f"is not a real date: {_show(value)}")
        return None
    _report(
        problems,
        "type_mismatch",
        question,
        f"must be a date written YYYY-MM-DD, YYYY-MM or not_sure, not {_show(value)}",
    )
    return None


def _parse_date_text(value: str) -> tuple[str, int, int]:
    """("day" | "month" | "not_sure" | "invalid" | "malformed", first ordinal, last ordinal)."""
    if value == NOT_SURE:
        return "not_sure", 0, 0
    if _FULL_DATE.fullmatch(value):
        try:
            day = datetime.date.fromisoformat(value).toordinal()
        except ValueError:
            return "invalid", 0, 0
        return "day", day, day
    if _MONTH.fullmatch(value):
        year, month = int(value[:4]), int(value[5:])
        if year < 1 or not 1 <= month <= 12:
            return "invalid", 0, 0
        first, last = month_bounds(year, month)
        return "month", first.toordinal(), last.toordinal()
    return "malformed", 0, 0


def _clip(question: QuestionSpec, interval: Interval, s: int) -> Interval:
    """Clip a month answer to the question's range, unless nothing of it would remain."""
    low, high = interval
    if question.date_range == "past" and low <= s < high:
        return low, s
    if question.date_range == "future" and low < s <= high:
        return s, high
    return interval


def _check_range(
    question: QuestionSpec,
    value: str,
    interval: Interval,
    submitted_on: datetime.date,
    problems: list[Problem] | None,
) -> None:
    s = submitted_on.toordinal()
    if question.date_range == "past" and interval[0] > s:
        _report(
            problems,
            "date_after_submission",
            question,
            f"is {_show(value)}, after the submission date {submitted_on.isoformat()}, "
            "but the question asks about the past",
        )
    elif question.date_range == "future" and interval[1] < s:
        _report(
            problems,
            "date_before_submission",
            question,
            f"is {_show(value)}, before the submission date {submitted_on.isoformat()}, "
            "but the question asks about the future",
        )


def is_number(value: Any) -> bool:
    """Whether a value is a finite number (an int, float or Decimal; a bool is not a number)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float | Decimal):
        return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)
    return False


def is_whole_number(value: Any) -> bool:
    """Whether a value is an int (a bool is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _report(problems: list[Problem] | None, code: str, question: QuestionSpec, detail: str) -> None:
    if problems is not None:
        problems.append(
            Problem(
                code, "question", question.key, f'The answer to question "{question.key}" {detail}.'
            )
        )


# Each question type's reader; the engine calls these directly for every answer it reads.
READERS: dict[str, Callable[[QuestionSpec, Any, Context, list[Problem] | None], None]] = {
    "yes_no": _read_code,
    "yes_no_not_sure": _read_code,
    "single_choice": _read_code,
    "multiple_choice": _read_ticked,
    "date": _read_day,
    "number": _read_number,
    "short_text": _read_text,
    "long_text": _read_text,
}
