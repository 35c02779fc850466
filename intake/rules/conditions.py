"""Compiled conditions: small node objects evaluated with three-valued (Kleene) logic.

A date answer is an interval of possible days, held as a pair of day ordinals. A date condition is
the contiguous range of event days that satisfy it; the answer's interval inside that range is
true, outside it false, and overlapping it unknown.
"""

from __future__ import annotations

import datetime
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import Any

from intake.rules.calendar import add_months, add_years

type Number = int | float | Decimal
# Unbounded ends of a day interval; far outside the ordinals of dates in years 1..9999.
NEG_INFINITY = -(10**9)
POS_INFINITY = 10**9
type Interval = tuple[int, int]


class Truth(IntEnum):
    """A three-valued truth value; `min` is Kleene "and", `max` is Kleene "or"."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2


# Module-level names: reading an enum member through its class is several times slower.
FALSE = Truth.FALSE
UNKNOWN = Truth.UNKNOWN
TRUE = Truth.TRUE
# Indexed by the truth value: a tuple lookup is much cheaper than hashing an enum member.
_NEGATION = (TRUE, UNKNOWN, FALSE)


class Context:
    """The usable answers of one evaluation, already parsed by type, with its dates."""

    __slots__ = (
        "answered",
        "codes",
        "dates",
        "numbers",
        "ongoing",
        "ranges",
        "reference",
        "submitted",
        "ticked",
    )

    def __init__(self, *, submitted_on: datetime.date, reference_date: datetime.date) -> None:
        self.submitted = submitted_on
        self.reference = reference_date
        self.answered: set[str] = set()
        # The code answered to each yes/no, yes/no/not sure or single-choice question.
        self.codes: dict[str, Any] = {}
        self.ticked: dict[str, frozenset[str]] = {}
        self.numbers: dict[str, Number] = {}
        self.dates: dict[str, Interval] = {}
        # Past events dated after the submission date: still ongoing (screening specification
        # §2), so as severe as an event on the reference date, and the date is to be checked.
        self.ongoing: set[str] = set()
        # Satisfying ranges of calendar comparisons, worked out once per evaluation: several
        # rules and follow-ups ask "within 6 months", and the rules are tested, then cited.
        self.ranges: dict[tuple[type[DateLeaf], int], Interval] = {}


class Condition:
    """Base of the compiled condition nodes."""

    __slots__ = ()

    def evaluate(self, context: Context) -> Truth:
        """The condition's truth value for these answers."""
        raise NotImplementedError

    def collect_evidence(self, context: Context, found: dict[str, bool]) -> None:
        """Add the questions that made this (non-false) condition true or unknown."""
        raise NotImplementedError

    def collect_all(self, context: Context, found: dict[str, bool]) -> None:
        """Add every question this condition reads, marking those whose answer was uncertain."""
        raise NotImplementedError

    def question_keys(self) -> frozenset[str]:
        """Keys of every question the condition reads."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class And(Condition):
    """`all`: false if any part is false, else unknown if any is unknown."""

    parts: tuple[Condition, ...]

    def evaluate(self, context: Context) -> Truth:
        result = TRUE
        for part in self.parts:
            value = part.evaluate(context)
            if value is FALSE:
                return FALSE
            if value is UNKNOWN:
                result = UNKNOWN
        return result

    def collect_evidence(self, context: Context, found: dict[str, bool]) -> None:
        for part in self.parts:
            part.collect_evidence(context, found)

    def collect_all(self, context: Context, found: dict[str, bool]) -> None:
        for part in self.parts:
            part.collect_all(context, found)

    def question_keys(self) -> frozenset[str]:
        return frozenset().union(*(part.question_keys() for part in self.parts))


@dataclass(frozen=True, slots=True)
class Or(Condition):
    """`any`: true if any part is true, else unknown if any is unknown."""

    parts: tuple[Condition, ...]

    def evaluate(self, context: Context) -> Truth:
        result = FALSE
        for part in self.parts:
            value = part.evaluate(context)
            if value is TRUE:
                return TRUE
            if value is UNKNOWN:
                result = UNKNOWN
        return result

    def collect_evidence(self, context: Context, found: dict[str, bool]) -> None:
        wanted = self.evaluate(context)
        for part in self.parts:
            if part.evaluate(context) is wanted:
                part.collect_evidence(context, found)

    def collect_all(self, context: Context, found: dict[str, bool]) -> None:
        for part in self.parts:
            part.collect_all(context, found)

    def question_keys(self) -> frozenset[str]:
        return frozenset().union(*(part.question_keys() for part in self.parts))


@dataclass(frozen=True, slots=True)
class Not(Condition):
    """`not`: unknown stays unknown."""

    part: Condition

    def evaluate(self, context: Context) -> Truth:
        return _NEGATION[self.part.evaluate(context)]

    def collect_evidence(self, context: Context, found: dict[str, bool]) -> None:
        # The inner part is false or unknown, so it has no "winning" parts: cite all it reads.
        self.part.collect_all(context, found)

    def collect_all(self, context: Context, found: dict[str, bool]) -> None:
        self.part.collect_all(context, found)

    def question_keys(self) -> frozenset[str]:
        return self.part.question_keys()


@dataclass(frozen=True, slots=True)
class Leaf(Condition):
    """A comparison on one question's answer."""

    q: str

    def collect_evidence(self, context: Context, found: dict[str, bool]) -> None:
        uncertain = self.evaluate(context) is UNKNOWN
        found[self.q] = found.get(self.q, False) or uncertain

    def collect_all(self, context: Context, found: dict[str, bool]) -> None:
        self.collect_evidence(context, found)

    def question_keys(self) -> frozenset[str]:
        return frozenset((self.q,))


