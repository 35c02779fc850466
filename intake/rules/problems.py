"""Problems found in a definition or in a set of answers, each with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: a stable `code`, what it concerns and a full sentence for people.

    `kind` is what the finding is about: "document", "section", "question", "rule", "parameter",
    "source", "advice", "declarations", "answers", "case" or "cases"; `key` is that part's key
    (its number where it has no usable key, and empty for the document as a whole). Code reads
    these two fields, never the sentence.
    """

    code: str
    kind: str
    key: str
    message: str

    @property
    def where(self) -> str:
        """Where the problem is, as people read it: "rule isotretinoin_now", "document"."""
        return f"{self.kind} {self.key}" if self.key else self.kind

    def __str__(self) -> str:
        return self.message


class DefinitionError(Exception):
    """A definition failed its publishing checks; `problems` lists every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(problem.message for problem in problems))


def show_value(value: Any) -> str:
    """A short rendering of any value for a problem message; never raises."""
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'"{text}"'
    try:
        text = repr(value)
    except Exception:
        text = f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."
