"""Follow-up conditions with the answers of other pages already applied (partial evaluation).

A page of the questionnaire asks some questions; the patient's answers to every other question are
known when it is shown. `page_conditions` works out, for each question of the page, what is left
of its show_if once those answers are read: every leaf that reads a question of another page (or a
question of this page that can never show) becomes its truth value, and every date leaf on this
page becomes the range of event days that satisfies it. What is left reads only answers given on
the page, so the page script decides with exactly the engine's result and no calendar rules of its
own. `shown_on_page` is the same evaluation in Python, as the page script does it.

A residual is plain JSON: `true`, `false` or `null` (unknown) for a decided condition, else
`{"all": [...]}`, `{"any": [...]}`, `{"not": ...}` or a leaf on a question of the page. Leaves are
those of the document format, except dates, which read:

    {"q": K, "days": [FIRST, LAST], "today": S, "range": "past" | "future" | "any",
     "months": true, "ongoing": true | false}

FIRST and LAST are ISO dates ("YYYY-MM-DD"), null for an unbounded end: the condition holds for
every day of the answer inside them, fails if none is, else is unknown. The answer's days are
read as the engine reads them (answers.py): a day is itself; a month and year (allowed only with
"months") is the month's days, clipped to the question's range at S (today); "not sure" is every
day up to S ("past"), from S ("future"), or any day. "ongoing" is given for a past event: when the
answer's first day is after S, the event is still going on and the condition's truth is that
value instead.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from intake.rules.answers import is_unanswered
from intake.rules.calendar import month_bounds
from intake.rules.conditions import (
    FALSE,
    NEG_INFINITY,
    NUMBER_OPERATORS,
    POS_INFINITY,
    TRUE,
    UNKNOWN,
    AllOf,
    And,
    Answered,
    AnyOf,
    CodeIn,
    Compare,
    Condition,
    Context,
    DateLeaf,
    Interval,
    Leaf,
    Not,
    Or,
    Truth,
)
from intake.rules.definition import NOT_SURE, Definition, QuestionSpec
from intake.rules.engine import read_answers

type Residual = bool | dict[str, Any] | None

_CONSTANT: dict[Truth, Residual] = {TRUE: True, FALSE: False, UNKNOWN: None}
_TRUTH: dict[Residual, Truth] = {True: TRUE, False: FALSE, None: UNKNOWN}
_FIRST_DAY = datetime.date.min.toordinal()
_LAST_DAY = datetime.date.max.toordinal()


def page_conditions(
    definition: Definition,
    answers: Mapping[str, Any],
    page: Collection[str],
    *,
    submitted_on: datetime.date,
    reference_date: datetime.date | None = None,
) -> dict[str, Residual]:
    """Each question of the page (in document order) and what decides whether it shows.

    `answers` are the patient's answers to other pages (any to a question of `page` are left out);
    `page` the keys of the questions the page asks. A question without show_if gets `True`; one
    whose residual is `False` can never show for these answers, so the page leaves it out and a
    condition reading it reads it as unanswered, as the engine does.
    """
    context, _, _ = read_answers(
        definition,
        {key: value for key, value in answers.items() if key not in page},
        submitted_on,
        reference_date,
    )
    on_page: set[str] = set()
    found: dict[str, Residual] = {}
    for key, question in definition.questions.items():
        if key not in page:
            continue
        residual: Residual = True
        if question.show_if is not None:
            residual = _residual(question.show_if, definition, context, on_page)
        found[key] = residual
        if residual is not False:
            on_page.add(key)
    return found


def _residual(
    condition: Condition, definition: Definition, context: Context, on_page: Collection[str]
) -> Residual:
    if isinstance(condition, And | Or):
        parts = [_residual(part, definition, context, on_page) for part in condition.parts]
        return _combine(isinstance(condition, And), parts)
    if isinstance(condition, Not):
        inner = _residual(condition.part, definition, context, on_page)
        if isinstance(inner, dict):
            return {"not": inner}
        return None if inner is None else not inner
    if not isinstance(condition, Leaf):
        raise TypeError(f"Unknown condition node {condition!r}.")
    if condition.q not in on_page:
        return _CONSTANT[condition.evaluate(context)]
    question = definition.questions[condition.q]
    if isinstance(condition, DateLeaf):
        return _date_leaf(question, condition.satisfying(context), condition, definition, context)
    if isinstance(condition, Answered):
        if question.type == "date":
            # Any day a date answer can be read as: answered whenever it can be read.
            return _date_leaf(question, (NEG_INFINITY, POS_INFINITY), None, definition, context)
        return {"q": condition.q, "answered": True}
    if isinstance(condition, CodeIn):
        if len(condition.codes) == 1:
            return {"q": condition.q, "is": next(iter(condition.codes))}
        return {"q": condition.q, "in": sorted(condition.codes)}
    if isinstance(condition, AnyOf | AllOf):
        op = "any_of" if isinstance(condition, AnyOf) else "all_of"
        return {"q": condition.q, op: sorted(condition.codes)}
    if isinstance(condition, Compare):
        value = condition.value
        return {
            "q": condition.q,
            condition.op: float(value) if isinstance(value, Decimal) else value,
        }
    raise TypeError(f"Unknown condition leaf {condition!r}.")


def _combine(conjunction: bool, parts: list[Residual]) -> Residual:
    """`all` (conjunction) or `any` of the parts, with the decided parts worked out."""
    absorbing, neutral = (False, True) if conjunction else (True, False)
    if absorbing in parts:
        return absorbing
    kept: list[Residual] = []
    for part in parts:
        if part is neutral or (part is None and None in kept):
            continue
        kept.append(part)
    if not kept:
        return neutral
    if len(kept) == 1:
        return kept[0]
    if all(part is None for part in kept):
        return None
    return {"all" if conjunction else "any": kept}


def _date_leaf(
    question: QuestionSpec,
    days: Interval,
    leaf: DateLeaf | None,
    definition: Definition,
    context: Context,
) -> Residual:
    low, high = days
    if low > high:
        return False  # no day satisfies it, and an ongoing event falls on no day either
    found: dict[str, Any] = {
        "q": question.key,
        "days": [_day(low), _day(high)],
        "today": context.submitted.isoformat(),
        "range": question.date_range,
    }
    if question.allow_month_year:
        found["months"] = True
    if definition.is_past_event(question.key):
        found["ongoing"] = True if leaf is None else leaf.when_ongoing(context) is TRUE
    return found


def _day(ordinal: int) -> str | None:
    """An end of a range as an ISO date; None when unbounded. An end beyond the calendar is
    held at its first or last day, which no typed answer can pass."""
    if ordinal <= NEG_INFINITY or ordinal >= POS_INFINITY:
        return None
    return datetime.date.fromordinal(min(max(ordinal, _FIRST_DAY), _LAST_DAY)).isoformat()


# The page script's evaluation, in Python.


def shown_on_page(conditions: Mapping[str, Residual], answers: Mapping[str, Any]) -> frozenset[str]:
    """The page's questions shown for the page's `answers` (in the engine's value format), as the
    page script shows them: in order, a hidden question's answer read as no answer."""
    shown: set[str] = set()
    kept: dict[str, Any] = {}
    for key, residual in conditions.items():
        if residual_truth(residual, kept) is FALSE:
            continue
        shown.add(key)
        if not is_unanswered(answers.get(key)):
            kept[key] = answers[key]
    return frozenset(shown)


def residual_truth(residual: Residual, answers: Mapping[str, Any]) -> Truth:
    """A residual's truth for the page's answers to shown questions."""
    if not isinstance(residual, dict):
        return _TRUTH[residual]
    if "all" in residual or "any" in residual:
        parts = residual["all"] if "all" in residual else residual["any"]
        truths = [residual_truth(part, answers) for part in parts]
        return min(truths) if "all" in residual else max(truths)
    if "not" in residual:
        return Truth(2 - residual_truth(residual["not"], answers))
    value: Any = answers.get(residual["q"])
    if "days" in residual:
        return _date_truth(residual, value)
    if is_unanswered(value):
        return FALSE
    if "answered" in residual:
        return TRUE
    if "is" in residual:
        return _truth(value == residual["is"])
    if "in" in residual:
        return _truth(value in residual["in"])
    if "any_of" in residual:
        return _truth(not set(value).isdisjoint(residual["any_of"]))
    if "all_of" in residual:
        return _truth(set(residual["all_of"]) <= set(value))
    op, limit = next((op, v) for op, v in residual.items() if op != "q")
    return _truth(NUMBER_OPERATORS[op](value, limit))


def _truth(value: bool) -> Truth:
    return TRUE if value else FALSE


def _date_truth(leaf: Mapping[str, Any], value: Any) -> Truth:
    """A date leaf's truth for an answer ("YYYY-MM-DD", "YYYY-MM" or "not_sure")."""
    if not isinstance(value, str) or value == "":
        return FALSE
    today = leaf["today"]
    first: str | None
    last: str | None
    if value == NOT_SURE:
        first = today if leaf["range"] == "future" else None
        last = today if leaf["range"] == "past" else None
    elif len(value) == 7:
        if not leaf.get("months"):
            return FALSE
        start, end = month_bounds(int(value[:4]), int(value[5:]))
        first, last = start.isoformat(), end.isoformat()
        if leaf["range"] == "past" and first <= today < last:
            last = today
        elif leaf["range"] == "future" and first < today <= last:
            first = today
    else:
        first = last = value
    if "ongoing" in leaf and first is not None and first > today:
        return _truth(leaf["ongoing"])
    low, high = leaf["days"]
    if (high is not None and first is not None and first > high) or (
        low is not None and last is not None and last < low
    ):
        return FALSE
    if (low is None or (first is not None and first >= low)) and (
        high is None or (last is not None and last <= high)
    ):
        return TRUE
    return UNKNOWN
