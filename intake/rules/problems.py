"""Problems found in a definition or in a set of answers, each with a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: a stable `code`, `where` it is ("rule x", "question y") and a full sentence."""

    code: str
    where: str
    message: str

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
