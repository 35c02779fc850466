"""A definition compiled to Python functions, once, for the many evaluations that follow.

Walking the condition nodes costs a method call per node; on a full questionnaire that is a few
hundred calls per evaluation. Here each definition becomes straight-line functions: one reads the
answers to the shown questions in document order (as `engine._read` describes), one tests every
rule, and one per rule collects the evidence of its flag. Two-valued conditions (everything but
dates) become plain Python expressions; date comparisons, the only source of "unknown", become
three-valued expressions comparing the answer's interval with the range of days that satisfies
them. Those ranges depend only on the submission and reference dates, so they are worked out by
the nodes themselves, once per pair of dates (see `_bounds_function`). Deeply nested conditions
are left to the nodes altogether.

The functions do as little per evaluation as they can: an answer that several conditions read is
fetched into a local once, a code answered is stored once (see `_Writer.__init__`), the set of
shown questions is built once per combination of follow-ups, and evidence is created as the
tuples it is.

Nothing from the document is written into the generated source: question keys, choice codes,
numbers and texts are passed in as named constants (`k3`, `c12`), so a definition cannot inject
code. The node classes in `conditions.py` stay the reference: the tests check that both agree.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from typing import Any, cast

from intake.rules.answers import _is_number, _read_date
from intake.rules.conditions import (
    AllOf,
    And,
    Answered,
    AnyOf,
    CodeIn,
    Compare,
    Condition,
    Context,
    DateLeaf,
    Leaf,
    Not,
    Or,
)
from intake.rules.definition import Definition, Question
from intake.rules.results import Evidence

# Conditions nested deeper than this are evaluated by their nodes: the generated expressions stay
# far inside what Python's parser accepts.
_MAX_INLINE_DEPTH = 12
_CODE_TYPES = frozenset({"yes_no", "yes_no_not_sure", "single_choice"})
_TEXT_TYPES = frozenset({"short_text", "long_text"})
_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=="}
# Constants named by value rather than by object (see _Writer.constant).
_BY_VALUE = frozenset({str, int, float, bool, frozenset})
# Pairs of submission and reference dates whose satisfying ranges are kept, per definition.
_BOUNDS_CACHE_SIZE = 256
# Combinations of shown follow-ups whose set of question keys is kept, per definition.
_VISIBLE_CACHE_SIZE = 256

# Fills `kept` with the usable answers to shown questions, in document order, and the context
# with them; returns the keys of the shown questions.
type ReadAnswers = Callable[[Callable[[str], Any], Context, dict[str, Any]], frozenset[str]]
# The rules that are not false: (index in definition.rules, 2 for true or 1 for unknown).
type TestRules = Callable[[Context], list[tuple[int, int]]]
# The satisfying range of every date comparison, for a reference and a submission date.
type Bounds = Callable[[datetime.date, datetime.date], tuple[tuple[float, float], ...]]
# The evidence for a rule that is not false, from the context, `get` of the kept answers and the
# ranges from `bounds`: what `collect_evidence` finds, in document order.
type CollectEvidence = Callable[
    [Context, Callable[[str], Any], tuple[tuple[float, float], ...]], tuple[Evidence, ...]
]


@dataclass(frozen=True, slots=True)
class Program:
    read_answers: ReadAnswers
    test_rules: TestRules
    bounds: Bounds
    # By rule index.
    evidence: tuple[CollectEvidence, ...]


def compile_definition(definition: Definition) -> Program:
    """Generate and compile the functions for one definition."""
    writer = _Writer(definition)
    source = writer.source()
    namespace: dict[str, Any] = dict(writer.constants)
    namespace["_bounds"] = bounds = writer.bounds()
    namespace["_visible"] = writer.visible()
    # The source is built only from this module's templates and generated names (see above).
    exec(compile(source, f"<question set {definition.slug}>", "exec"), namespace)  # noqa: S102
    return Program(
        read_answers=cast(ReadAnswers, namespace["read_answers"]),
        test_rules=cast(TestRules, namespace["test_rules"]),
        bounds=bounds,
        evidence=tuple(
            cast(CollectEvidence, namespace[f"evidence_{index}"])
            for index in range(len(definition.rules))
        ),
    )


def _bounds_function(leaves: list[DateLeaf]) -> Bounds:
    """The satisfying range of each date comparison, for a reference and a submission date.

    The nodes' own `satisfying` works them out, so the ranges are the reference's; an empty range
    becomes one that every answer lies wholly below, so the generated comparison needs no test
    for it.
    """

    @lru_cache(maxsize=_BOUNDS_CACHE_SIZE)
    def bounds(
        reference: datetime.date, submitted: datetime.date
    ) -> tuple[tuple[float, float], ...]:
        context = Context(submitted_on=submitted, reference_date=reference)
        ranges = (leaf.satisfying(context) for leaf in leaves)
        return tuple((low, high) if low <= high else (math.inf, -math.inf) for low, high in ranges)

    return bounds


def _visible_function(
    always: tuple[str, ...], runs: list[tuple[str, ...]]
) -> Callable[[tuple[int, ...]], frozenset[str]]:
    """The keys of the shown questions, from the numbers of the shown runs of follow-ups.

    Patients see a few combinations of follow-ups over and over, so each set is built once.
    """

    @lru_cache(maxsize=_VISIBLE_CACHE_SIZE)
    def visible(shown: tuple[int, ...]) -> frozenset[str]:
        return frozenset(chain(always, *(runs[n] for n in shown)))

    return visible


# What a generated function may read from its context, bound to locals once at its start; each
# function binds only the names its body uses.
_PREAMBLE = {
    "submitted": "submitted = context.submitted",
    "answered": "answered = context.answered",
    "codes": "codes = context.codes",
    "codes_get": "codes_get = context.codes.get",
    "ticked": "ticked = context.ticked",
    "ticked_get": "ticked_get = context.ticked.get",
    "numbers": "numbers = context.numbers",
    "numbers_get": "numbers_get = context.numbers.get",
    "dates": "dates = context.dates",
    "dates_get": "dates_get = context.dates.get",
}
_PREAMBLE_NAMES = re.compile(r"(?<![.\w])(" + "|".join(_PREAMBLE) + r")\b")
# Where each kind of leaf finds its answer in the context.
_STORES: dict[type[Leaf], str] = {
    CodeIn: "codes",
    AnyOf: "ticked",
    AllOf: "ticked",
    Compare: "numbers",
    DateLeaf: "dates",
}
# A local holding one question's answer from one of those (`codes_k12`), for a function that
# reads it several times.
_ANSWER_NAMES = re.compile(r"\b(codes|ticked|numbers|dates)_(k\d+)\b")
# The locals holding the satisfying range of date comparison n (`lo{n}`, `hi{n}`).
_BOUNDS_NAMES = re.compile(r"\blo(\d+)\b")


class _Writer:
    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.constants: dict[str, object] = {
            "_isinstance": isinstance,
            "_str": str,
            "_tuple": tuple,
            "_new": tuple.__new__,
            "_Evidence": Evidence,
            # What the readers of answers.READERS use.
            "_sequence": (list, tuple),
            "_all": all,
            "_map": map,
            "_is_str": str.__instancecheck__,
            "_frozenset": frozenset,
            "_read_date": _read_date,
            "_is_number": _is_number,
        }
        self._names: dict[object, str] = {}
        # Whether `is` and `in` test only code questions (as validation ensures): then the kept
        # answers, which hold the same codes for those questions, serve as context.codes, and a
        # code need not be stored twice.
        questions = definition.questions
        conditions = [q.show_if for q in questions.values() if q.show_if is not None]
        conditions += [rule.when for rule in definition.rules]
        self._codes_kept = all(
            q in questions and questions[q].type in _CODE_TYPES
            for store, q in _answer_reads(conditions)
            if store == "codes"
        )
        # One leaf per distinct date comparison (its kind and count, whatever the question).
        self._dates: dict[DateLeaf, int] = {}
        # The questions always shown, and each run of follow-ups shown together (see source).
        self._always: tuple[str, ...] = ()
        self._runs: list[tuple[str, ...]] = []
        # About the function being written: whether it is read_answers, where context.answered
        # is filled only at the end; the answers it holds in locals, as (store, question key);
        # whether it calls a node; and how many temporaries it has named.
        self._reading = False
        self._shared: frozenset[tuple[str, str]] = frozenset()
        self._calls_nodes = False
        self._temporaries = 0
        # In an evidence function: the locals holding conditions' truths (see _truth_local).
        self._truths: dict[Condition, str] = {}

    def constant(self, value: object, prefix: str = "c") -> str:
        """A name for `value` in the generated module's namespace."""
        # Equal strings, numbers and sets of codes share a name (a question's key is written
        # once, and its answer held in one local); other values are named per object.
        identity = (type(value), value) if type(value) in _BY_VALUE else id(value)
        name = self._names.get(identity)
        if name is None:
            name = f"{prefix}{len(self.constants)}"
            self.constants[name] = value
            self._names[identity] = name
        return name

    def bounds(self) -> Bounds:
        """The function giving the ranges that the `lo{n}`, `hi{n}` of the source refer to."""
        return _bounds_function(list(self._dates))

    def visible(self) -> Callable[[tuple[int, ...]], frozenset[str]]:
        """The function giving read_answers' result from the runs it saw shown."""
        return _visible_function(self._always, self._runs)

    def function(self, name: str, parameters: str, body: list[str]) -> list[str]:
        """A function with `body`, preceded by the bindings of the context names it uses.

        Answers held in locals are fetched from the context, except in read_answers, where the
        context starts empty and each is set as its question is read. The ranges of date
        comparisons come from `b`, a parameter of the evidence functions.
        """
        text = "\n".join(body)
        held = dict.fromkeys(_ANSWER_NAMES.findall(text))
        if name == "read_answers":
            answers = [f"{store}_{k} = None" for store, k in held]
        else:
            answers = [f"{store}_{k} = {store}_get({k})" for store, k in held]
        used = set(_PREAMBLE_NAMES.findall("\n".join([text, *answers])))
        lines = [
            f"def {name}({parameters}):",
            *("    " + line for local, line in _PREAMBLE.items() if local in used),
        ]
        slots = sorted({int(n) for n in _BOUNDS_NAMES.findall(text)})
        if slots and "b" not in parameters.split(", "):
            lines.append("    b = _bounds(context.reference, context.submitted)")
        lines.extend(f"    lo{n}, hi{n} = b[{n}]" for n in slots)
        return lines + ["    " + line for line in answers + body]

    def temporary(self, prefix: str) -> str:
        self._temporaries += 1
        return f"{prefix}{self._temporaries}"

    def source(self) -> str:
        rules = self.definition.rules
        source = self.function("read_answers", "get, context, kept", self.read_answers())
        source += ["", *self.function("test_rules", "context", self.test_rules())]
        for index, rule in enumerate(rules):
            body = self.evidence(rule.when)
            source += ["", *self.function(f"evidence_{index}", "context, kept_get, b", body)]
        return "\n".join(source) + "\n"

    def read_answers(self) -> list[str]:
        """The body of read_answers: each shown question's answer read in document order."""
        questions = self.definition.questions.values()
        self._always = tuple(q.key for q in questions if q.show_if is None)
        # Each answer a show_if reads is held in a local as well, set as its question is read.
        shows = (q.show_if for q in questions if q.show_if is not None)
        self._reading = True
        self._shared = frozenset(_answer_reads(c for c in shows if _depth(c) <= _MAX_INLINE_DEPTH))
        # A show_if only reads earlier questions, so questions in a row with equal conditions
        # are all shown or all hidden: the condition is tested once for the run.
        runs: list[tuple[Condition | None, list[Question]]] = []
        for question in questions:
            if runs and question.show_if is not None and runs[-1][0] == question.show_if:
                runs[-1][1].append(question)
            else:
                runs.append((question.show_if, [question]))
        lines = ["shown = []", "show = shown.append"]
        if self._codes_kept:
            lines.insert(0, "context.codes = kept")
        for condition, run in runs:
            indent = ""
            if condition is not None:
                self._calls_nodes = False
                test = self.condition(condition)
                if self._calls_nodes:
                    # The nodes read context.answered, which must be up to date for them.
                    lines.append("answered.update(kept)")
                lines.append(f"if {test}:")
                lines.append(f"    show({len(self._runs)})")
                self._runs.append(tuple(q.key for q in run))
                indent = "    "
            for question in run:
                lines.extend(indent + line for line in self.question(question))
        # The keys answered are those kept: added in one go rather than one by one.
        lines += ["answered.update(kept)", "return _visible(_tuple(shown))"]
        self._reading, self._shared = False, frozenset()
        return lines

    def question(self, question: Question) -> list[str]:
        """Statements reading one shown question's answer `v`: what answers.READERS would store
        (context.answered aside, see read_answers), tested in the same order."""
        k = self.constant(question.key, "k")
        kind = question.type
        # The test of a usable answer, and where the reader stores it as what (None: only kept).
        if kind in _CODE_TYPES:
            # `in` is safe once `v` is known to be a str; "" (blank) is no code, unless a
            # definition not checked by validation makes it one.
            blank = "v and " if "" in question.choice_codes else ""
            test = f"{blank}_isinstance(v, _str) and v in {self.constant(question.choice_codes)}"
            store, value = "codes", "v"
        elif kind in _TEXT_TYPES:
            test, store, value = "v and _isinstance(v, _str)", None, "v"
        elif kind == "multiple_choice":
            # An empty list is blank; an empty tuple is an answer that ticks nothing.
            codes = self.constant(question.choice_codes)
            test = (
                "_isinstance(v, _sequence) and v != [] and _all(_map(_is_str, v))"
                f" and (m := _frozenset(v)) <= {codes}"
            )
            store, value = "ticked", "m"
        elif kind == "date":
            # Every falsy value is blank or refused (dates are written as strings).
            test = f"v and (iv := _read_date({self.constant(question, 'q')}, v, submitted, None))"
            store, value = "dates", "iv"
        elif kind == "number":
            # None, "" and [] (blank) are not numbers.
            test, store, value = "_is_number(v)", "numbers", "v"
        else:
            raise ValueError(f"No reader for questions of type {kind!r}.")
        lines = [f"v = get({k})", f"if {test}:"]
        if store is not None:
            if store != "codes" or not self._codes_kept:
                lines.append(f"    {store}[{k}] = {value}")
            held = self.answer(store, question.key)
            if held is not None:
                lines.append(f"    {held} = {value}")
        return [*lines, f"    kept[{k}] = v"]

    def test_rules(self) -> list[str]:
        """The body of test_rules: every rule tested in order."""
        rules = self.definition.rules
        # An answer that several leaves read is fetched from the context once, into a local.
        reads = Counter(
            _answer_reads(rule.when for rule in rules if _depth(rule.when) <= _MAX_INLINE_DEPTH)
        )
        self._shared = frozenset(read for read, count in reads.items() if count > 1)
        lines = ["hits = []", "hit = hits.append"]
        for index, rule in enumerate(rules):
            if _inline_test(rule.when):
                lines.append(f"if {self.test(rule.when)}:")
                lines.append(f"    hit(({index}, 2))")
            else:
                lines.append(f"t = {self.truth(rule.when)}")
                lines.append("if t:")
                lines.append(f"    hit(({index}, t))")
        lines.append("return hits")
        self._shared = frozenset()
        return lines

    def evidence(self, condition: Condition) -> list[str]:
        """The body of an evidence function: what collect_evidence finds, in document order.

        "all" and "not" cite every question below them; "any" cites only its parts that are as
        true as itself, unless it is inside a "not". Which parts those are is worked out into
        locals (`g3`: part reached) first; each question is then cited if one of its leaves is
        reached, and uncertain if a date comparison reached is unknown.
        """
        self._temporaries = 0
        self._truths = {}
        lines: list[str] = []
        cited: dict[str, list[tuple[str | None, Leaf]]] = {}
        self._cite(condition, None, lines, cited, every=False)
        questions = self.definition.questions
        # Each question cited, in document order: the item, and when it is cited (None: always).
        items: list[tuple[str, str | None]] = []
        for key in sorted(cited, key=lambda key: questions[key].position):
            leaves = cited[key]
            gates = [gate for gate, _ in leaves if gate is not None]
            when = None if len(gates) < len(leaves) else " or ".join(dict.fromkeys(gates))
            # Once the question is known to be cited by leaves all behind one gate, the gate
            # need not be tested again for its uncertainty.
            unknown = [
                f"{truth} == 1" if gate is None or gate == when else f"({gate} and {truth} == 1)"
                for gate, leaf in leaves
                if isinstance(leaf, DateLeaf)
                for truth in [self._truths.get(leaf) or self.truth(leaf)]
            ]
            uncertain = " or ".join(unknown) or "False"
            k, text = self.constant(key, "k"), self.constant(questions[key].text, "x")
            items.append((f"_new(_Evidence, ({k}, {text}, kept_get({k}), {uncertain}))", when))
        if all(when is None for _, when in items):
            return [*lines, "return (", *(f"    {item}," for item, _ in items), ")"]
        lines.append("found = []")
        for item, when in items:
            if when is None:
                lines.append(f"found.append({item})")
            else:
                lines += [f"if {when}:", f"    found.append({item})"]
        return [*lines, "return _tuple(found)"]

    def _cite(
        self,
        condition: Condition,
        gate: str | None,
        lines: list[str],
        cited: dict[str, list[tuple[str | None, Leaf]]],
        *,
        every: bool,
    ) -> None:
        """Add the leaves collect_evidence reaches, each with the local saying whether it is
        reached (None: always); `every` is true inside a "not", where an "any" cites all parts."""
        if isinstance(condition, Leaf):
            cited.setdefault(condition.q, []).append((gate, condition))
        elif isinstance(condition, Not):
            self._cite(condition.part, gate, lines, cited, every=True)
        elif isinstance(condition, And) or (isinstance(condition, Or) and every):
            for part in condition.parts:
                self._cite(part, gate, lines, cited, every=every)
        elif isinstance(condition, Or):
            # The parts as true as the whole are cited.
            whole = self._truth_local(condition, lines)
            for part in condition.parts:
                reached = self.temporary("g")
                test = f"{self._truth_local(part, lines)} == {whole}"
                lines.append(f"{reached} = {test if gate is None else f'{gate} and {test}'}")
                self._cite(part, reached, lines, cited, every=False)
        else:
            raise TypeError(f"No evidence can be compiled for {condition!r}.")

    def _truth_local(self, condition: Condition, lines: list[str]) -> str:
        """A local holding the condition's truth, worked out once per evidence function.

        An "all" or "any" with an "any" below it (outside a "not") is worked out from its parts'
        locals, the minimum or the maximum, so that _cite finds those of the "any" below ready.
        """
        name = self._truths.get(condition)
        if name is not None:
            return name
        if isinstance(condition, And | Or) and _decides(condition):
            parts = [self._truth_local(part, lines) for part in condition.parts]
            if len(parts) == 1:
                self._truths[condition] = parts[0]
                return parts[0]
            value = f"{self._extreme(condition)}({', '.join(parts)})"
        else:
            value = self.truth(condition)
        name = self._truths[condition] = self.temporary("t")
        lines.append(f"{name} = {value}")
        return name

    def condition(self, condition: Condition) -> str:
        """An expression that is false exactly when the condition is."""
        return self.test(condition) if _inline_test(condition) else self.truth(condition)

    def node(self, condition: Condition) -> str:
        """A call of the condition's node: its truth, 0, 1 or 2."""
        self._calls_nodes = True
        return f"{self.constant(condition.evaluate, 'e')}(context)"

    def truth(self, condition: Condition) -> str:
        """An expression worth 0 (false), 1 (unknown) or 2 (true)."""
        if _depth(condition) > _MAX_INLINE_DEPTH:
            return self.node(condition)
        if _two_valued(condition):
            return f"(2 if {self.test(condition)} else 0)"
        if isinstance(condition, DateLeaf):
            return self.date(condition)
        if isinstance(condition, Not):
            return f"(2 - {self.truth(condition.part)})"
        if isinstance(condition, And | Or):
            tests = [self.test(p) for p in condition.parts if _two_valued(p)]
            truths = [self.truth(p) for p in condition.parts if not _two_valued(p)]
            # Kleene "and" is the minimum and "or" the maximum, whatever the parts' order: the
            # cheap two-valued parts are tested first and can settle the result alone.
            combined = (
                truths[0]
                if len(truths) == 1
                else f"{self._extreme(condition)}({', '.join(truths)})"
            )
            if not tests:
                return combined
            if isinstance(condition, And):
                return f"({combined} if {' and '.join(tests)} else 0)"
            return f"(2 if {' or '.join(tests)} else {combined})"
        return self.node(condition)

    @staticmethod
    def _extreme(condition: And | Or) -> str:
        return "min" if isinstance(condition, And) else "max"

    def date(self, leaf: DateLeaf) -> str:
        """DateLeaf.evaluate, with the satisfying range read from locals: false if the answer's
        interval lies outside the range, true if inside, else unknown."""
        n = self.date_slot(leaf)
        answer = self.answer("dates", leaf.q)
        if answer is None:
            k = self.constant(leaf.q, "k")
            absent, first, answer = f"{k} not in dates", f"(iv := dates[{k}])", "iv"
        else:
            absent, first = f"{answer} is None", answer
        return (
            f"(0 if {absent} or {first}[1] < lo{n} or {answer}[0] > hi{n}"
            f" else 2 if lo{n} <= {answer}[0] and {answer}[1] <= hi{n} else 1)"
        )

    def date_slot(self, leaf: DateLeaf) -> int:
        """The number of a date comparison's range; comparisons that differ only by question share
        one."""
        # The range depends on the kind of comparison and its count, not on the question.
        shape = dataclasses.replace(leaf, q="")
        slot = self._dates.get(shape)
        if slot is None:
            slot = self._dates[shape] = len(self._dates)
        return slot

    def answer(self, store: str, q: str) -> str | None:
        """The local holding question q's answer from `store` (see _ANSWER_NAMES), if any."""
        k = self.constant(q, "k")
        return f"{store}_{k}" if (store, q) in self._shared else None

    def test(self, condition: Condition) -> str:
        """A bool expression, for a condition that can never be unknown."""
        if isinstance(condition, And):
            return "(" + " and ".join(self.test(part) for part in condition.parts) + ")"
        if isinstance(condition, Or):
            return "(" + " or ".join(self.test(part) for part in condition.parts) + ")"
        if isinstance(condition, Not):
            return f"(not {self.test(condition.part)})"
        if not isinstance(condition, Leaf):
            return f"({self.node(condition)} == 2)"
        k = self.constant(condition.q, "k")
        if isinstance(condition, Answered):
            # While answers are read, the keys answered so far are those kept so far.
            return f"({k} in kept)" if self._reading else f"({k} in answered)"
        if isinstance(condition, CodeIn):
            code = self.answer("codes", condition.q) or f"codes_get({k})"
            if len(condition.codes) == 1:
                (value,) = condition.codes
                return f"({code} == {self.constant(value)})"
            return f"({code} in {self.constant(condition.codes)})"
        if isinstance(condition, AnyOf | AllOf):
            codes = self.constant(condition.codes)
            ticked = self.answer("ticked", condition.q)
            if ticked is None:
                present, ticked = f"{k} in ticked", f"ticked[{k}]"
            else:
                present = f"{ticked} is not None"
            if isinstance(condition, AnyOf):
                return f"({present} and not {ticked}.isdisjoint({codes}))"
            return f"({present} and {codes} <= {ticked})"
        if isinstance(condition, Compare):
            operator = _OPERATORS[condition.op]
            value = self.constant(condition.value)
            number = self.answer("numbers", condition.q)
            if number is None:
                return f"({k} in numbers and numbers[{k}] {operator} {value})"
            return f"({number} is not None and {number} {operator} {value})"
        return f"({self.node(condition)} == 2)"


