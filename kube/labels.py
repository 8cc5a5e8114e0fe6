"""Label selectors and label/annotation validation, as apimachinery's ``labels`` package.

Selectors are how Kubernetes objects find each other: a Service finds its pods, a
ReplicaSet counts its replicas, ``kubectl get pods -l app=web`` filters a list. The same
text must select the same objects here as on a real cluster, and a mistyped selector must
fail with the message ``kubectl`` users already know, so the grammar, the validation and
the wording all follow ``labels.Parse`` and ``NewRequirement``; ``str()`` prints the
canonical form Kubernetes prints (requirements sorted by key, values sorted).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

import orjson

from kube.errors import BadRequest, FieldError, forbidden, invalid, not_supported, required, too_long
from kube.names import is_qualified_name, is_valid_label_value

TOTAL_ANNOTATION_SIZE_LIMIT: Final = 256 * 1024


class Operator(StrEnum):
    """``selection.Operator``: the values are Kubernetes' own spellings, in its order."""

    IN = "in"
    NOT_IN = "notin"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    GREATER_THAN = "gt"
    LESS_THAN = "lt"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"


_BINARY = list(Operator)[:7]
_SET = (Operator.IN, Operator.NOT_IN)
_EXACT = (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS)
_ORDER = (Operator.GREATER_THAN, Operator.LESS_THAN)
_UNARY = (Operator.EXISTS, Operator.DOES_NOT_EXIST)
_INT64 = re.compile(r"[+-]?[0-9]+")
# Per operator family: when the number of values is wrong, and what Kubernetes says then.
_ARITY: Final = (
    (_SET, lambda n: n == 0, "for 'in', 'notin' operators, values set can't be empty"),
    (_EXACT, lambda n: n != 1, "exact-match compatibility requires one single value"),
    (_ORDER, lambda n: n != 1, "for 'Gt', 'Lt' operators, exactly one value is required"),
    (_UNARY, bool, "values set must be empty for exists and does not exist"),
)


def _int64(text: str) -> int | None:
    """``strconv.ParseInt(text, 10, 64)``, or None."""
    if not _INT64.fullmatch(text):
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def _aggregate(errors: Sequence[FieldError]) -> str:
    """utilerrors' aggregate message: repeats dropped, brackets only for several."""
    messages = list(dict.fromkeys(str(e) for e in errors))
    return messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"


def _key_error(key: str, path: str) -> FieldError | None:
    problems = is_qualified_name(key)
    return invalid(path, key, "; ".join(problems)) if problems else None


@dataclass(frozen=True, slots=True)
class Requirement:
    """One condition of a selector: ``key operator values``."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    @classmethod
    def new(cls, key: str, operator: Operator | str, values: Iterable[str] = ()) -> Requirement:
        """``NewRequirement``: a checked requirement, or BadRequest with every problem."""
        vals = tuple(values)
        errors: list[FieldError] = []
        if (err := _key_error(key, "key")) is not None:
            errors.append(err)
        rule = next((r for r in _ARITY if operator in r[0]), None)
        if rule is None:
            errors.append(not_supported("operator", operator, [str(op) for op in Operator]))
        elif rule[1](len(vals)):
            # A LabelSelector without values reaches Kubernetes as a nil slice: "null".
            errors.append(invalid("values", list(vals) or None, rule[2]))
        if operator in _ORDER:
            errors.extend(
                invalid(f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer")
                for i, v in enumerate(vals)
                if _int64(v) is None
            )
        for i, value in enumerate(vals):
            if problems := is_valid_label_value(value):
                errors.append(invalid(f"values[{i}][{key}]", value, "; ".join(problems)))
        if errors:
            raise BadRequest(_aggregate(errors))
        return cls(key, Operator(operator), vals)

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (Operator.IN, Operator.EQUALS, Operator.DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (Operator.NOT_IN, Operator.NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op is Operator.EXISTS:
            return self.key in labels
        if op is Operator.DOES_NOT_EXIST:
            return self.key not in labels
        # Gt / Lt: both sides must be integers, or nothing matches.
        have = _int64(labels[self.key]) if self.key in labels else None
        want = _int64(self.values[0]) if len(self.values) == 1 else None
        if have is None or want is None:
            return False
        return have > want if op is Operator.GREATER_THAN else have < want

    def __str__(self) -> str:
        op = self.operator
        if op is Operator.EXISTS:
            return self.key
        if op is Operator.DOES_NOT_EXIST:
            return "!" + self.key
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if op in _SET:
            return f"{self.key} {op} ({values})"
        symbol = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}.get(op, str(op))
        return f"{self.key}{symbol}{values}"


@dataclass(frozen=True, slots=True)
class Selector:
    """An AND of requirements. No requirements selects everything; ``Selector.nothing()``
    selects nothing (what a nil ``LabelSelector`` means)."""

    requirements: tuple[Requirement, ...] = ()
    _nothing: bool = field(default=False, repr=False)

    @classmethod
    def everything(cls) -> Selector:
        return cls()

    @classmethod
    def nothing(cls) -> Selector:
        return cls((), True)

    @classmethod
    def of(cls, requirements: Iterable[Requirement]) -> Selector:
        # Sorted by key, as Kubernetes does, so that str() is deterministic.
        return cls(tuple(sorted(requirements, key=lambda r: r.key)))

    @classmethod
    def from_set(cls, labels: Mapping[str, str]) -> Selector:
        """``SelectorFromSet``: exactly these labels (unchecked; ``{}`` is everything)."""
        return cls.of(Requirement(k, Operator.EQUALS, (v,)) for k, v in labels.items())

    @property
    def empty(self) -> bool:
        """True when the selector does not restrict anything (it matches every object)."""
        return not self.requirements and not self._nothing

    @property
    def is_nothing(self) -> bool:
        return self._nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self._nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def exact(self, key: str) -> str | None:
        """The one value ``key`` must have (``key=v``, ``key in (v)``), for index lookups."""
        for r in self.requirements:
            if r.key == key:
                exact_ops = (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.IN)
                return r.values[0] if r.operator in exact_ops and len(r.values) == 1 else None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


# --- the string syntax ----------------------------------------------------------------

_WHITESPACE = " \t\r\n"
_SPECIAL = "=!(),><"
_KEYWORDS = ("in", "notin")
_OPERATOR_TOKENS = dict(zip(("in", "notin", "=", "==", "!=", ">", "<"), _BINARY, strict=True))
_IDENT, _END = "IDENT", "END"


def _lex(text: str) -> list[tuple[str, str]]:
    """(kind, literal) tokens, ending with END; a symbol or keyword is its own kind.
    The parser decides from context whether ``in`` is an operator or a value."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in _WHITESPACE:
            i += 1
        if i >= n:
            tokens.append((_END, ""))
            return tokens
        if text[i] in _SPECIAL:
            symbol = text[i : i + 2] if text[i : i + 2] in ("==", "!=") else text[i]
            tokens.append((symbol, symbol))
            i += len(symbol)
            continue
        start = i
        while i < n and text[i] not in _SPECIAL and text[i] not in _WHITESPACE:
            i += 1
        word = text[start:i]
        tokens.append((word if word in _KEYWORDS else _IDENT, word))


