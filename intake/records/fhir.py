"""HL7 FHIR R4 exports: a question-set version as a `Questionnaire`, a submission as a
`QuestionnaireResponse` pointing at it.

Built as plain dicts (JSON), so the app needs no FHIR library; the tests check the output against
the `fhir.resources` models. A version's canonical URL is the same for every version of a set,
with `version` telling them apart, so a response names its questionnaire as `url|version`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from intake.models import ChangeKind, QuestionSetVersion, Submission
from intake.rules import IMPLICIT_CHOICES, worded

_ITEM_TYPES = {
    "yes_no": "choice",
    "yes_no_not_sure": "choice",
    "single_choice": "choice",
    "multiple_choice": "choice",
    "date": "date",
    "number": "decimal",
    "short_text": "string",
    "long_text": "text",
}
_STATUSES = {"draft": "draft", "published": "active", "retired": "retired"}
_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "="}
# "Not sure" to a date question: no date, and FHIR's reason "asked, but the answer is not known".
_NOT_SURE = {
    "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
    "valueCode": "asked-unknown",
}


def canonical_url(version: QuestionSetVersion) -> str:
    """The set's canonical URL; every version shares it and is told apart by `version`."""
    base = settings.SITE_URL.rstrip("/")
    return f"{base}/fhir/Questionnaire/{version.question_set.slug}"


def _choices(question: Mapping[str, Any]) -> list[dict[str, str]]:
    listed = question.get("choices") or [
        {"code": code, "label": label} for code, label in IMPLICIT_CHOICES.get(question["type"], ())
    ]
    return [{"code": choice["code"], "display": choice["label"]} for choice in listed]


def _enable_when(
    condition: Mapping[str, Any] | None, parameters: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], str] | None:
    """The condition as FHIR enableWhen entries and behaviour, or None if it has no such form.

    FHIR can say "this answer equals / exists / compares with a number", joined all by "all" or
    all by "any". Date windows, "not" and mixed nesting cannot be said; such a follow-up is
    exported without enableWhen, so another system asks it always (the safe side).
    """
    if condition is None:
        return None
    if "all" in condition or "any" in condition:
        behaviour = "all" if "all" in condition else "any"
        entries: list[dict[str, Any]] = []
        for part in condition[behaviour]:
            inner = _enable_when(part, parameters)
            if inner is None or (len(inner[0]) > 1 and inner[1] != behaviour):
                return None
            entries.extend(inner[0])
        return entries, behaviour
    q = condition.get("q")
    if "answered" in condition:
        return [{"question": q, "operator": "exists", "answerBoolean": True}], "all"
    if "is" in condition:
        return [{"question": q, "operator": "=", "answerCoding": {"code": condition["is"]}}], "all"
    for op, behaviour in (("in", "any"), ("any_of", "any"), ("all_of", "all")):
        if op in condition:
            codes = condition[op]
            entries = [
                {"question": q, "operator": "=", "answerCoding": {"code": code}} for code in codes
            ]
            return entries, behaviour
    for op, symbol in _OPERATORS.items():
        if op in condition:
            value = condition[op]
            if isinstance(value, str):
                value = parameters.get(value, {}).get("value")
            return [{"question": q, "operator": symbol, "answerDecimal": value}], "all"
    return None


def _item(question: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    kind = question["type"]
    item: dict[str, Any] = {
        "linkId": question["key"],
        "text": question["text"],
        "type": _ITEM_TYPES[kind],
        "required": bool(question.get("required", True)),
    }
    if kind == "multiple_choice":
        item["repeats"] = True
    if _ITEM_TYPES[kind] == "choice":
        item["answerOption"] = [{"valueCoding": coding} for coding in _choices(question)]
    if question.get("max_length"):
        item["maxLength"] = question["max_length"]
    enable = _enable_when(question.get("show_if"), parameters)
    if enable is not None:
        entries, behaviour = enable
        item["enableWhen"] = entries
        if len(entries) > 1:
            item["enableBehavior"] = behaviour
    if question.get("help_text"):
        item["item"] = [
            {
                "linkId": f"{question['key']}.help",
                "text": question["help_text"],
                "type": "display",
            }
        ]
    return item


def questionnaire(version: QuestionSetVersion) -> dict[str, Any]:
    """The version as a FHIR R4 Questionnaire resource (JSON)."""
    document = worded(version.to_document())  # texts as people read them
    parameters = document.get("parameters") or {}
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": f"{version.question_set.slug}-v{version.number}",
        "url": canonical_url(version),
        "version": str(version.number),
        "name": "".join(part.capitalize() for part in version.question_set.slug.split("-")),
        "title": document["question_set"]["title"],
        "status": _STATUSES[version.status],
        "subjectType": ["Patient"],
        "item": [
            {
                "linkId": section["key"],
                "text": section["title"],
                "type": "group",
                "item": [_item(q, parameters) for q in section["questions"]],
            }
            for section in document["sections"]
            if section["questions"]
        ],
    }
    if document["question_set"].get("description"):
        resource["description"] = document["question_set"]["description"]
    if version.published_at is not None:
        resource["date"] = version.published_at.isoformat()
    return resource


def _answers(question: Mapping[str, Any], value: Any) -> list[dict[str, Any]]:
    kind = question["type"]
    if _ITEM_TYPES[kind] == "choice":
        labels = {choice["code"]: choice["display"] for choice in _choices(question)}
        codes = value if isinstance(value, list) else [value]
        return [
            {"valueCoding": {"code": code, "display": labels.get(code, code)}} for code in codes
        ]
    if kind == "date":
        return [{"valueDate": value}]
    if kind == "number":
        return [{"valueDecimal": value}]
    return [{"valueString": str(value)}]


def questionnaire_response(submission: Submission) -> dict[str, Any]:
    """A submission as a FHIR R4 QuestionnaireResponse to its own version's Questionnaire.

    The answers are as practitioners' corrections leave them (`Submission.corrected_answers`);
    a response with a correction is "amended", FHIR's status for answers changed after the
    response was completed. The re-checks before treatment are answers of their own, not here.
    """
    version = submission.version
    document = worded(version.to_document())  # texts as people read them
    corrections = list(submission.changes.filter(kind=ChangeKind.ANSWER))
    answers = submission.corrected_answers(corrections)
    groups = []
    for section in document["sections"]:
        items = []
        for question in section["questions"]:
            key = question["key"]
            if key not in answers:
                continue
            item: dict[str, Any] = {"linkId": key, "text": question["text"]}
            if question["type"] == "date" and answers[key] == "not_sure":
                item["extension"] = [_NOT_SURE]
            else:
                item["answer"] = _answers(question, answers[key])
            items.append(item)
        if items:
            groups.append({"linkId": section["key"], "text": section["title"], "item": items})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(submission.id),
        "identifier": {"value": submission.reference},
        "questionnaire": f"{canonical_url(version)}|{version.number}",
        "status": "amended" if corrections else "completed",
        "authored": submission.submitted_at.isoformat(),
        "item": groups,
    }
