"""A readable way to write conditions, translated to and from the JSON condition language.

Clinic admins write `cold_sores in (yes, not_sure) and last_cold_sore within 28 days` rather than
the nested JSON objects of docs/question-sets.md. `parse` turns the text into the JSON condition
and `show` turns a JSON condition back into text, so that `parse(show(c)) == c` for every
condition the JSON language can express. Whether the questions, choices and parameters named
exist is not checked here: `validate` does that for the whole document, naming the rule.

    expression  := either ("or" either)*
    either      := both ("and" both)*
    both        := "not" both | "(" expression ")" | comparison
    comparison  := KEY "answered"
                 | KEY "is" CODE
                 | KEY "in" "(" CODE ("," CODE)* ")"
                 | KEY "any" "of" "(" CODE, … ")" | KEY "all" "of" "(" CODE, … ")"
                 | KEY (">" | ">=" | "<" | "<=" | "=") NUMBER
                 | KEY "within" NUMBER ("days" | "months") ["before" | "after"]
                 | KEY "after" "submission"
                 | KEY "age" "under" NUMBER

A NUMBER is a literal or the name of a parameter (UPPER_SNAKE_CASE).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<symbol>>=|<=|==|[(),<>=]))"
)
_COMPARISONS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "=": "eq", "==": "eq"}
_SYMBOL_OF = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "="}
_PARAMETER = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
_KEYWORDS = frozenset(("and", "or", "not"))


class ExpressionError(ValueError):
    """The text is not a condition; the message says what was expected and where."""


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "name", "symbol" or "end"
    text: str
    at: int  # 1-based character position, for messages


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            where = len(text) - len(text[position:].lstrip()) + 1
            raise ExpressionError(
                f"Unexpected character {text[where - 1]!r} at position {where}; conditions use "
                "question keys, choice codes, numbers, parameter names, brackets and commas."
            )
        kind = match.lastgroup or "symbol"
        start = match.start(kind) + 1
        found.append(_Token(kind, match.group(kind), start))
        position = match.end()
    found.append(_Token("end", "", len(text) + 1))
    return found


def _describe(token: _Token) -> str:
    return "the end" if token.kind == "end" else f'"{token.text}" at position {token.at}'


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def at_word(self, *words: str) -> bool:
        return self.current.kind == "name" and self.current.text.lower() in words

    def expect_word(self, word: str, after: str) -> None:
        if not self.at_word(word):
            raise ExpressionError(f'Expected "{word}" {after}, found {_describe(self.current)}.')
        self.take()

    def expect_symbol(self, symbol: str, after: str) -> None:
        if self.current.kind != "symbol" or self.current.text != symbol:
            raise ExpressionError(f'Expected "{symbol}" {after}, found {_describe(self.current)}.')
        self.take()

    def whole(self) -> dict[str, Any]:
        condition = self.expression()
        if self.current.kind != "end":
            raise ExpressionError(
                f'Expected "and", "or" or the end, found {_describe(self.current)}.'
            )
        return condition

    def expression(self) -> dict[str, Any]:
        parts = [self.either()]
        while self.at_word("or"):
            self.take()
            parts.append(self.either())
        return parts[0] if len(parts) == 1 else {"any": parts}

    def either(self) -> dict[str, Any]:
        parts = [self.both()]
        while self.at_word("and"):
            self.take()
            parts.append(self.both())
        return parts[0] if len(parts) == 1 else {"all": parts}

    def both(self) -> dict[str, Any]:
        if self.at_word("not"):
            self.take()
            return {"not": self.both()}
        if self.current.kind == "symbol" and self.current.text == "(":
            self.take()
            inner = self.expression()
            self.expect_symbol(")", "to close the bracket")
            return inner
        return self.comparison()

    def comparison(self) -> dict[str, Any]:
        key = self.current
        if key.kind != "name" or key.text.lower() in _KEYWORDS:
            raise ExpressionError(f"Expected a question key, found {_describe(key)}.")
        self.take()
        q = key.text
        after = f'after "{q}"'
        token = self.current
        if token.kind == "symbol" and token.text in _COMPARISONS:
            self.take()
            return {"q": q, _COMPARISONS[token.text]: self.number(f'after "{token.text}"')}
        if token.kind != "name":
            raise ExpressionError(
                f"Expected a comparison (is, in, any of, all of, answered, within, after "
                f"submission, age under, >, >=, <, <=, =) {after}, found {_describe(token)}."
            )
        word = token.text.lower()
        self.take()
        if word == "answered":
            return {"q": q, "answered": True}
        if word == "is":
            return {"q": q, "is": self.code(f'after "{q} is"')}
        if word == "in":
            return {"q": q, "in": self.codes(f'after "{q} in"')}
        if word in ("any", "all"):
            self.expect_word("of", f'after "{q} {word}"')
            return {"q": q, f"{word}_of": self.codes(f'after "{q} {word} of"')}
        if word == "within":
            count = self.number(f'after "{q} within"')
            unit = self.current
            if not self.at_word("day", "days", "month", "months"):
                raise ExpressionError(
                    f'Expected "days" or "months" after "{q} within", found {_describe(unit)}.'
                )
            self.take()
            unit_name = "days" if unit.text.lower().startswith("day") else "months"
            operator = "within_before"
            if self.at_word("before", "after"):
                operator = f"within_{self.take().text.lower()}"
            return {"q": q, operator: {unit_name: count}}
        if word == "after":
            self.expect_word("submission", f'after "{q} after"')
            return {"q": q, "after_submission": True}
        if word == "age":
            self.expect_word("under", f'after "{q} age"')
            return {"q": q, "age_under": self.number(f'after "{q} age under"')}
        raise ExpressionError(
            f'Unknown comparison "{token.text}" at position {token.at}; use is, in, any of, all '
            "of, answered, within, after submission, age under, >, >=, <, <= or =."
        )

    def code(self, after: str) -> str:
        token = self.current
        if token.kind != "name":
            raise ExpressionError(f"Expected a choice code {after}, found {_describe(token)}.")
        self.take()
        return token.text

    def codes(self, after: str) -> list[str]:
        self.expect_symbol("(", f"{after} (a list of choice codes in brackets)")
        codes = [self.code(after)]
        while self.current.kind == "symbol" and self.current.text == ",":
            self.take()
            codes.append(self.code("after a comma"))
        self.expect_symbol(")", "to close the list of choice codes")
        return codes

    def number(self, after: str) -> int | float | str:
        token = self.current
        if token.kind == "number":
            self.take()
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "name" and _PARAMETER.fullmatch(token.text):
            self.take()
            return token.text
        raise ExpressionError(
            f"Expected a number or a parameter name (UPPER_SNAKE_CASE) {after}, "
            f"found {_describe(token)}."
        )


def parse(text: str) -> dict[str, Any]:
    """The JSON condition written by `text`; raises ExpressionError saying what is wrong."""
    if not text.strip():
        raise ExpressionError("The condition is empty.")
    return _Parser(text).whole()


def show(condition: Mapping[str, Any]) -> str:
    """A JSON condition written in the readable form; raises ExpressionError if it is malformed."""
    return _show(condition)


def condition_text(condition: Any) -> str:
    """A stored condition as people read and edit it: "" for none, JSON if it has no text form."""
    if condition is None:
        return ""
    try:
        return show(condition)
    except ExpressionError:
        return json.dumps(condition)


def _show(condition: Any, *, inside: str = "") -> str:
    if not isinstance(condition, Mapping):
        raise ExpressionError(f"A condition must be an object, not {condition!r}.")
    for combinator, joiner in (("all", " and "), ("any", " or ")):
        if combinator in condition:
            parts = condition[combinator]
            if len(condition) != 1 or not isinstance(parts, list) or not parts:
                raise ExpressionError(f'An "{combinator}" condition needs a non-empty list.')
            if len(parts) == 1:
                # A one-part list means its part; the text has no way to say it otherwise.
                return _show(parts[0], inside=inside)
            text = joiner.join(_show(part, inside=combinator) for part in parts)
            # "and" binds more tightly than "or", "not" most tightly; a nested list of the same
            # kind keeps its brackets so that the text reads back to the same JSON.
            needs_brackets = inside in ("not", combinator) or (
                inside == "all" and combinator == "any"
            )
            return f"({text})" if needs_brackets else text
    if "not" in condition:
        if len(condition) != 1:
            raise ExpressionError('A "not" condition has no other keys.')
        return f"not {_show(condition['not'], inside='not')}"
    return _show_comparison(condition)


def _show_comparison(condition: Mapping[str, Any]) -> str:
    q = condition.get("q")
    operators = [key for key in condition if key != "q"]
    if not isinstance(q, str) or len(operators) != 1:
        raise ExpressionError(f"Not a comparison on one question: {dict(condition)!r}.")
    op = operators[0]
    value = condition[op]
    if op == "answered" and value is True:
        return f"{q} answered"
    if op == "after_submission" and value is True:
        return f"{q} after submission"
    if op == "is" and isinstance(value, str):
        return f"{q} is {value}"
    if op in ("in", "any_of", "all_of") and isinstance(value, list) and value:
        words = {"in": "in", "any_of": "any of", "all_of": "all of"}[op]
        return f"{q} {words} ({', '.join(str(code) for code in value)})"
    if op in _SYMBOL_OF:
        return f"{q} {_SYMBOL_OF[op]} {_show_number(value)}"
    if op == "age_under":
        return f"{q} age under {_show_number(value)}"
    if op in ("within_before", "within_after") and isinstance(value, Mapping) and len(value) == 1:
        unit, count = next(iter(value.items()))
        if unit in ("days", "months"):
            shown = unit[:-1] if count == 1 else unit
            suffix = " after" if op == "within_after" else ""
            return f"{q} within {_show_number(count)} {shown}{suffix}"
    raise ExpressionError(f'Cannot write "{op}": {value!r} on question "{q}" as text.')


def _show_number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ExpressionError(f"Expected a number or a parameter name, not {value!r}.")
    return str(value)
