"""Parameters named in the texts people read, so that a changed value changes every text.

A question, its short name, its hint, a choice, a section, a rule's messages or an advice item
may name a parameter in braces instead of stating its value:
- `{ISOTRETINOIN_BLOCK_MONTHS}` is the value alone: "6";
- `{ISOTRETINOIN_BLOCK_MONTHS months}` is the value with its unit: "6 months" ("1 month" for 1);
  the unit is day, week, month or year, singular or plural as the text likes;
- `weeks` counts a parameter held in days in weeks: `{TOXIN_BEFORE_DAYS weeks}` is "4 weeks"
  for 28, and publishing refuses a value that is not a whole number of weeks.
Publishing checks that each names a parameter of the set, in the unit its conditions (or, for a
parameter no condition uses, its name: `…_DAYS`, `…_MONTHS`) count it in (`validation.py`); the
definition holds the texts with the values written in. Braces that do not open on an upper-case
name ("{see leaflet}") are ordinary text, and a published version is read as it was published:
an unknown name in braces is left as written rather than refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# A brace pair and what is inside it. Only braces that open on an upper-case name are taken to
# name a parameter; any other brace is just a character of the text.
_BRACED = re.compile(r"\{([^{}]*)\}")
_NAMED = re.compile(r"\s*[A-Z][A-Z0-9_]+(?:\s|$).*", re.S)
_PLACEHOLDER = re.compile(r"([A-Z][A-Z0-9_]*)(?: +(days?|weeks?|months?|years?))?")
# What a parameter counts, by the unit a text gives it: weeks are counted in days.
UNIT_COUNTS = {"day": "days", "week": "days", "month": "months", "year": "years"}


@dataclass(frozen=True)
class Placeholder:
    name: str
    unit: str  # "day", "week", "month", "year", or "" for the value alone

    def render(self, value: int) -> str:
        if not self.unit:
            return str(value)
        count = value // 7 if self.unit == "week" else value
        return f"{count} {self.unit}{'' if count == 1 else 's'}"


def placeholders(text: str) -> tuple[list[Placeholder], list[str]]:
    """The parameters a text names, and the braced names it gives a unit it cannot have."""
    found, wrong = [], []
    for match in _BRACED.finditer(text):
        if not _NAMED.fullmatch(match.group(1)):
            continue
        named = _PLACEHOLDER.fullmatch(match.group(1).strip())
        if named is None:
            wrong.append(match.group(0))
        else:
            found.append(Placeholder(named.group(1), (named.group(2) or "").removesuffix("s")))
    return found, wrong


def render(text: str, parameters: Mapping[str, int]) -> str:
    """The text with each parameter it names written in; any other braces are left as they are."""
    if "{" not in text:
        return text

    def value(match: re.Match[str]) -> str:
        named = _PLACEHOLDER.fullmatch(match.group(1).strip())
        if named is None or named.group(1) not in parameters:
            return match.group(0)
        unit = (named.group(2) or "").removesuffix("s")
        return Placeholder(named.group(1), unit).render(parameters[named.group(1)])

    return _BRACED.sub(value, text)


def parameter_values(document: Mapping[str, Any]) -> dict[str, int]:
    """The values of a question-set document's parameters, by name (a valid document's)."""
    parameters = document.get("parameters")
    if not isinstance(parameters, Mapping):
        return {}
    return {
        name: spec["value"]
        for name, spec in parameters.items()
        if isinstance(spec, Mapping) and isinstance(spec.get("value"), int)
    }


_SECTION_TEXTS = ("title", "intro")
_QUESTION_TEXTS = ("text", "short_name", "help_text", "not_sure_label")
_RULE_TEXTS = ("practitioner_message", "patient_guidance")


def worded(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a valid document whose texts have its parameters' values written in: what
    people read, for exports that take texts from the document rather than the definition."""
    values = parameter_values(document)

    def texts(part: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
        return {
            **part,
            **{f: render(part[f], values) for f in fields if isinstance(part.get(f), str)},
        }

    copied = dict(document)
    copied["sections"] = [
        {
            **texts(section, _SECTION_TEXTS),
            "questions": [
                {
                    **texts(question, _QUESTION_TEXTS),
                    **(
                        {"choices": [texts(c, ("label",)) for c in question["choices"]]}
                        if question.get("choices")
                        else {}
                    ),
                }
                for question in section.get("questions") or ()
            ],
        }
        for section in document.get("sections") or ()
    ]
    copied["rules"] = [texts(rule, _RULE_TEXTS) for rule in document.get("rules") or ()]
    copied["advice"] = [
        {
            **texts(item, ("title",)),
            "items": [render(text, values) for text in item.get("items") or ()],
        }
        for item in document.get("advice") or ()
    ]
    return copied