class _Parser:
    """The recursive-descent parser of ``labels.Parse``, error messages included."""

    def __init__(self, text: str) -> None:
        self._tokens = _lex(text)
        self._pos = 0

    def _peek(self, *, values: bool = True) -> tuple[str, str]:
        kind, lit = self._tokens[self._pos]
        # Where a value is expected, "in" and "notin" are just words.
        return (_IDENT, lit) if values and kind in _KEYWORDS else (kind, lit)

    def _next(self, *, values: bool = True) -> tuple[str, str]:
        token = self._peek(values=values)
        self._pos += 1
        return token

    def parse(self) -> list[Requirement]:
        found: list[Requirement] = []
        while True:
            kind, lit = self._peek()
            if kind == _END:
                return found
            if kind not in (_IDENT, "!"):
                raise BadRequest(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                found.append(self._requirement())
            except BadRequest as err:
                raise BadRequest(f"unable to parse requirement: {err.message}") from None
            kind, lit = self._next()
            if kind == _END:
                return found
            if kind != ",":
                raise BadRequest(f"found '{lit}', expected: ',' or 'end of string'")
            kind, lit = self._peek()
            if kind not in (_IDENT, "!"):
                raise BadRequest(f"found '{lit}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        negated = False
        kind, key = self._next()
        if kind == "!":
            negated = True
            kind, key = self._next()
        if kind != _IDENT:
            raise BadRequest(f"found '{key}', expected: identifier")
        if problems := is_qualified_name(key):
            # Kubernetes validates the key against a nil field path, hence "<nil>".
            raise BadRequest(str(invalid("<nil>", key, "; ".join(problems))))
        if negated:
            return Requirement.new(key, Operator.DOES_NOT_EXIST)
        if self._peek()[0] in (_END, ","):
            return Requirement.new(key, Operator.EXISTS)
        kind, lit = self._next(values=False)
        if kind not in _OPERATOR_TOKENS:
            raise BadRequest(f"found '{lit}', expected: " + ", ".join(str(op) for op in _BINARY))
        op = _OPERATOR_TOKENS[kind]
        values = self._value_set() if op in _SET else self._exact_value()
        return Requirement.new(key, op, sorted(values))

    def _value_set(self) -> set[str]:
        kind, lit = self._next()
        if kind != "(":
            raise BadRequest(f"found '{lit}' expected: '('")
        kind, lit = self._peek()
        if kind == ")":
            self._next()
            return {""}
        if kind not in (_IDENT, ","):
            raise BadRequest(f"found '{lit}', expected: ',', ')' or identifier")
        values = self._value_list()
        if self._next()[0] != ")":
            raise BadRequest(f"found '{lit}', expected: ')'")
        return values

    def _value_list(self) -> set[str]:
        # Empty entries are empty-string values: "(,a)" is {"", "a"}.
        values: set[str] = set()
        while True:
            kind, lit = self._next()
            if kind == _IDENT:
                values.add(lit)
                after, after_lit = self._peek()
                if after == ")":
                    return values
                if after != ",":
                    raise BadRequest(f"found '{after_lit}', expected: ',' or ')'")
            elif kind == ",":
                if not values:
                    values.add("")
                after = self._peek()[0]
                if after == ")":
                    values.add("")
                    return values
                if after == ",":
                    values.add("")
            else:
                raise BadRequest(f"found '{lit}', expected: ',', or identifier")

    def _exact_value(self) -> set[str]:
        if self._peek()[0] in (_END, ","):
            return {""}
        kind, lit = self._next()
        if kind != _IDENT:
            raise BadRequest(f"found '{lit}', expected: identifier")
        return {lit}


def parse(text: str) -> Selector:
    """``labels.Parse``: ``a=b,c!=d,e in (f,g),!h,i>3``; BadRequest with Kubernetes' message."""
    return Selector.of(_Parser(text).parse())


# --- metav1.LabelSelector ---------------------------------------------------------------

_SELECTOR_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def from_label_selector(selector: Mapping[str, Any] | None) -> Selector:
    """``LabelSelectorAsSelector``: None selects nothing, ``{}`` everything."""
    if selector is None:
        return Selector.nothing()
    match_labels: Mapping[str, str] = selector.get("matchLabels") or {}
    expressions: Sequence[Mapping[str, Any]] = selector.get("matchExpressions") or []
    found = [Requirement.new(k, Operator.EQUALS, [v]) for k, v in sorted(match_labels.items())]
    for expr in expressions:
        op = _SELECTOR_OPERATORS.get(expr.get("operator", ""))
        if op is None:
            quoted = orjson.dumps(str(expr.get("operator", ""))).decode()
            raise BadRequest(f"{quoted} is not a valid label selector operator")
        found.append(Requirement.new(expr.get("key", ""), op, expr.get("values") or []))
    return Selector.of(found)


def validate_label_selector(selector: Mapping[str, Any] | None, path: str) -> list[FieldError]:
    """``ValidateLabelSelector`` for object validation (``spec.selector``)."""
    if selector is None:
        return []
    errors = validate_labels(selector.get("matchLabels") or {}, f"{path}.matchLabels")
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        here = f"{path}.matchExpressions[{i}]"
        op, values = expr.get("operator", ""), expr.get("values") or []
        if op in ("In", "NotIn"):
            if not values:
                errors.append(
                    required(f"{here}.values", "must be specified when `operator` is 'In' or 'NotIn'")
                )
        elif op in ("Exists", "DoesNotExist"):
            if values:
                errors.append(
                    forbidden(
                        f"{here}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                    )
                )
        else:
            errors.append(invalid(f"{here}.operator", op, "not a valid selector operator"))
        key = expr.get("key", "")
        errors.extend(invalid(f"{here}.key", key, msg) for msg in is_qualified_name(key))
        for j, value in enumerate(values):
            errors.extend(invalid(f"{here}.values[{j}]", value, msg) for msg in is_valid_label_value(value))
    return errors


# Label keys and values already found valid. Every object of an application carries the
# same few labels, and each check is regular-expression work (~2–3 µs a string, most of
# a create's metadata validation). Only valid strings are remembered, so an invalid one
# is checked and reported every time; the sets are bounded and simply start over.
_VALID_KEYS: set[str] = set()
_VALID_VALUES: set[str] = set()
_VALID_MAX = 8192


def validate_labels(labels: Mapping[str, str] | None, path: str) -> list[FieldError]:
    """``ValidateLabels``: every key a qualified name, every value a label value."""
    errors: list[FieldError] = []
    for key, value in (labels or {}).items():
        if key not in _VALID_KEYS:
            _check_label_part(key, is_qualified_name(key), _VALID_KEYS, path, errors)
        if type(value) is not str or value not in _VALID_VALUES:
            _check_label_part(value, is_valid_label_value(value), _VALID_VALUES, path, errors)
    return errors


def _check_label_part(
    text: Any, problems: list[str], valid: set[str], path: str, errors: list[FieldError]
) -> None:
    if problems:
        errors.extend(invalid(path, text, msg) for msg in problems)
    elif type(text) is str:
        if len(valid) >= _VALID_MAX:
            valid.clear()
        valid.add(text)


def validate_annotations(annotations: Mapping[str, str] | None, path: str) -> list[FieldError]:
    """``ValidateAnnotations``: keys are qualified names in any case; 256 KiB in total."""
    errors: list[FieldError] = []
    total = 0
    for key, value in (annotations or {}).items():
        errors.extend(invalid(path, key, msg) for msg in is_qualified_name(key.lower()))
        total += len(key.encode()) + len(value.encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errors.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errors