def _truth(value: bool) -> Truth:
    return TRUE if value else FALSE


@dataclass(frozen=True, slots=True)
class Answered(Leaf):
    def evaluate(self, context: Context) -> Truth:
        return TRUE if self.q in context.answered else FALSE


@dataclass(frozen=True, slots=True)
class CodeIn(Leaf):
    """`is` and `in` on a yes/no, yes/no/not sure or single-choice question."""

    codes: frozenset[str]

    def evaluate(self, context: Context) -> Truth:
        return TRUE if context.codes.get(self.q) in self.codes else FALSE


@dataclass(frozen=True, slots=True)
class AnyOf(Leaf):
    codes: frozenset[str]

    def evaluate(self, context: Context) -> Truth:
        ticked = context.ticked.get(self.q)
        return _truth(ticked is not None and not ticked.isdisjoint(self.codes))


@dataclass(frozen=True, slots=True)
class AllOf(Leaf):
    codes: frozenset[str]

    def evaluate(self, context: Context) -> Truth:
        ticked = context.ticked.get(self.q)
        return _truth(ticked is not None and self.codes <= ticked)


NUMBER_OPERATORS: dict[str, Callable[[Number, Number], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
}


@dataclass(frozen=True, slots=True)
class Compare(Leaf):
    op: str
    value: Number
    test: Callable[[Number, Number], bool] = field(repr=False, compare=False)

    def evaluate(self, context: Context) -> Truth:
        number = context.numbers.get(self.q)
        return _truth(number is not None and self.test(number, self.value))


@dataclass(frozen=True, slots=True)
class DateLeaf(Leaf):
    """A date comparison, held as the range of event days that satisfy it."""

    def evaluate(self, context: Context) -> Truth:
        answer = context.dates.get(self.q)
        if answer is None:
            return FALSE
        if self.q in context.ongoing:
            return self.when_ongoing(context)
        low, high = self.satisfying(context)
        # True if every day of the answer satisfies, false if none does, else unknown.
        if low > high or answer[1] < low or answer[0] > high:
            return FALSE
        if low <= answer[0] and answer[1] <= high:
            return TRUE
        return UNKNOWN

    def satisfying(self, context: Context) -> Interval:
        """The event days (ordinals, inclusive) for which the comparison holds."""
        raise NotImplementedError

    def when_ongoing(self, context: Context) -> Truth:
        """For a past event still ongoing: as if it happened on the reference date."""
        low, high = self.satisfying(context)
        return _truth(low <= context.reference.toordinal() <= high)


@dataclass(frozen=True, slots=True)
class WithinDaysBefore(DateLeaf):
    n: int

    def satisfying(self, context: Context) -> Interval:
        r = context.reference.toordinal()
        return r - self.n + 1, r  # 0 <= R - event < n


@dataclass(frozen=True, slots=True)
class WithinMonthsBefore(DateLeaf):
    n: int

    def satisfying(self, context: Context) -> Interval:
        found = context.ranges.get((WithinMonthsBefore, self.n))
        if found is None:
            found = context.ranges[WithinMonthsBefore, self.n] = _months_before(
                context.reference, self.n
            )
        return found


@dataclass(frozen=True, slots=True)
class WithinDaysAfter(DateLeaf):
    n: int

    def satisfying(self, context: Context) -> Interval:
        r = context.reference.toordinal()
        return r + 1, r + self.n  # 0 < event - R <= n


@dataclass(frozen=True, slots=True)
class WithinMonthsAfter(DateLeaf):
    n: int

    def satisfying(self, context: Context) -> Interval:
        return _months_after(context.reference, self.n)


@dataclass(frozen=True, slots=True)
class AfterSubmission(DateLeaf):
    def satisfying(self, context: Context) -> Interval:
        return context.submitted.toordinal() + 1, POS_INFINITY

    def when_ongoing(self, context: Context) -> Truth:
        return TRUE  # it is ongoing because its date is after the submission date


@dataclass(frozen=True, slots=True)
class AgeUnder(DateLeaf):
    n: int

    def satisfying(self, context: Context) -> Interval:
        found = context.ranges.get((AgeUnder, self.n))
        if found is None:
            found = context.ranges[AgeUnder, self.n] = _born_under_age(context.reference, self.n)
        return found


_ONE_DAY = datetime.timedelta(days=1)


def _months_before(reference: datetime.date, n: int) -> Interval:
    """Events with event <= R < add_months(event, n)."""
    if n == 0:
        return POS_INFINITY, NEG_INFINITY
    try:
        guess = add_months(reference, -n)
        low = _first_day_after_from(guess, reference, lambda e: add_months(e, n))
    except (ValueError, OverflowError):
        low = NEG_INFINITY
    return low, reference.toordinal()


def _months_after(reference: datetime.date, n: int) -> Interval:
    """Events with R < event <= add_months(R, n)."""
    try:
        high = add_months(reference, n).toordinal()
    except (ValueError, OverflowError):
        high = POS_INFINITY
    return reference.toordinal() + 1, high


def _born_under_age(reference: datetime.date, n: int) -> Interval:
    """Birth dates whose n-th birthday falls after R."""
    try:
        guess = add_years(reference, -n)
        low = _first_day_after_from(guess, reference, lambda b: add_years(b, n))
    except (ValueError, OverflowError):
        low = NEG_INFINITY
    return low, POS_INFINITY


def _first_day_after_from(
    guess: datetime.date, day: datetime.date, shift: Callable[[datetime.date], datetime.date]
) -> int:
    """The first e with shift(e) > day; shift is monotone and `guess` is within days of it."""
    event = guess
    while shift(event) <= day:
        event += _ONE_DAY
    while shift(event - _ONE_DAY) > day:
        event -= _ONE_DAY
    return event.toordinal()
