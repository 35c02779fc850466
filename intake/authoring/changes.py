"""What publishing a draft would change: its differences from the published version, and who is
part-way through the old one.

Both documents are plain question-set JSON (docs/question-sets.md); conditions are compared and
shown in the readable syntax clinic admins write them in.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from intake.models import Draft, Invitation, QuestionSetVersion
from intake.rules import Tier, condition_text, worded


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Change:
    """One part of a version (a question, rule, parameter, section, declaration, advice,
    source, test case, its label and notes, or its question set's title) added, removed or
    changed."""

    kind: str
    key: str
    status: str  # "added", "removed", "changed" or "split" (a question, into others)
    fields: tuple[FieldChange, ...]

    @property
    def weakening(self) -> bool:
        """A clinical weakening: a rule removed, or moved to a milder tier; a flag that no
        longer needs the plan it needed before the submission is cleared."""
        if self.kind == "flag declaration":
            return any(
                field.field == "plan needed" and field.before and not field.after
                for field in self.fields
            )
        if self.kind != "rule":
            return False
        if self.status == "removed":
            return True
        return any(
            field.field == "tier"
            and field.before in Tier
            and field.after in Tier
            and Tier(field.after).severity > Tier(field.before).severity
            for field in self.fields
        )


def _choices(question: Mapping[str, Any]) -> str:
    return "\n".join(f"{c.get('code')}: {c.get('label')}" for c in question.get("choices") or ())


def _settings(question: Mapping[str, Any]) -> str:
    ignored = {"key", "text", "short_name", "help_text", "type", "required", "choices", "show_if"}
    settings = {
        k: v for k, v in question.items() if k not in ignored and v not in (None, False, "")
    }
    return ", ".join(f"{k}: {json.dumps(v)}" for k, v in sorted(settings.items()))


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


type Shown = Callable[[Mapping[str, Any]], str]

QUESTION_FIELDS: tuple[tuple[str, Shown], ...] = (
    ("section", lambda q: str(q.get("_section", ""))),
    ("text", lambda q: str(q.get("text", ""))),
    ("short name", lambda q: str(q.get("short_name", ""))),
    ("help text", lambda q: str(q.get("help_text", ""))),
    ("type", lambda q: str(q.get("type", ""))),
    ("required", lambda q: _yes_no(q.get("required", True))),
    ("choices", _choices),
    ("follow-up condition", lambda q: condition_text(q.get("show_if"))),
    ("settings", _settings),
)
RULE_FIELDS: tuple[tuple[str, Shown], ...] = (
    ("flag", lambda r: str(r.get("flag", ""))),
    ("tier", lambda r: str(r.get("tier", ""))),
    ("temporary", lambda r: _yes_no(r.get("temporary", False))),
    ("condition", lambda r: condition_text(r.get("when"))),
    ("practitioner message", lambda r: str(r.get("practitioner_message", ""))),
    ("patient guidance", lambda r: str(r.get("patient_guidance", ""))),
    ("sources", lambda r: ", ".join(r.get("sources") or ())),
)
PARAMETER_FIELDS: tuple[tuple[str, Shown], ...] = (
    ("value", lambda p: str(p.get("value", ""))),
    ("description", lambda p: str(p.get("description", ""))),
)
FLAG_DECLARATION_FIELDS: tuple[tuple[str, Shown], ...] = (
    ("plan needed", lambda d: str(d.get("plan", ""))),
    ("queue filters", lambda d: ", ".join(d.get("filters") or ())),
)
PLAN_FIELDS: tuple[tuple[str, Shown], ...] = (
    ("answers shown beside it", lambda p: ", ".join(p.get("show_answers") or ())),
)
FILTER_FIELDS: tuple[tuple[str, Shown], ...] = (("label", lambda f: str(f.get("label", ""))),)
QUESTION_SET_FIELDS: tuple[tuple[str, Shown], ...] = (
    ("title", lambda q: str(q.get("title", ""))),
    ("description", lambda q: str(q.get("description", ""))),
)
VERSION_FIELDS: tuple[tuple[str, Shown], ...] = (
    ("label", lambda v: str(v.get("label", ""))),
    ("release notes", lambda v: str(v.get("notes", ""))),
)
ADVICE_FIELDS: tuple[tuple[str, Shown], ...] = (
    ("title", lambda a: str(a.get("title", ""))),
    ("items", lambda a: "\n".join(str(item) for item in a.get("items") or ())),
)
SOURCE_FIELDS: tuple[tuple[str, Shown], ...] = (("description", lambda s: str(s.get("text", ""))),)
CASE_FIELDS: tuple[tuple[str, Shown], ...] = (
    ("dates", lambda c: f"sent {c.get('submitted_on')}, treatment {c.get('treatment_date', '–')}"),
    ("answers", lambda c: json.dumps(c.get("answers"), sort_keys=True, ensure_ascii=False)),
    (
        "expected",
        lambda c: json.dumps(
            {k: c.get(k) for k in ("expect", "outcome", "partial") if k in c},
            sort_keys=True,
            ensure_ascii=False,
        ),
    ),
)
SECTION_FIELDS: tuple[tuple[str, Shown], ...] = (
    ("title", lambda s: str(s.get("title", ""))),
    ("intro", lambda s: str(s.get("intro", ""))),
)


def _questions(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {
        question["key"]: {**question, "_section": section.get("key", "")}
        for section in document.get("sections") or ()
        for question in section.get("questions") or ()
    }


def _compare(
    kind: str,
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    fields: Iterable[tuple[str, Shown]],
) -> list[Change]:
    fields = tuple(fields)
    changes = []
    for key in [*new, *(k for k in old if k not in new)]:
        before, after = old.get(key), new.get(key)
        if before is None or after is None:
            shown = after if after is not None else before
            assert shown is not None  # noqa: S101 - one of the two is there by construction
            rows = tuple(
                FieldChange(name, "" if before is None else value, value if before is None else "")
                for name, read in fields
                if (value := read(shown))
            )
            changes.append(Change(kind, key, "added" if before is None else "removed", rows))
            continue
        rows = tuple(
            FieldChange(name, read(before), read(after))
            for name, read in fields
            if read(before) != read(after)
        )
        if rows:
            changes.append(Change(kind, key, "changed", rows))
    return changes


# The texts people read; each names parameters whose values are written in (rules/wording.py).
WORDING = {
    "section": ("title", "intro"),
    "question": ("text", "short name", "help text", "choices"),
    "rule": ("practitioner message", "patient guidance"),
    "advice": ("title", "items"),
}


def compare_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Sections, questions, rules and parameters added, removed or changed from old to new.

    A text whose wording as people read it changes with a parameter's value, though its own
    words do not, is listed too, as "…, as read"; and a question split into others, as "split".
    """
    changes = [*_splits(old, new), *_changes(old, new)]
    found = {(c.kind, c.key): c for c in changes}
    for reworded in _changes(worded(old), worded(new)):
        before = found.get((reworded.kind, reworded.key))
        if before is None and reworded.status != "changed":
            continue
        listed = {field.field for field in before.fields} if before else set()
        extra = tuple(
            FieldChange(f"{field.field}, as read", field.before, field.after)
            for field in reworded.fields
            if field.field in WORDING.get(reworded.kind, ()) and field.field not in listed
        )
        if not extra:
            continue
        if before is None:
            changes.append(Change(reworded.kind, reworded.key, "changed", extra))
        else:
            changes[changes.index(before)] = Change(
                before.kind, before.key, before.status, before.fields + extra
            )
    return changes


def _splits(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Questions removed whose place two or more added questions take: those the rules that
    read the removed one now read instead, or whose keys extend its key ("sun_tanning" into
    "sun_tanning_before" and "sun_tanning_after"). Answers given to the old question are not
    answers to the new ones, so the approver judges what the split does to the rules."""
    before, after = _questions(old), _questions(new)
    removed = [key for key in before if key not in after]
    added = [key for key in after if key not in before]
    if not removed or not added:
        return []
    old_rules = {r.get("id"): r for r in old.get("rules") or ()}
    new_rules = {r.get("id"): r for r in new.get("rules") or ()}
    splits = []
    for key in removed:
        into = {other for other in added if other.startswith(key + "_")}
        for rule_id, rule in new_rules.items():
            earlier = old_rules.get(rule_id)
            if earlier is not None and key in _reads(earlier.get("when")):
                into |= _reads(rule.get("when")) & set(added)
        if len(into) >= 2:
            ordered = [other for other in added if other in into]
            shown = "\n".join(f"{other}: {after[other].get('text', '')}" for other in ordered)
            field = FieldChange("split into", f"{key}: {before[key].get('text', '')}", shown)
            splits.append(Change("question", key, "split", (field,)))
    return splits


def _reads(condition: Any) -> set[str]:
    """The question keys a condition reads."""
    if isinstance(condition, Mapping):
        found = {condition["q"]} if isinstance(condition.get("q"), str) else set()
        for part in (condition.get("all"), condition.get("any"), [condition.get("not")]):
            for item in part if isinstance(part, list) else ():
                found |= _reads(item)
        return found
    return set()


def _changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    return [
        *_compare(
            "section",
            {s["key"]: s for s in old.get("sections") or ()},
            {s["key"]: s for s in new.get("sections") or ()},
            SECTION_FIELDS,
        ),
        *_compare("question", _questions(old), _questions(new), QUESTION_FIELDS),
        *_compare(
            "rule",
            {r["id"]: r for r in old.get("rules") or ()},
            {r["id"]: r for r in new.get("rules") or ()},
            RULE_FIELDS,
        ),
        *_compare(
            "parameter",
            dict(old.get("parameters") or {}),
            dict(new.get("parameters") or {}),
            PARAMETER_FIELDS,
        ),
        *_declarations(old.get("declarations") or {}, new.get("declarations") or {}),
        *_compare(
            "question set",
            {"": old.get("question_set") or {}},
            {"": new.get("question_set") or {}},
            QUESTION_SET_FIELDS,
        ),
        *_compare(
            "version",
            {"": old.get("version") or {}},
            {"": new.get("version") or {}},
            VERSION_FIELDS,
        ),
        *_compare(
            "advice", _numbered(old.get("advice")), _numbered(new.get("advice")), ADVICE_FIELDS
        ),
        *_compare("source", _sources(old), _sources(new), SOURCE_FIELDS),
    ]


def compare_cases(old: Any, new: Any) -> list[Change]:
    """Test cases added, removed or changed, by name: what the approver is asked to trust."""

    def by_name(cases: Any) -> dict[str, Mapping[str, Any]]:
        listed = cases if isinstance(cases, list) else []
        return {str(c.get("name")): c for c in listed if isinstance(c, Mapping)}

    return _compare("test case", by_name(old), by_name(new), CASE_FIELDS)


def _numbered(items: Any) -> dict[str, Mapping[str, Any]]:
    listed = items if isinstance(items, list) else []
    return {str(n): item for n, item in enumerate(listed, start=1) if isinstance(item, Mapping)}


def _sources(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    sources = document.get("sources")
    return {code: {"text": text} for code, text in (sources or {}).items()}


def _declarations(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """What the question set declares about its flags, plans, filters and treatment."""
    changes = [
        *_compare(
            "flag declaration",
            dict(old.get("flags") or {}),
            dict(new.get("flags") or {}),
            FLAG_DECLARATION_FIELDS,
        ),
        *_compare("plan", dict(old.get("plans") or {}), dict(new.get("plans") or {}), PLAN_FIELDS),
        *_compare(
            "queue filter",
            dict(old.get("filters") or {}),
            dict(new.get("filters") or {}),
            FILTER_FIELDS,
        ),
    ]
    checked = [_eligibility(old), _eligibility(new)]
    if checked[0] != checked[1]:
        status = "added" if not checked[0] else "removed" if not checked[1] else "changed"
        field = FieldChange("rules checked before the health questions", *checked)
        changes.append(Change("declaration", "eligibility", status, (field,)))
    before, after = str(old.get("treatment", "")), str(new.get("treatment", ""))
    if before != after:
        status = "added" if not before else "removed" if not after else "changed"
        changes.append(
            Change("declaration", "treatment", status, (FieldChange("name", before, after),))
        )
    return changes


def _eligibility(declarations: Mapping[str, Any]) -> str:
    """The rules a question set checks at the details step, as the approver reads them."""
    eligibility = declarations.get("eligibility")
    named = eligibility.get("rules") if isinstance(eligibility, Mapping) else None
    return ", ".join(str(rule_id) for rule_id in named) if isinstance(named, list) else ""


@dataclass(frozen=True)
class Impact:
    """Patients part-way through the version a new one replaces; they keep their version."""

    drafts_in_progress: int
    invitations_started: int
    invitations_not_started: int


def publishing_impact(current: QuestionSetVersion, *, now: datetime.datetime) -> Impact:
    """Who is part-way through `current`, the version a publication would replace."""
    drafts = Draft.objects.filter(version=current, submission__isnull=True, expires_at__gt=now)
    open_invitations = Invitation.objects.filter(
        question_set_id=current.question_set_id, expires_at__gt=now, submissions__isnull=True
    )
    started = open_invitations.filter(pk__in=drafts.values("invitation_id")).count()
    return Impact(
        drafts_in_progress=drafts.count(),
        invitations_started=started,
        invitations_not_started=open_invitations.count() - started,
    )
