"""What a draft would do to real patients and to its own test cases, before it is published.

The draft's rules are run, without storing anything, over:
- its test cases, against what the version published now raises for them;
- the question set's submissions whose treatment date is today or later (upcoming patients) and
  those submitted in the last RECENT_DAYS days, at most SUBMISSION_CAP of them (upcoming
  patients first, the nearest treatment first, then the most recently sent; the page says when
  there were more).
Both are compared with what the version published now raises for the same answers and dates, so
that only what the draft itself changes is listed (a submission keeps its own version's flags
whatever is published; this says what the draft would raise for patients who answer alike).

Every flag whose tier would change, that would be raised or would no longer be raised, and every
change of outcome, is counted by who it concerns and what changes. A flag no longer raised, or
raised at a milder tier, and a milder outcome, are marked as clinical weakenings.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from intake.models import QuestionSetVersion, Submission
from intake.rules import Definition, Tier, evaluate
from intake.rules.cases import CaseFileError, parse_cases

RECENT_DAYS = 90
SUBMISSION_CAP = 2000

TEST_CASES = "test case"
UPCOMING = "upcoming patient"
RECENT = "recent submission"
WHO = (TEST_CASES, UPCOMING, RECENT)

# What a flag or an outcome is, in tiers: a Tier, or None for not raised (no flags).
type Level = Tier | None


def _milder(before: Level, after: Level) -> bool:
    """Whether `after` asks less of the clinic than `before`: lower tier, or nothing at all."""
    if before is None:
        return False
    return after is None or after.severity > before.severity


def _words(level: Level, *, nothing: str) -> str:
    return nothing if level is None else level.label.lower()


@dataclass(frozen=True)
class Shift:
    """One kind of change: a flag's tier, or the outcome (`code` empty), from before to after."""

    code: str
    before: Level
    after: Level

    @property
    def weakening(self) -> bool:
        return _milder(self.before, self.after)

    def __str__(self) -> str:
        if not self.code:
            return (
                f"outcome {_words(self.before, nothing='no flags')} → "
                f"{_words(self.after, nothing='no flags')}"
            )
        return (
            f"{self.code} {_words(self.before, nothing='not raised')} → "
            f"{_words(self.after, nothing='not raised')}"
        )


@dataclass(frozen=True)
class ShiftGroup:
    """How many of one kind of patient (or case) one shift concerns, and which."""

    who: str
    shift: Shift
    count: int
    names: tuple[str, ...]

    @property
    def weakening(self) -> bool:
        return self.shift.weakening

    @property
    def label(self) -> str:
        """For example "3 upcoming patients"."""
        return f"{self.count} {self.who}{'' if self.count == 1 else 's'}"


@dataclass(frozen=True)
class Replay:
    groups: tuple[ShiftGroup, ...]
    cases: int  # test cases run
    submissions: int  # submissions run
    capped: bool  # more submissions matched than `cap`, which were left out
    cap: int
    recent_days: int

    @property
    def weakenings(self) -> tuple[ShiftGroup, ...]:
        return tuple(group for group in self.groups if group.weakening)


def _outcome(levels: Mapping[str, Tier]) -> Level:
    return min(levels.values(), key=lambda tier: tier.severity, default=None)


def _shifts(before: Mapping[str, Tier], after: Mapping[str, Tier]) -> list[Shift]:
    shifts = [
        Shift(code, before.get(code), after.get(code))
        for code in sorted(before.keys() | after.keys())
        if before.get(code) != after.get(code)
    ]
    if _outcome(before) != _outcome(after):
        shifts.append(Shift("", _outcome(before), _outcome(after)))
    return shifts


def _raised(
    definition: Definition,
    answers: Mapping[str, Any],
    submitted_on: datetime.date,
    reference_date: datetime.date | None,
) -> dict[str, Tier]:
    evaluation = evaluate(
        definition, answers, submitted_on=submitted_on, reference_date=reference_date
    )
    return {flag.code: flag.tier for flag in evaluation.flags}


def replay(
    draft: Definition,
    *,
    version: QuestionSetVersion,
    current: Definition,
    today: datetime.date | None = None,
) -> Replay:
    """Run `draft` (the rules of `version`, a draft) against its cases and recent submissions;
    `current` is the definition published now."""
    today = today or timezone.localdate()
    found: dict[tuple[str, Shift], list[str]] = {}

    def note(who: str, name: str, shifts: Iterable[Shift]) -> None:
        for shift in shifts:
            found.setdefault((who, shift), []).append(name)

    try:
        cases = parse_cases(version.test_cases)
    except CaseFileError:
        cases = []  # the page lists what is wrong with them
    for case in cases:
        args = (case.answers, case.submitted_on, case.treatment_date)
        note(TEST_CASES, case.name, _shifts(_raised(current, *args), _raised(draft, *args)))

    # Upcoming patients first, the nearest treatment first; then the most recently sent.
    fields = ("reference", "answers", "submitted_at", "treatment_date")
    of_this_set = Submission.objects.filter(version__question_set_id=version.question_set_id)
    upcoming = of_this_set.filter(treatment_date__gte=today).order_by("treatment_date", "id")
    rows = list(upcoming.values_list(*fields)[: SUBMISSION_CAP + 1])
    if len(rows) <= SUBMISSION_CAP:
        since = timezone.now() - datetime.timedelta(days=RECENT_DAYS)
        recent = (
            of_this_set.filter(submitted_at__gte=since)
            .exclude(treatment_date__gte=today)
            .order_by("-submitted_at", "id")
        )
        rows += recent.values_list(*fields)[: SUBMISSION_CAP + 1 - len(rows)]
    capped = len(rows) > SUBMISSION_CAP
    rows = rows[:SUBMISSION_CAP]
    for reference, answers, submitted_at, treatment_date in rows:
        args = (answers, timezone.localdate(submitted_at), treatment_date)
        who = UPCOMING if treatment_date is not None and treatment_date >= today else RECENT
        note(who, reference, _shifts(_raised(current, *args), _raised(draft, *args)))

    order = {who: position for position, who in enumerate(WHO)}
    groups = sorted(
        (ShiftGroup(who, shift, len(names), tuple(names)) for (who, shift), names in found.items()),
        # Weakenings first; then by who; the flags before the outcome they make.
        key=lambda g: (not g.weakening, order[g.who], not g.shift.code, -g.count, str(g.shift)),
    )
    return Replay(
        tuple(groups),
        cases=len(cases),
        submissions=len(rows),
        capped=capped,
        cap=SUBMISSION_CAP,
        recent_days=RECENT_DAYS,
    )
