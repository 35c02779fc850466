"""Publishing checks: read a question-set document, collecting every problem, and compile it.

Every check runs and every finding is kept, so an author sees all problems at once. Nothing in
here trusts the document's shape: junk becomes problems, never exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from intake.rules import conditions as c
from intake.rules.answers import is_number, is_whole_number
from intake.rules.definition import (
    CHOICE_TYPES,
    DATE_OF_BIRTH,
    DATE_RANGES,
    DEFAULT_MAX_LENGTH,
    DOCUMENT_FORMAT,
    FORMAT_WITHOUT_DECLARATIONS,
    IMPLICIT_CHOICES,
    LISTED_CHOICE_TYPES,
    PLAN_KINDS,
    QUESTION_TYPES,
    READABLE_FORMATS,
    SHORT_NAME_MAX_LENGTH,
    Advice,
    ChoiceSpec,
    Declarations,
    Definition,
    FlagDeclaration,
    QuestionSpec,
    RuleSpec,
    SectionSpec,
    Tier,
    eligibility_questions,
)
from intake.rules.problems import DefinitionError, Problem
from intake.rules.problems import show_value as _show
from intake.rules.wording import UNIT_COUNTS, Placeholder, placeholders, render

# What a problem concerns: its kind ("rule") and that part's key ("isotretinoin_now").
type _At = tuple[str, str]
_DOCUMENT: _At = ("document", "")
_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")

_DOCUMENT_FIELDS = frozenset(
    (
        "format",
        "question_set",
        "version",
        "parameters",
        "sources",
        "advice",
        "sections",
        "rules",
        "declarations",
    )
)
_DECLARATION_FIELDS = frozenset(
    ("treatment", "plans", "filters", "flags", "eligibility", "asked_again")
)
_ASKED_AGAIN_FIELDS = frozenset(("questions", "treated_needs_on_the_day_check"))
_DECLARATIONS: _At = ("declarations", "")
_SECTION_FIELDS = frozenset(("key", "title", "intro", "questions"))
_QUESTION_FIELDS = frozenset(
    (
        "key",
        "text",
        "short_name",
        "help_text",
        "type",
        "required",
        "choices",
        "show_if",
        "date_range",
        "allow_month_year",
        "allow_not_sure",
        "not_sure_label",
        "min",
        "max",
        "max_length",
    )
)
_RULE_FIELDS = frozenset(
    (
        "id",
        "flag",
        "tier",
        "temporary",
        "when",
        "practitioner_message",
        "patient_guidance",
        "sources",
    )
)
_OPERATOR_TYPES: dict[str, tuple[frozenset[str], str]] = {
    "answered": (frozenset(QUESTION_TYPES), "any"),
    "is": (CHOICE_TYPES, "a yes/no, yes/no/not sure or single-choice"),
    "in": (CHOICE_TYPES, "a yes/no, yes/no/not sure or single-choice"),
    "any_of": (frozenset(("multiple_choice",)), "a multiple-choice"),
    "all_of": (frozenset(("multiple_choice",)), "a multiple-choice"),
    **{op: (frozenset(("number",)), "a number") for op in c.NUMBER_OPERATORS},
    "within_before": (frozenset(("date",)), "a date"),
    "within_after": (frozenset(("date",)), "a date"),
    "after_submission": (frozenset(("date",)), "a date"),
    "age_under": (frozenset(("date",)), "a date"),
}
# Deeper nesting than this is junk, and would otherwise exhaust the recursion limit.
_MAX_DEPTH = 32


def validate(data: Mapping[str, Any]) -> list[Problem]:
    """Run every publishing check on a document and return all the problems found."""
    return _Reader(data, check_wording=True).problems


def load_definition(data: Mapping[str, Any]) -> Definition:
    """Parse and compile a document; raises DefinitionError listing every problem found.

    The names in braces in its texts are not checked: a version published before they were
    is read as it was published (publishing itself runs `validate`, which checks them).
    """
    reader = _Reader(data, check_wording=False)
    if reader.problems or reader.definition is None:
        raise DefinitionError(reader.problems)
    return reader.definition


@dataclass(frozen=True, slots=True)
class _Known:
    """What conditions need to know about a question while the document is read."""

    position: int
    type: str | None
    codes: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Owner:
    """The rule or question a condition belongs to, for problem messages."""

    where: _At
    label: str
    # For a show_if: the position of its own question (conditions may only look back).
    position: int | None = None
    key: str = ""


class _Reader:
    def __init__(self, data: Any, *, check_wording: bool) -> None:
        self.check_wording = check_wording
        self.problems: list[Problem] = []
        self.parameters: dict[str, int] = {}
        # Each parameter a text names, where, and which text, for the check of units.
        self.worded: list[tuple[Placeholder, _At, str]] = []
        self.known: dict[str, _Known] = {}
        self.definition: Definition | None = self._document(data)

    def add(self, code: str, where: _At, message: str) -> None:
        self.problems.append(Problem(code, where[0], where[1], message))

    # The document and its parts

    def _document(self, data: Any) -> Definition | None:
        if not isinstance(data, Mapping):
            self.add(
                "invalid_field",
                _DOCUMENT,
                f"The question set must be a JSON object, not {_show(data)}.",
            )
            return None
        self._unknown_fields(data, _DOCUMENT_FIELDS, _DOCUMENT, "The question set")
        fmt = data.get("format")
        if fmt is None:
            self.add(
                "missing_field",
                _DOCUMENT,
                f'The question set has no "format" ("{DOCUMENT_FORMAT}").',
            )
        elif fmt not in READABLE_FORMATS:
            self.add(
                "invalid_field",
                _DOCUMENT,
                f"The question set's format is {_show(fmt)}; "
                f'only "{DOCUMENT_FORMAT}" (or the earlier "{FORMAT_WITHOUT_DECLARATIONS}") '
                "is understood.",
            )
        slug, title, description = self._question_set(data.get("question_set"))
        label, notes = self._version(data.get("version"))
        self._parameters(data.get("parameters"))
        sources = self._sources(data.get("sources"))
        advice = self._advice(data.get("advice"))
        sections = self._sections(data.get("sections"))
        rules = self._rules(data.get("rules"), sources)
        declarations = self._declarations(data.get("declarations"), fmt, rules, sections)
        self._wording_units(data)
        if self.problems:
            return None
        return Definition(
            slug=slug,
            title=title,
            description=description,
            version_label=label,
            version_notes=notes,
            sections=sections,
            questions={q.key: q for section in sections for q in section.questions},
            rules=rules,
            parameters=dict(self.parameters),
            advice=advice,
            sources=sources,
            declarations=declarations,
        )

    def _question_set(self, data: Any) -> tuple[str, str, str]:
        if data is None:
            self.add("missing_field", _DOCUMENT, 'The question set has no "question_set" object.')
            return "", "", ""
        if not isinstance(data, Mapping):
            self.add(
                "invalid_field", _DOCUMENT, '"question_set" must be an object with slug and title.'
            )
            return "", "", ""
        slug = self._text(data, "slug", _DOCUMENT, "The question set", required=True)
        if slug and not _SLUG.fullmatch(slug):
            self.add(
                "invalid_field",
                _DOCUMENT,
                f"The question set's slug {_show(slug)} may use only letters, digits, - and _.",
            )
        title = self._text(data, "title", _DOCUMENT, "The question set", required=True)
        description = self._text(data, "description", _DOCUMENT, "The question set")
        return slug, title, description

    def _version(self, data: Any) -> tuple[str, str]:
        if data is None:
            return "", ""
        if not isinstance(data, Mapping):
            self.add(
                "invalid_field", _DOCUMENT, '"version" must be an object with label and notes.'
            )
            return "", ""
        label = self._text(data, "label", _DOCUMENT, "The version", empty_ok=True)
        notes = self._text(data, "notes", _DOCUMENT, "The version", empty_ok=True)
        return label, notes

    def _parameters(self, data: Any) -> None:
        if data is None:
            return
        if not isinstance(data, Mapping):
            self.add("invalid_field", _DOCUMENT, '"parameters" must be an object of name to value.')
            return
        for name, spec in data.items():
            where = ("parameter", str(name))
            if not isinstance(name, str) or not _UPPER_SNAKE.fullmatch(name):
                self.add(
                    "invalid_field",
                    where,
                    f"Parameter name {_show(name)} must be UPPER_SNAKE_CASE.",
                )
                if not isinstance(name, str):
                    continue
            if not isinstance(spec, Mapping):
                self.add(
                    "invalid_field",
                    where,
                    f'Parameter "{name}" must be an object with "value" and "description".',
                )
                continue
            self._unknown_fields(spec, {"value", "description"}, where, f'Parameter "{name}"')
            if "value" not in spec:
                self.add("missing_field", where, f'Parameter "{name}" has no "value".')
            elif not is_whole_number(spec["value"]):
                self.add(
                    "invalid_field",
                    where,
                    f'Parameter "{name}" must have a whole-number value, '
                    f"not {_show(spec['value'])}.",
                )
            else:
                self.parameters[name] = spec["value"]
            self._text(spec, "description", where, f'Parameter "{name}"')

    def _sources(self, data: Any) -> dict[str, str]:
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            self.add(
                "invalid_field", _DOCUMENT, '"sources" must be an object of code to description.'
            )
            return {}
        sources: dict[str, str] = {}
        for code, text in data.items():
            if not isinstance(code, str) or not isinstance(text, str):
                self.add(
                    "invalid_field",
                    ("source", str(code)),
                    f"Source {_show(code)} must map a text code to a text description.",
                )
            else:
                sources[code] = text
        return sources

    def _advice(self, data: Any) -> tuple[Advice, ...]:
        if data is None:
            return ()
        if not isinstance(data, list):
            self.add("invalid_field", _DOCUMENT, '"advice" must be a list of {title, items}.')
            return ()
        advice = []
        for number, item in enumerate(data, start=1):
            where = ("advice", str(number))
            if not isinstance(item, Mapping):
                self.add("invalid_field", where, f"Advice {number} must be an object.")
                continue
            self._unknown_fields(item, {"title", "items"}, where, f"Advice {number}")
            title = self._wording(item, "title", where, f"Advice {number}", required=True)
            items = item.get("items", [])
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                self.add(
                    "invalid_field", where, f'Advice {number} must have "items" as a text list.'
                )
                continue
            worded = (self._worded(i, where, f"Advice {number}", "items") for i in items)
            advice.append(Advice(title, tuple(worded)))
        return tuple(advice)

    def _sections(self, data: Any) -> tuple[SectionSpec, ...]:
        if data is None:
            self.add("missing_field", _DOCUMENT, 'The question set has no "sections".')
            return ()
        if not isinstance(data, list) or not data:
            self.add("invalid_field", _DOCUMENT, '"sections" must be a non-empty list.')
            return ()
        # First every question's key, type and codes, so that conditions can tell a forward
        # reference from an unknown question; then the questions themselves.
        raw_questions: list[tuple[str, Any, _At, int]] = []
        section_parts: list[tuple[str, str, str, list[int]]] = []
        seen_sections: set[str] = set()
        for number, section in enumerate(data, start=1):
            where = ("section", str(number))
            if not isinstance(section, Mapping):
                self.add("invalid_field", where, f"Section {number} must be an object.")
                continue
            key = self._key(section, where, f"Section {number}")
            if key:
                where = ("section", key)
                if key in seen_sections:
                    self.add("duplicate_key", where, f'Section key "{key}" is used more than once.')
                seen_sections.add(key)
            label = f'Section "{key}"' if key else f"Section {number}"
            self._unknown_fields(section, _SECTION_FIELDS, where, label)
            title = self._wording(section, "title", where, label, required=True)
            intro = self._wording(section, "intro", where, label)
            questions = section.get("questions")
            indexes: list[int] = []
            if not isinstance(questions, list):
                code = "missing_field" if questions is None else "invalid_field"
                self.add(code, where, f'{label} must have "questions" as a list.')
            else:
                for item in questions:
                    indexes.append(len(raw_questions))
                    raw_questions.append((key, item, where, len(raw_questions)))
            section_parts.append((key, title, intro, indexes))
        keyed = [self._register_question(*entry) for entry in raw_questions]
        built: list[QuestionSpec | None] = [
            self._question(item, key, section_key, position) if key is not None else None
            for (section_key, item, _, position), key in zip(raw_questions, keyed, strict=True)
        ]
        sections = []
        for key, title, intro, indexes in section_parts:
            questions_in = tuple(q for i in indexes if (q := built[i]) is not None)
            sections.append(SectionSpec(key, title, intro, questions_in))
        return tuple(sections)

    def _register_question(
        self, section_key: str, item: Any, section_where: _At, position: int
    ) -> str | None:
        where = ("question", f"{position + 1} of {_shown(section_where)}")
        if not isinstance(item, Mapping):
            self.add(
                "invalid_field",
                where,
                f"Question {position + 1} (in {_shown(section_where)}) must be an object.",
            )
            return None
        key = self._key(item, where, f"Question {position + 1} (in {_shown(section_where)})")
        if not key:
            return None
        if key in self.known:
            self.add(
                "duplicate_key", ("question", key), f'Question key "{key}" is used more than once.'
            )
            return None
        kind = item.get("type")
        if not isinstance(kind, str):
            kind = None
        if kind in IMPLICIT_CHOICES:
            codes = frozenset(code for code, _ in IMPLICIT_CHOICES[kind])
        else:
            raw = item.get("choices")
            codes = frozenset(
                choice["code"]
                for choice in (raw if isinstance(raw, list) else [])
                if isinstance(choice, Mapping) and isinstance(choice.get("code"), str)
            )
        self.known[key] = _Known(position, kind if kind in QUESTION_TYPES else None, codes)
        return key

    def _question(
        self, item: Mapping[str, Any], key: str, section_key: str, position: int
    ) -> QuestionSpec | None:
        where = ("question", key)
        label = f'Question "{key}"'
        before = len(self.problems)
        self._unknown_fields(item, _QUESTION_FIELDS, where, label)
        text = self._wording(item, "text", where, label, required=True)
        short_name = self._short_name(item, where, label)
        help_text = self._wording(item, "help_text", where, label)
        kind = item.get("type")
        if kind is None:
            self.add("missing_field", where, f'{label} has no "type".')
        elif kind not in QUESTION_TYPES:
            self.add(
                "invalid_field",
                where,
                f"{label} has unknown type {_show(kind)}; use one of {', '.join(QUESTION_TYPES)}.",
            )
        kind_name = kind if isinstance(kind, str) and kind in QUESTION_TYPES else ""
        required = self._flag(item, "required", where, label, default=True)
        choices = self._choices(item, kind_name, where, label)
        options: dict[str, Any] = {}
        if kind_name == "date":
            date_range = item.get("date_range", "any")
            if date_range not in DATE_RANGES:
                self.add(
                    "invalid_field",
                    where,
                    f'{label} has date_range {_show(date_range)}; use "past", "future" or "any".',
                )
            else:
                options["date_range"] = date_range
            options["allow_month_year"] = self._flag(item, "allow_month_year", where, label)
            options["allow_not_sure"] = self._flag(item, "allow_not_sure", where, label)
            options["not_sure_label"] = self._wording(item, "not_sure_label", where, label)
        elif kind_name == "number":
            bounds = {}
            for name in ("min", "max"):
                value = item.get(name)
                if value is not None and not is_number(value):
                    self.add(
                        "invalid_field",
                        where,
                        f'{label} has a non-numeric "{name}": {_show(value)}.',
                    )
                else:
                    bounds[name] = value
            low, high = bounds.get("min"), bounds.get("max")
            if low is not None and high is not None and low > high:
                self.add("invalid_field", where, f"{label} has min {low} greater than max {high}.")
            options.update(bounds)
        elif kind_name in DEFAULT_MAX_LENGTH:
            max_length = item.get("max_length", DEFAULT_MAX_LENGTH[kind_name])
            if max_length is None:
                max_length = DEFAULT_MAX_LENGTH[kind_name]
            if not is_whole_number(max_length) or max_length < 1:
                self.add(
                    "invalid_field",
                    where,
                    f"{label} has max_length {_show(max_length)}; "
                    "it must be a positive whole number.",
                )
            else:
                options["max_length"] = max_length
        show_if_raw = item.get("show_if")
        show_if = None
        if show_if_raw is not None:
            owner = _Owner(where, f'The show_if of question "{key}"', position, key)
            show_if = self._condition(show_if_raw, owner)
        if len(self.problems) > before:
            return None
        return QuestionSpec(
            key=key,
            text=text,
            type=kind_name,
            section_key=section_key,
            position=position,
            help_text=help_text,
            required=required,
            choices=choices,
            show_if=show_if,
            choice_codes=frozenset(choice.code for choice in choices),
            short_name=short_name,
            **options,
        )

    def _short_name(self, item: Mapping[str, Any], where: _At, label: str) -> str:
        """The words that complete the question's error messages ("Select whether you smoke");
        how they read is checked at publishing, as the other texts' parameters are."""
        name = self._wording(item, "short_name", where, label)
        if not self.check_wording or not name:
            return name
        problem = ""
        if not name.strip():
            problem = "is only spaces; leave it out to name the question by its text"
        elif "\n" in name or "\r" in name:
            problem = "runs over more than one line; it completes a one-line error message"
        elif len(name) > SHORT_NAME_MAX_LENGTH:
            problem = (
                f"is {len(name)} characters long as patients read it; at most "
                f"{SHORT_NAME_MAX_LENGTH} are allowed"
            )
        elif re.match(r"(select|enter)\b", name.strip(), re.IGNORECASE):
            problem = (
                'starts with "Select" or "Enter", which the message adds itself: write only '
                'the words that follow, for example "whether you smoke"'
            )
        elif name.rstrip().endswith((".", "?", "!", ":")):
            problem = (
                "ends in a punctuation mark; it is the end of a sentence such as "
                '"Select whether you smoke", so leave the full stop or question mark out'
            )
        elif name != name.strip():
            problem = "starts or ends with spaces"
        if problem:
            self.add(
                "invalid_short_name",
                where,
                f'{label} has a "short_name" {_show(name)} that {problem}.',
            )
        return name

    def _choices(
        self, item: Mapping[str, Any], kind: str, where: _At, label: str
    ) -> tuple[ChoiceSpec, ...]:
        raw = item.get("choices")
        if kind not in LISTED_CHOICE_TYPES:
            if raw:
                self.add(
                    "invalid_field",
                    where,
                    f"{label} is a {kind or 'typeless'} question and cannot list its own choices.",
                )
            return tuple(ChoiceSpec(code, text) for code, text in IMPLICIT_CHOICES.get(kind, ()))
        if raw is None:
            self.add("missing_field", where, f"{label} is a {kind} question with no choices.")
            return ()
        if not isinstance(raw, list) or not raw:
            self.add("invalid_field", where, f'{label} must have "choices" as a non-empty list.')
            return ()
        choices = []
        seen: set[str] = set()
        of = "q" + label[1:]
        for number, choice in enumerate(raw, start=1):
            if not isinstance(choice, Mapping):
                self.add("invalid_field", where, f"Choice {number} of {of} must be an object.")
                continue
            choice_label = f"Choice {number} of {of}"
            code = self._key(choice, where, choice_label, field="code")
            self._unknown_fields(choice, {"code", "label"}, where, choice_label)
            text = self._wording(choice, "label", where, choice_label, required=True)
            if not code:
                continue
            if code in seen:
                self.add(
                    "duplicate_code",
                    where,
                    f'{label} lists choice code "{code}" more than once.',
                )
                continue
            seen.add(code)
            choices.append(ChoiceSpec(code, text))
        return tuple(choices)

    def _rules(self, data: Any, sources: Mapping[str, str]) -> tuple[RuleSpec, ...]:
        if data is None:
            self.add("missing_field", _DOCUMENT, 'The question set has no "rules" list.')
            return ()
        if not isinstance(data, list):
            self.add("invalid_field", _DOCUMENT, '"rules" must be a list.')
            return ()
        rules = []
        seen: set[str] = set()
        for position, item in enumerate(data):
            where = ("rule", str(position + 1))
            if not isinstance(item, Mapping):
                self.add("invalid_field", where, f"Rule {position + 1} must be an object.")
                continue
            before = len(self.problems)
            rule_id = self._key(item, where, f"Rule {position + 1}", field="id")
            if rule_id:
                where = ("rule", rule_id)
                if rule_id in seen:
                    self.add(
                        "duplicate_rule", where, f'Rule id "{rule_id}" is used more than once.'
                    )
                seen.add(rule_id)
            label = f'Rule "{rule_id}"' if rule_id else f"Rule {position + 1}"
            self._unknown_fields(item, _RULE_FIELDS, where, label)
            flag = self._key(item, where, label, field="flag")
            tier = item.get("tier")
            if tier is None:
                self.add("missing_field", where, f'{label} has no "tier".')
            elif tier not in Tier:
                self.add(
                    "invalid_field",
                    where,
                    f"{label} has unknown tier {_show(tier)}; use one of {', '.join(Tier)}.",
                )
            temporary = self._flag(item, "temporary", where, label)
            when_raw = item.get("when")
            when = None
            if when_raw is None:
                self.add("missing_field", where, f'{label} has no condition ("when").')
            else:
                when = self._condition(when_raw, _Owner(where, label))
            message = self._wording(item, "practitioner_message", where, label, required=True)
            guidance = self._wording(item, "patient_guidance", where, label, empty_ok=True)
            cited = item.get("sources", [])
            if cited is None:
                cited = []
            if not isinstance(cited, list) or not all(isinstance(s, str) for s in cited):
                self.add("invalid_field", where, f'{label} must have "sources" as a list of codes.')
                cited = []
            for code in cited:
                if code not in sources:
                    self.add("unknown_source", where, f'{label} cites unknown source "{code}".')
            if len(self.problems) > before or when is None:
                continue
            rules.append(
                RuleSpec(
                    id=rule_id,
                    flag=flag,
                    tier=Tier(str(tier)),
                    temporary=temporary,
                    when=when,
                    practitioner_message=message,
                    patient_guidance=guidance,
                    sources=tuple(cited),
                    position=position,
                )
            )
        return tuple(rules)

    # Declarations: behaviour beside the questions and rules (format 2)

    def _declarations(
        self,
        data: Any,
        fmt: Any,
        rules: tuple[RuleSpec, ...],
        sections: tuple[SectionSpec, ...],
    ) -> Declarations:
        if data is None:
            return Declarations()
        if fmt == FORMAT_WITHOUT_DECLARATIONS:
            self.add(
                "invalid_field",
                _DECLARATIONS,
                f'"declarations" need format "{DOCUMENT_FORMAT}"; this document is of '
                f'format "{fmt}".',
            )
            return Declarations()
        if not isinstance(data, Mapping):
            self.add("invalid_field", _DECLARATIONS, '"declarations" must be an object.')
            return Declarations()
        self._unknown_fields(data, _DECLARATION_FIELDS, _DECLARATIONS, '"declarations"')
        treatment = self._text(data, "treatment", _DECLARATIONS, "The declarations")
        plans = self._declared_plans(data.get("plans"))
        filters = self._declared_filters(data.get("filters"))
        flags = self._declared_flags(data.get("flags"), {rule.flag for rule in rules}, filters)
        eligibility = self._declared_eligibility(data.get("eligibility"), rules, sections)
        asked_again, treated_needs_check = self._declared_asked_again(
            data.get("asked_again"), sections
        )
        return Declarations(
            treatment=treatment,
            plans=plans,
            filters=filters,
            flags=flags,
            eligibility=eligibility,
            asked_again=asked_again,
            treated_needs_check=treated_needs_check,
        )

    def _declared_asked_again(
        self, data: Any, sections: tuple[SectionSpec, ...]
    ) -> tuple[tuple[str, ...], bool]:
        """The questions asked again before treatment, and whether "treated" needs the on-the-day
        check. A follow-up may be named only with a question that reveals it: asked alone, it
        would be asked of patients it does not concern."""
        where: _At = ("declarations", "asked_again")
        spec = self._object(
            data, "asked_again", 'an object with "questions" and "treated_needs_on_the_day_check"'
        )
        self._unknown_fields(spec, _ASKED_AGAIN_FIELDS, where, '"declarations.asked_again"')
        needs_check = spec.get("treated_needs_on_the_day_check", True)
        if not isinstance(needs_check, bool):
            self.add(
                "invalid_field",
                where,
                '"declarations.asked_again" must have "treated_needs_on_the_day_check" as true '
                "or false.",
            )
            needs_check = True
        named = spec.get("questions", [])
        if not isinstance(named, list) or not all(isinstance(n, str) for n in named):
            self.add(
                "invalid_field",
                where,
                '"declarations.asked_again" must have "questions" as a list of question keys.',
            )
            return (), needs_check
        questions = {q.key: q for section in sections for q in section.questions}
        for key in named:
            label = f'The questions asked again name "{key}"'
            question = questions.get(key)
            if question is None:
                self.add(
                    "unknown_question", where, f"{label}, which the question set does not have."
                )
                continue
            if key == DATE_OF_BIRTH:
                self.add(
                    "invalid_field",
                    where,
                    f"{label}: the date of birth does not change, so it is not asked again.",
                )
            if question.show_if is not None:
                missing = sorted(question.show_if.question_keys() - set(named))
                if missing:
                    self.add(
                        "invalid_field",
                        where,
                        f"{label}, a follow-up; the question that reveals it "
                        f"({', '.join(repr(m) for m in missing)}) must be asked again too "
                        "(a re-asked question's follow-ups are asked with it).",
                    )
        if len(set(named)) != len(named):
            self.add(
                "invalid_field",
                where,
                '"declarations.asked_again" names a question more than once.',
            )
        return tuple(dict.fromkeys(k for k in named if k in questions)), needs_check

    def _declared_eligibility(
        self, data: Any, rules: tuple[RuleSpec, ...], sections: tuple[SectionSpec, ...]
    ) -> tuple[str, ...]:
        """The rules checked before any health question: each not possible, and reading only
        dates of birth that are always asked, the one thing known by then."""
        where: _At = ("declarations", "eligibility")
        spec = self._object(data, "eligibility", 'an object with "rules"')
        self._unknown_fields(spec, {"rules"}, where, '"declarations.eligibility"')
        named = spec.get("rules", [])
        if not isinstance(named, list) or not all(isinstance(n, str) for n in named):
            self.add(
                "invalid_field",
                where,
                '"declarations.eligibility" must have "rules" as a list of rule ids.',
            )
            return ()
        by_id = {rule.id: rule for rule in rules}
        questions = {q.key: q for section in sections for q in section.questions}
        allowed = eligibility_questions(questions, rules)
        for rule_id in named:
            label = f'The eligibility check names rule "{rule_id}"'
            rule = by_id.get(rule_id)
            if rule is None:
                self.add("unknown_rule", where, f"{label}, which the question set does not have.")
                continue
            if rule.tier != Tier.NOT_POSSIBLE:
                self.add(
                    "invalid_eligibility",
                    where,
                    f"{label}, whose tier is {rule.tier}: only a {Tier.NOT_POSSIBLE} rule stops "
                    "a patient before the health questions.",
                )
            for key in sorted(rule.when.question_keys() - allowed):
                self.add(
                    "invalid_eligibility",
                    where,
                    f'{label}, which reads question "{key}": an eligibility rule may read only '
                    f'the date of birth ("{DATE_OF_BIRTH}", always asked, with an "age_under" '
                    "condition), because it is checked with the patient's details, before the "
                    "other questions.",
                )
        if len(set(named)) != len(named):
            self.add(
                "invalid_field", where, '"declarations.eligibility" names a rule more than once.'
            )
        return tuple(dict.fromkeys(named))

    def _object(self, data: Any, name: str, shape: str) -> Mapping[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            self.add(
                "invalid_field", ("declarations", name), f'"declarations.{name}" must be {shape}.'
            )
            return {}
        return data

    def _plan_kind(self, kind: Any, where: _At, label: str) -> bool:
        if isinstance(kind, str) and kind in PLAN_KINDS:
            return True
        self.add(
            "unknown_plan",
            where,
            f"{label} names plan kind {_show(kind)}; the kinds are: {', '.join(PLAN_KINDS)}.",
        )
        return False

    def _declared_plans(self, data: Any) -> dict[str, tuple[str, ...]]:
        plans: dict[str, tuple[str, ...]] = {}
        for kind, spec in self._object(data, "plans", "an object of plan kind to plan").items():
            where = ("declarations", f"plans.{kind}")
            label = f"Plan {_show(kind)}"
            if not self._plan_kind(kind, where, label):
                continue
            if not isinstance(spec, Mapping):
                self.add("invalid_field", where, f'{label} must be an object with "show_answers".')
                continue
            self._unknown_fields(spec, {"show_answers"}, where, label)
            keys = spec.get("show_answers", [])
            if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
                self.add("invalid_field", where, f'{label} must have "show_answers" as a key list.')
                continue
            for key in keys:
                if key not in self.known:
                    self.add(
                        "unknown_question",
                        where,
                        f'{label} shows the answer to unknown question "{key}".',
                    )
            plans[kind] = tuple(keys)
        return plans

    def _declared_filters(self, data: Any) -> dict[str, str]:
        filters: dict[str, str] = {}
        for key, spec in self._object(data, "filters", "an object of key to filter").items():
            where = ("declarations", f"filters.{key}")
            label = f"Filter {_show(key)}"
            if not isinstance(key, str) or not _SNAKE.fullmatch(key):
                self.add("invalid_field", where, f"{label} must have a snake_case key.")
                continue
            if not isinstance(spec, Mapping):
                self.add("invalid_field", where, f'{label} must be an object with a "label".')
                continue
            self._unknown_fields(spec, {"label"}, where, label)
            text = self._text(spec, "label", where, label, required=True)
            if text:
                filters[key] = text
        return filters

    def _declared_flags(
        self, data: Any, raised: set[str], filters: Mapping[str, str]
    ) -> dict[str, FlagDeclaration]:
        flags: dict[str, FlagDeclaration] = {}
        for code, spec in self._object(
            data, "flags", "an object of flag code to what it needs"
        ).items():
            where = ("declarations", f"flags.{code}")
            label = f"The declaration of flag {_show(code)}"
            if code not in raised:
                self.add("unknown_flag", where, f"{label} names a flag no rule raises.")
                continue
            if not isinstance(spec, Mapping):
                self.add("invalid_field", where, f"{label} must be an object.")
                continue
            self._unknown_fields(spec, {"plan", "filters"}, where, label)
            plan = spec.get("plan", "")
            if plan != "" and not self._plan_kind(plan, where, label):
                plan = ""
            named = spec.get("filters", [])
            if not isinstance(named, list) or not all(isinstance(n, str) for n in named):
                self.add("invalid_field", where, f'{label} must have "filters" as a key list.')
                named = []
            for name in named:
                if name not in filters:
                    self.add(
                        "unknown_filter",
                        where,
                        f'{label} names filter "{name}", which "declarations.filters" does not '
                        "declare.",
                    )
            flags[code] = FlagDeclaration(plan=plan, filters=tuple(named))
        return flags

    # Conditions

    def _condition(self, data: Any, owner: _Owner, depth: int = 0) -> c.Condition | None:
        """Compile one condition, or return None after reporting why it cannot be."""
        if depth > _MAX_DEPTH:
            self.add(
                "invalid_field",
                owner.where,
                f"{owner.label} has conditions nested more than {_MAX_DEPTH} deep.",
            )
            return None
        if not isinstance(data, Mapping):
            self.add(
                "invalid_field",
                owner.where,
                f"{owner.label} has a condition that is not an object: {_show(data)}.",
            )
            return None
        combinators = [key for key in ("all", "any", "not") if key in data]
        if combinators:
            return self._combination(data, combinators, owner, depth)
        if "q" not in data:
            self.add(
                "missing_field",
                owner.where,
                f'{owner.label} has a condition with neither "q" nor "all", "any" or "not": '
                f"{_show(dict(data))}.",
            )
            return None
        before = len(self.problems)
        q = data["q"]
        operators = [key for key in data if key in _OPERATOR_TYPES]
        for key in data:
            if key != "q" and key not in _OPERATOR_TYPES:
                self.add(
                    "invalid_field",
                    owner.where,
                    f"{owner.label} has a condition with unknown key {_show(key)}.",
                )
        if not isinstance(q, str):
            self.add(
                "invalid_field",
                owner.where,
                f'{owner.label} has a condition whose "q" is not a question key: {_show(q)}.',
            )
            return None
        if not operators:
            if len(self.problems) > before:
                return None  # an unknown key is most likely the comparison, misspelt
            self.add(
                "missing_field",
                owner.where,
                f'{owner.label} has a condition on question "{q}" with no comparison '
                f"(one of {', '.join(_OPERATOR_TYPES)}).",
            )
            return None
        if len(operators) > 1:
            self.add(
                "invalid_field",
                owner.where,
                f'{owner.label} has a condition on question "{q}" with several comparisons '
                f'({", ".join(operators)}); combine them with "all".',
            )
            return None
        op = operators[0]
        known = self._referenced(q, owner)
        if known is not None and known.type is not None:
            allowed, needed = _OPERATOR_TYPES[op]
            if known.type not in allowed:
                self.add(
                    "type_mismatch",
                    owner.where,
                    f'{owner.label} uses "{op}" on question "{q}", which is a {known.type} '
                    f'question; "{op}" needs {needed} question.',
                )
                known = None
        node = self._leaf(q, op, data[op], known, owner)
        return node if len(self.problems) == before else None

    def _combination(
        self, data: Mapping[str, Any], combinators: list[str], owner: _Owner, depth: int
    ) -> c.Condition | None:
        kind = combinators[0]
        if len(data) != 1:
            others = ", ".join(_show(key) for key in data if key != kind)
            self.add(
                "invalid_field",
                owner.where,
                f'{owner.label} has an "{kind}" condition with other keys beside it ({others}).',
            )
            return None
        value = data[kind]
        if kind == "not":
            part = self._condition(value, owner, depth + 1)
            return None if part is None else c.Not(part)
        if not isinstance(value, list) or not value:
            self.add(
                "invalid_field",
                owner.where,
                f'{owner.label} has an "{kind}" condition that is not a non-empty list.',
            )
            return None
        parts = [self._condition(part, owner, depth + 1) for part in value]
        compiled = tuple(part for part in parts if part is not None)
        if len(compiled) != len(parts):
            return None
        return c.And(compiled) if kind == "all" else c.Or(compiled)

    def _referenced(self, q: str, owner: _Owner) -> _Known | None:
        known = self.known.get(q)
        if known is None:
            self.add(
                "unknown_question", owner.where, f'{owner.label} refers to unknown question "{q}".'
            )
            return None
        if owner.position is not None:
            if q == owner.key:
                self.add(
                    "self_reference", owner.where, f"{owner.label} refers to its own question."
                )
                return None
            if known.position > owner.position:
                self.add(
                    "forward_reference",
                    owner.where,
                    f'{owner.label} refers to question "{q}", which comes later; '
                    "a follow-up may only depend on earlier questions.",
                )
                return None
        return known

    def _leaf(
        self, q: str, op: str, value: Any, known: _Known | None, owner: _Owner
    ) -> c.Condition | None:
        if op in ("answered", "after_submission"):
            if value is not True:
                self.add(
                    "invalid_field",
                    owner.where,
                    f'{owner.label} has "{op}": {_show(value)}; it must be true '
                    '(use "not" for the opposite).',
                )
                return None
            return c.Answered(q) if op == "answered" else c.AfterSubmission(q)
        if op in ("is", "in", "any_of", "all_of"):
            codes = [value] if op == "is" else value
            if op == "is" and not isinstance(value, str):
                self.add(
                    "invalid_field",
                    owner.where,
                    f'{owner.label} has "is": {_show(value)}; it must be one choice code.',
                )
                return None
            if (
                not isinstance(codes, list)
                or not codes
                or not all(isinstance(code, str) for code in codes)
            ):
                self.add(
                    "invalid_field",
                    owner.where,
                    f'{owner.label} has "{op}": {_show(value)}; it must be a non-empty list '
                    "of choice codes.",
                )
                return None
            if known is not None:
                for code in codes:
                    if code not in known.codes:
                        self.add(
                            "unknown_choice",
                            owner.where,
                            f'{owner.label} refers to unknown choice "{code}" of question "{q}".',
                        )
            codeset = frozenset(codes)
            if op in ("is", "in"):
                return c.CodeIn(q, codeset)
            return c.AnyOf(q, codeset) if op == "any_of" else c.AllOf(q, codeset)
        if op in c.NUMBER_OPERATORS:
            number = self._number(value, op, owner, whole=False)
            if number is None:
                return None
            return c.Compare(q, op, number, c.NUMBER_OPERATORS[op])
        if op == "age_under":
            years = self._number(value, op, owner, whole=True)
            return None if years is None else c.AgeUnder(q, int(years))
        # within_before / within_after
        if (
            not isinstance(value, Mapping)
            or len(value) != 1
            or not (set(value) <= {"days", "months"})
        ):
            self.add(
                "invalid_field",
                owner.where,
                f'{owner.label} has "{op}": {_show(value)}; it needs exactly one of '
                '{"days": N} or {"months": N}.',
            )
            return None
        unit, raw = next(iter(value.items()))
        count = self._number(raw, f"{op}.{unit}", owner, whole=True)
        if count is None:
            return None
        n = int(count)
        if op == "within_before":
            return c.WithinDaysBefore(q, n) if unit == "days" else c.WithinMonthsBefore(q, n)
        return c.WithinDaysAfter(q, n) if unit == "days" else c.WithinMonthsAfter(q, n)

    def _number(self, value: Any, op: str, owner: _Owner, *, whole: bool) -> c.Number | None:
        """A literal or a parameter's value; whole counts (days, months, years) must be >= 0."""
        if isinstance(value, str):
            if value not in self.parameters:
                self.add(
                    "unknown_parameter",
                    owner.where,
                    f'{owner.label} refers to unknown parameter "{value}".',
                )
                return None
            resolved: c.Number = self.parameters[value]
            described = f'parameter "{value}" (= {resolved})'
        elif (whole and is_whole_number(value)) or (not whole and is_number(value)):
            resolved = value
            described = str(value)
        else:
            kind = "a whole number" if whole else "a number"
            self.add(
                "invalid_field",
                owner.where,
                f'{owner.label} has "{op}": {_show(value)}; it must be {kind} or a parameter name.',
            )
            return None
        if whole and resolved < 0:
            self.add(
                "invalid_field",
                owner.where,
                f'{owner.label} has "{op}": {described}; a count must be 0 or more.',
            )
            return None
        return resolved

    # Small field readers

    def _unknown_fields(
        self, data: Mapping[str, Any], allowed: frozenset[str] | set[str], where: _At, label: str
    ) -> None:
        for key in data:
            if key not in allowed:
                self.add("invalid_field", where, f"{label} has unknown field {_show(key)}.")

    def _key(self, data: Mapping[str, Any], where: _At, label: str, *, field: str = "key") -> str:
        value = data.get(field)
        if value is None:
            self.add("missing_field", where, f'{label} has no "{field}".')
            return ""
        if not isinstance(value, str) or not _SNAKE.fullmatch(value):
            self.add(
                "invalid_field",
                where,
                f'{label} has "{field}" {_show(value)}; it must be lower-case snake_case.',
            )
            return ""
        return value

    def _text(
        self,
        data: Mapping[str, Any],
        field: str,
        where: _At,
        label: str,
        *,
        required: bool = False,
        empty_ok: bool = False,
    ) -> str:
        value = data.get(field)
        if value is None:
            if required:
                self.add("missing_field", where, f'{label} has no "{field}".')
            return ""
        if not isinstance(value, str):
            self.add("invalid_field", where, f'{label} has a non-text "{field}": {_show(value)}.')
            return ""
        if required and not value.strip() and not empty_ok:
            self.add("missing_field", where, f'{label} has an empty "{field}".')
        return value

    def _wording(
        self,
        data: Mapping[str, Any],
        field: str,
        where: _At,
        label: str,
        *,
        required: bool = False,
        empty_ok: bool = False,
    ) -> str:
        """A text people read, with the parameters it names written in (wording.py)."""
        text = self._text(data, field, where, label, required=required, empty_ok=empty_ok)
        return self._worded(text, where, label, field)

    def _worded(self, text: str, where: _At, label: str, field: str) -> str:
        if not self.check_wording:
            return render(text, self.parameters)
        named, wrong = placeholders(text)
        named = list(dict.fromkeys(named))  # each named once, however often the text names it
        for part in wrong:
            self.add(
                "invalid_wording",
                where,
                f'{label} has {_show(part)} in its "{field}": braces name a parameter, for '
                "example {ISOTRETINOIN_BLOCK_MONTHS months}.",
            )
        for placeholder in named:
            value = self.parameters.get(placeholder.name)
            if value is None:
                self.add(
                    "unknown_parameter",
                    where,
                    f'{label} names the unknown parameter "{placeholder.name}" in its "{field}".',
                )
            elif placeholder.unit == "week" and value % 7:
                self.add(
                    "invalid_wording",
                    where,
                    f'{label} gives "{placeholder.name}" in weeks in its "{field}", but its '
                    f"value, {value} days, is not a whole number of weeks: write "
                    f"{{{placeholder.name} days}}.",
                )
            self.worded.append((placeholder, where, f'{label}\'s "{field}"'))
        return render(text, self.parameters)

    def _wording_units(self, data: Mapping[str, Any]) -> None:
        """Each parameter a text gives with a unit is counted in that unit by its conditions."""
        counted: dict[str, set[str]] = {}

        # Iteratively: a condition may be nested deeper than Python's stack.
        nodes: list[Any] = [data.get("rules"), data.get("sections")]
        while nodes:
            node = nodes.pop()
            if isinstance(node, Mapping):
                for key, value in node.items():
                    unit = {"days": "days", "months": "months", "age_under": "years"}.get(key)
                    if unit and isinstance(value, str):
                        counted.setdefault(value, set()).add(unit)
                    nodes.append(value)
            elif isinstance(node, list):
                nodes.extend(node)
        for placeholder, where, label in self.worded:
            # A parameter no condition uses counts what its name says it does.
            units = counted.get(placeholder.name) or {
                unit
                for suffix, unit in (("_DAYS", "days"), ("_MONTHS", "months"), ("_YEARS", "years"))
                if placeholder.name.endswith(suffix)
            }
            if placeholder.unit and units and UNIT_COUNTS[placeholder.unit] not in units:
                self.add(
                    "invalid_wording",
                    where,
                    f'{label} gives "{placeholder.name}" in {placeholder.unit}s, but it counts '
                    f"{', '.join(sorted(units))}"
                    + ("" if placeholder.name in counted else " (as its name says)")
                    + ".",
                )

    def _flag(
        self, data: Mapping[str, Any], field: str, where: _At, label: str, *, default: bool = False
    ) -> bool:
        value = data.get(field, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(
                "invalid_field", where, f'{label} has "{field}": {_show(value)}; use true or false.'
            )
            return default
        return value


def _shown(where: _At) -> str:
    """A part as a message names it: "section about_you"."""
    return f"{where[0]} {where[1]}"