def _answer_reads(conditions: Iterable[Condition]) -> Iterable[tuple[str, str]]:
    """(store, question key) for every leaf of the conditions that reads an answer's value."""
    for condition in conditions:
        if isinstance(condition, And | Or):
            yield from _answer_reads(condition.parts)
        elif isinstance(condition, Not):
            yield from _answer_reads((condition.part,))
        elif isinstance(condition, Leaf):
            store = next((s for t, s in _STORES.items() if isinstance(condition, t)), None)
            if store is not None:
                yield store, condition.q


def _decides(condition: Condition) -> bool:
    """Whether the condition is an "any", or has one below it outside a "not": whether which
    questions its evidence cites depends on the answers."""
    if isinstance(condition, Or):
        return True
    return isinstance(condition, And) and any(_decides(part) for part in condition.parts)


def _inline_test(condition: Condition) -> bool:
    return _two_valued(condition) and _depth(condition) <= _MAX_INLINE_DEPTH


def _two_valued(condition: Condition) -> bool:
    """Whether the condition can never be unknown: it compares no dates."""
    if isinstance(condition, And | Or):
        return all(_two_valued(part) for part in condition.parts)
    if isinstance(condition, Not):
        return _two_valued(condition.part)
    return not isinstance(condition, DateLeaf)


def _depth(condition: Condition) -> int:
    if isinstance(condition, And | Or):
        return 1 + max((_depth(part) for part in condition.parts), default=0)
    if isinstance(condition, Not):
        return 1 + _depth(condition.part)
    return 0
