"""Small question-set documents for the rules engine tests, built with keyword defaults."""

from __future__ import annotations

from datetime import date
from typing import Any

from intake.rules import Definition, evaluate, load_definition


def question(key: str = "smoker", type: str = "yes_no", **fields: Any) -> dict[str, Any]:
    """A question dict; choice types get two choices unless `choices` is given."""
    data: dict[str, Any] = {"key": key, "text": f"Question {key}?", "type": type}
    if type in ("single_choice", "multiple_choice"):
        data["choices"] = [{"code": "one", "label": "One"}, {"code": "two", "label": "Two"}]
    data.update(fields)
    return data


def date_question(key: str = "last_dose", **fields: Any) -> dict[str, Any]:
    """A past-event date question that allows month-and-year and "not sure"."""
    defaults = {"date_range": "past", "allow_month_year": True, "allow_not_sure": True}
    return question(key, "date", **{**defaults, **fields})


def rule(
    id: str = "a_rule",
    when: dict[str, Any] | None = None,
    *,
    flag: str | None = None,
    tier: str = "need_to_know",
    **fields: Any,
) -> dict[str, Any]:
    """A rule dict; the flag code defaults to the rule id."""
    return {
        "id": id,
        "flag": flag or id,
        "tier": tier,
        "when": when if when is not None else {"q": "smoker", "is": "yes"},
        "practitioner_message": f"Practitioner message for {id}.",
        "patient_guidance": f"Patient guidance for {id}.",
        **fields,
    }


def document(
    *,
    questions: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
    parameters: dict[str, int] | None = None,
    sources: dict[str, str] | None = None,
    sections: list[dict[str, Any]] | None = None,
    declarations: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A whole document; `questions` go into one section unless `sections` is given."""
    if sections is None:
        sections = [
            {
                "key": "about_you",
                "title": "About you",
                "questions": questions if questions is not None else [question()],
            }
        ]
    declared = {} if declarations is None else {"declarations": declarations}
    return {
        **declared,
        "format": "consultation-intake/question-set/2",
        "question_set": {"slug": "test-set", "title": "Test set"},
        "version": {"label": "1", "notes": ""},
        "parameters": {
            name: {"value": value, "description": ""} for name, value in (parameters or {}).items()
        },
        "sources": sources if sources is not None else {"IFU": "Instructions for use."},
        "advice": [],
        "sections": sections,
        "rules": rules if rules is not None else [],
    }


def definition(**kwargs: Any) -> Definition:
    """A loaded definition from document(**kwargs)."""
    return load_definition(document(**kwargs))


SUBMITTED = date(2025, 6, 15)


def truth(
    when: dict[str, Any],
    answers: dict[str, Any],
    *,
    questions: list[dict[str, Any]],
    parameters: dict[str, int] | None = None,
    submitted_on: date = SUBMITTED,
    reference_date: date | None = None,
) -> str:
    """ "true", "unknown" or "false": how a one-rule definition's condition came out."""
    loaded = definition(questions=questions, parameters=parameters, rules=[rule("check", when)])
    flags = evaluate(
        loaded, answers, submitted_on=submitted_on, reference_date=reference_date
    ).flags
    if not flags:
        return "false"
    return "unknown" if flags[0].provisional else "true"
