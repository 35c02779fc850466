"""The antiviral plan: what a complete one holds, and how it reads against the treatment date.

A plan is recorded, never prescribed (screening specification §4.3–4.4). Its course is held as
days relative to the treatment day ("start_day": -1, "end_day": 3 is from the day before to the
third day after), so that it moves with the appointment; the dates are worked out from the
current treatment date each time the plan is shown. "planned_for" keeps the treatment date the
plan was made against, so that the page can say when a later change of date no longer fits it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from intake.review.forms import COURSE_DAYS, DRUGS, OTHER_DRUG, PROFESSIONAL_BODIES

# What an accepted plan needs, as stored → as the practitioner reads it.
REQUIRED = {
    "consultation_date": "date of the face-to-face consultation",
    "drug": "drug",
    "strength": "strength",
    "dose": "dose",
    "route": "route",
    "frequency": "frequency",
    "quantity": "quantity",
    "start_day": "first day",
    "end_day": "last day",
    "prescriber": "prescriber's name",
    "prescriber_body": "professional body",
    "prescriber_registration": "registration number",
    "issued_on": "date the prescription was issued",
    "issued_by": "name of who issued it",
}
CONFIRMED = {
    "interactions_checked": "that the interaction check was done",
    "kidney_checked": "that kidney function was checked",
    "allergy_checked": "that antiviral allergies were checked",
    "patient_told": "that the patient was told how to take it",
}
_DRUG_NAMES = dict(DRUGS)
_BODIES = dict(PROFESSIONAL_BODIES)


class PlanProblems(ValueError):
    """What is missing or wrong in a plan, by field: {field name: message}."""

    def __init__(self, summary: str, problems: dict[str, str]) -> None:
        super().__init__(summary)
        self.problems = problems


def check(plan: dict[str, Any] | None) -> None:
    """Refuse a plan that is not complete, naming each field that needs putting right."""
    if not plan:
        raise PlanProblems("This flag needs the antiviral plan recorded first.", {})
    if plan.get("offered") is None:
        raise PlanProblems(
            "Record whether antiviral cover was offered.", {"offered": "Choose yes or no."}
        )
    if not plan.get("offered"):
        return
    if plan.get("accepted") is None:
        raise PlanProblems(
            "Record whether the patient accepted antiviral cover.",
            {"accepted": "Choose yes or no."},
        )
    if not plan.get("accepted"):
        if not str(plan.get("risk_discussion") or "").strip():
            raise PlanProblems(
                "Cover was declined: record the discussion of the risk and your decision.",
                {"risk_discussion": "Needed when cover is declined."},
            )
        return
    problems: dict[str, str] = {}
    missing = [label for name, label in REQUIRED.items() if plan.get(name) in (None, "")]
    for name in REQUIRED:
        if plan.get(name) in (None, ""):
            problems[name] = "Needed for an accepted plan."
    if plan.get("drug") == OTHER_DRUG and not str(plan.get("drug_other") or "").strip():
        missing.append("name of the other drug")
        problems["drug_other"] = "Name the drug."
    unconfirmed = [label for name, label in CONFIRMED.items() if not plan.get(name)]
    for name in CONFIRMED:
        if not plan.get(name):
            problems[name] = "Confirm this before recording the plan."
    if missing or unconfirmed:
        parts = []
        if missing:
            parts.append("The antiviral plan needs the " + ", ".join(missing) + ".")
        if unconfirmed:
            parts.append("Confirm " + ", ".join(unconfirmed) + ".")
        raise PlanProblems(" ".join(parts), problems)
    for name in ("start_day", "end_day"):
        if not isinstance(plan[name], int) or isinstance(plan[name], bool):
            raise PlanProblems(
                f"The {REQUIRED[name]} must be a whole number of days.",
                {name: "Enter a whole number of days."},
            )
    for name in ("consultation_date", "issued_on"):
        if _parse(plan[name]) is None:
            raise PlanProblems(f"The {REQUIRED[name]} is not a date.", {name: "Enter a date."})
    if plan["end_day"] < plan["start_day"]:
        raise PlanProblems(
            "The antiviral course cannot end before it starts.",
            {"end_day": "The antiviral course cannot end before it starts."},
        )
    if _parse(plan["issued_on"]) < _parse(plan["consultation_date"]):  # type: ignore[operator]
        raise PlanProblems(
            "The prescription cannot be issued before the face-to-face consultation.",
            {"issued_on": "It cannot be before the date of the face-to-face consultation."},
        )


def drug_name(plan: dict[str, Any]) -> str:
    drug = str(plan.get("drug") or "")
    if drug == OTHER_DRUG:
        return str(plan.get("drug_other") or "another drug")
    return _DRUG_NAMES.get(drug, drug)


def day_label(day: int) -> str:
    """The day relative to treatment as the clinic says it: "day −1", "the treatment day"."""
    if day == 0:
        return "the treatment day"
    return f"day {'+' if day > 0 else '−'}{abs(day)}"


@dataclass
class PlanView:
    """A stored plan as the submission page and its print view show it."""

    plan: dict[str, Any]
    # "from 17 Dec 2026 (day −1) for 5 days, to 21 Dec 2026 (day +3)", or the days alone.
    course: str = ""
    # The treatment date moved since the plan was made (its dates moved with it), in words.
    moved: str = ""
    # What no longer fits the current treatment date, in words, for the practitioner to check.
    warnings: list[str] = field(default_factory=list)
    drug: str = ""
    body: str = ""
    consultation: str = ""
    issued: str = ""

    @property
    def declined(self) -> bool:
        return self.plan.get("accepted") is False


def view(
    plan: dict[str, Any], *, treatment_date: datetime.date | None, today: datetime.date
) -> PlanView:
    """The plan with its course's dates worked out from the current treatment date, and what,
    if anything, no longer fits that date."""
    shown = PlanView(
        plan=plan,
        drug=drug_name(plan),
        body=_BODIES.get(str(plan.get("prescriber_body") or ""), ""),
    )
    for name, attribute in (("consultation_date", "consultation"), ("issued_on", "issued")):
        day = _parse(plan.get(name))
        setattr(shown, attribute, short_date(day) if day else "")
    start, end = plan.get("start_day"), plan.get("end_day")
    if not isinstance(start, int) or not isinstance(end, int):
        if plan.get("needs_reentry"):
            shown.warnings.append(
                "This plan was recorded before the course was kept as days around the "
                "treatment day: please record it again."
            )
        return shown
    shown.course = course(start, end, treatment_date)
    if treatment_date is None:
        shown.warnings.append("No treatment date is booked: the course's dates follow once it is.")
        return shown
    first = treatment_date + datetime.timedelta(days=start)
    planned_for = _parse(plan.get("planned_for"))
    if planned_for is not None and planned_for != treatment_date:
        shown.moved = (
            f"Made for treatment on {short_date(planned_for)}; the treatment date is now "
            f"{short_date(treatment_date)}, and the course's dates have moved with it."
        )
    consultation = _parse(plan.get("consultation_date"))
    if consultation is not None and first < consultation:
        shown.warnings.append(
            f"The course would now start on {short_date(first)}, before the face-to-face "
            f"consultation of {short_date(consultation)} at which it was prescribed: it needs "
            "prescribing again."
        )
    if first < today <= treatment_date:
        shown.warnings.append(
            f"The course would have started on {short_date(first)}, which has passed: check with "
            "the patient and the prescriber."
        )
    return shown


def course(start: int, end: int, treatment_date: datetime.date | None) -> str:
    """The course in words, its dates worked out from the treatment date where one is booked:
    "from 17 Dec 2026 (day −1) for 5 days, to 21 Dec 2026 (day +3)". The plan form's script
    (static/intake/plan-course.js) writes the same words as the days are typed."""
    days = end - start + 1
    length = f"{days} day{'s' if days != 1 else ''}"
    if treatment_date is None:
        return f"from {day_label(start)} for {length}, to {day_label(end)}"
    first = treatment_date + datetime.timedelta(days=start)
    last = treatment_date + datetime.timedelta(days=end)
    return (
        f"from {short_date(first)} ({day_label(start)}) for {length}, "
        f"to {short_date(last)} ({day_label(end)})"
    )


def typed_course(start: Any, end: Any, treatment_date: datetime.date | None) -> str:
    """The course for the plan form, from the days as typed: empty until both are whole numbers
    the form accepts, with the last not before the first."""
    try:
        first, last = int(str(start)), int(str(end))
    except ValueError:
        return ""
    if not -COURSE_DAYS <= first <= last <= COURSE_DAYS:
        return ""
    return course(first, last, treatment_date)


def short_date(day: datetime.date) -> str:
    """As the review page writes dates: "17 Dec 2026"."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _parse(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None
