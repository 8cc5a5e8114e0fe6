"""A small JSONPath evaluator for CRD ``additionalPrinterColumns``.

Custom resources name their columns with JSONPath (``.spec.replicas``,
``.status.conditions[?(@.type=="Ready")].status``) in the dialect of client-go's
``util/jsonpath``. This module covers the part of that dialect printer columns use:
fields (``.a``, ``['a.b']``), ``*`` and ``[*]``, indexes (``[0]``, ``[-1]``), slices
(``[1:3]``), recursive descent (``..name``) and filters comparing a relative path with a
literal or another path (``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``) or testing that it
exists (``[?(@.ready)]``). Missing keys simply yield nothing, as with client-go's
``AllowMissingKeys(true)`` that the CRD table convertor sets.

Parse once at registration (``parse`` raises ``JSONPathError`` on syntax it does not
know, which CRD validation can reuse), then ``find`` per object.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


class JSONPathError(ValueError):
    """A path that cannot be parsed, or a comparison between incomparable values."""


@dataclass(frozen=True, slots=True)
class Field:
    name: str


@dataclass(frozen=True, slots=True)
class Wildcard:
    pass


@dataclass(frozen=True, slots=True)
class Index:
    index: int


@dataclass(frozen=True, slots=True)
class Slice:
    start: int | None
    stop: int | None
    step: int | None


@dataclass(frozen=True, slots=True)
class Recursive:
    """``..``: the current value and everything below it, depth first."""


@dataclass(frozen=True, slots=True)
class Filter:
    left: tuple[Step, ...]
    operator: str  # "" tests existence
    right: tuple[Step, ...] | None = None
    literal: Any = None


Step = Field | Wildcard | Index | Slice | Recursive | Filter

_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_NAME_END = set(".[]{}()=!<>,'\" \t")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, why: str) -> JSONPathError:
        return JSONPathError(f"invalid JSONPath {self.text!r} at {self.pos}: {why}")

    def peek(self, count: int = 1) -> str:
        return self.text[self.pos : self.pos + count]

    def take(self, literal: str) -> bool:
        if self.text.startswith(literal, self.pos):
            self.pos += len(literal)
            return True
        return False

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t"):
            self.pos += 1

    def name(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _NAME_END:
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        quote = self.peek()
        end = self.text.find(quote, self.pos + 1)
        if end < 0:
            raise self.error("unterminated string")
        value = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return value

    def path(self, *, stop: str = "") -> tuple[Step, ...]:
        steps: list[Step] = []
        while self.pos < len(self.text) and self.peek() not in stop:
            if self.take(".."):
                steps.append(Recursive())
                if self.peek() == "[":
                    continue
                steps.append(self.field())
            elif self.take("."):
                if self.peek() in ("", "[") or self.peek() in stop:
                    continue  # a bare "." is the current value
                steps.append(self.field())
            elif self.take("["):
                steps.append(self.bracket())
            else:
                raise self.error(f"unexpected {self.peek()!r}")
        return tuple(steps)

    def field(self) -> Step:
        if self.take("*"):
            return Wildcard()
        name = self.name()
        if not name:
            raise self.error("empty field name")
        return Field(name)

    def bracket(self) -> Step:
        self.skip_spaces()
        step: Step
        if self.take("?("):
            step = self.filter()
        elif self.take("*"):
            step = Wildcard()
        elif self.peek() in ("'", '"'):
            step = Field(self.quoted())
        else:
            step = self.index_or_slice()
        self.skip_spaces()
        if not self.take("]"):
            raise self.error("expected ']'")
        return step

    def integer(self) -> int | None:
        match = re.compile(r"-?\d+").match(self.text, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return int(match.group())

    def index_or_slice(self) -> Step:
        start = self.integer()
        if not self.take(":"):
            if start is None:
                raise self.error("expected an index")
            return Index(start)
        stop = self.integer()
        step = self.integer() if self.take(":") else None
        return Slice(start, stop, step)

    def operand(self) -> tuple[tuple[Step, ...] | None, Any]:
        self.skip_spaces()
        if self.take("@"):
            return self.path(stop=" \t)=!<>"), None
        if self.peek() in ("'", '"'):
            return None, self.quoted()
        for word, value in (("true", True), ("false", False)):
            if self.take(word):
                return None, value
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.error("expected a value")
        self.pos = match.end()
        text = match.group()
        return None, float(text) if any(c in text for c in ".eE") else int(text)

    def filter(self) -> Filter:
        self.skip_spaces()
        if not self.take("@"):
            raise self.error("a filter must start with '@'")
        left = self.path(stop=" \t)=!<>")
        self.skip_spaces()
        operator = next((op for op in _OPERATORS if self.take(op)), "")
        right: tuple[Step, ...] | None = None
        literal: Any = None
        if operator:
            right, literal = self.operand()
        self.skip_spaces()
        if not self.take(")"):
            raise self.error("expected ')'")
        return Filter(left=left, operator=operator, right=right, literal=literal)


def _descendants(value: Any) -> Iterator[Any]:
    yield value
    children = value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else ()
    for child in children:
        yield from _descendants(child)


def _comparable(a: Any, b: Any) -> bool:
    def number(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool)

    return (number(a) and number(b)) or type(a) is type(b)


def _compare(a: Any, operator: str, b: Any) -> bool:
    if not _comparable(a, b):
        raise JSONPathError(f"cannot compare {a!r} with {b!r}")
    try:
        if operator == "==":
            return bool(a == b)
        if operator == "!=":
            return bool(a != b)
        if operator == "<":
            return bool(a < b)
        if operator == "<=":
            return bool(a <= b)
        if operator == ">":
            return bool(a > b)
        return bool(a >= b)
    except TypeError as err:
        raise JSONPathError(str(err)) from err


def _keep(item: Any, step: Filter) -> bool:
    lefts = _evaluate(step.left, [item])
    if not step.operator:
        return bool(lefts)
    rights = _evaluate(step.right, [item]) if step.right is not None else [step.literal]
    if not lefts or not rights:
        return False
    return _compare(lefts[0], step.operator, rights[0])


def _apply(step: Step, value: Any) -> list[Any]:
    if isinstance(step, Field):
        return [value[step.name]] if isinstance(value, Mapping) and step.name in value else []
    if isinstance(step, Wildcard):
        return (
            list(value.values())
            if isinstance(value, Mapping)
            else list(value)
            if isinstance(value, list)
            else []
        )
    if isinstance(step, Recursive):
        return list(_descendants(value))
    if not isinstance(value, list):
        return []
    if isinstance(step, Index):
        return [value[step.index]] if -len(value) <= step.index < len(value) else []
    if isinstance(step, Slice):
        return value[step.start : step.stop : step.step or None]
    return [item for item in value if _keep(item, step)]


def _evaluate(steps: tuple[Step, ...], values: list[Any]) -> list[Any]:
    for step in steps:
        values = [found for value in values for found in _apply(step, value)]
    return values


@dataclass(frozen=True, slots=True)
class JSONPath:
    text: str
    steps: tuple[Step, ...]

    def find(self, data: Any) -> list[Any]:
        """Every value the path reaches in ``data``; raises ``JSONPathError`` when a filter
        compares values of different types, as client-go does."""
        return _evaluate(self.steps, [data])


def parse(text: str) -> JSONPath:
    """Parse a printer-column path; surrounding ``{}`` are optional."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1].strip()
    if not body.startswith((".", "[")):
        raise JSONPathError(f"invalid JSONPath {text!r}: it must start with '.' or '['")
    parser = _Parser(body)
    steps = parser.path()
    return JSONPath(text=text, steps=steps)
