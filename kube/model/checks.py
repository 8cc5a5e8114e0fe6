"""Small validation helpers shared by the per-group validators, in Kubernetes' words.

Validators collect ``FieldError``s rather than raising, so that one answer lists every
problem. These helpers return lists (usually empty) and never raise on odd input: by
the time they run ``check_structure`` has guaranteed each field's JSON type, but any
optional field may still be missing or null.

Some Kubernetes messages print the offending Go value with ``%#v`` (a label selector,
a string map); ``go_map`` and ``go_selector`` reproduce that text so messages such as
``Invalid value: map[string]string{"app":"web"}: `selector` does not match template
`labels``` read exactly as kubectl users know them.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from kube import names
from kube.errors import FieldError, FieldErrorType, invalid, not_found, not_supported, required

Obj = dict[str, Any]

INT32_MAX = 2**31 - 1


def dicts(value: Any) -> Iterator[tuple[int, Obj]]:
    """``(index, element)`` for the dict elements of a list field; nothing otherwise."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def obj(value: Any) -> Obj:
    """A sub-object, or an empty one when the field is unset."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def is_int(value: Any) -> bool:
    return type(value) is int


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class ContentMemo:
    """Results remembered by the exact JSON content they were computed from.

    Controllers create pods from templates by the thousand, so the same pod spec is
    checked over and over; a pure check of a sub-object can be answered from memory
    for the cost of serializing it (a few µs with orjson). Bounded: the oldest entry
    is dropped first. Keys are exact bytes, so a hit is always the same content.
    """

    def __init__(self, *, size: int) -> None:
        self._size = size
        self._data: dict[tuple[Any, ...], Any] = {}
        self._lock = threading.Lock()  # only writers take it: eviction iterates the dict

    @staticmethod
    def key(value: Any, *context: Any) -> tuple[Any, ...] | None:
        try:
            return (*context, orjson.dumps(value))
        except TypeError:
            return None  # not plain JSON (an integer beyond 64 bits): never remembered

    def get(self, key: tuple[Any, ...] | None) -> Any:
        return None if key is None else self._data.get(key)

    def put(self, key: tuple[Any, ...] | None, result: Any) -> None:
        if key is None:
            return
        with self._lock:
            if len(self._data) >= self._size:
                self._data.pop(next(iter(self._data)), None)
            self._data[key] = result


# -- values printed the way Go's %#v prints them --------------------------------------


def go_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def go_map(value: Any) -> str:
    """``map[string]string{"a":"b", "c":"d"}`` (keys sorted, as fmt prints maps)."""
    if value is None:
        return "map[string]string(nil)"
    if not isinstance(value, dict):
        return "map[string]string{}"
    inner = ", ".join(f"{go_quote(str(k))}:{go_quote(str(v))}" for k, v in sorted(value.items()))
    return "map[string]string{" + inner + "}"


def go_selector(selector: Any) -> str:
    """A metav1.LabelSelector as ``%#v`` prints it."""
    selector = obj(selector)
    expressions = selector.get("matchExpressions")
    if isinstance(expressions, list):
        parts = []
        for _, expr in dicts(expressions):
            values = expr.get("values")
            shown = (
                "[]string(nil)"
                if not isinstance(values, list)
                else "[]string{" + ", ".join(go_quote(str(v)) for v in values) + "}"
            )
            parts.append(
                f"v1.LabelSelectorRequirement{{Key:{go_quote(text(expr.get('key')))}, "
                f"Operator:{go_quote(text(expr.get('operator')))}, Values:{shown}}}"
            )
        shown_expressions = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    else:
        shown_expressions = "[]v1.LabelSelectorRequirement(nil)"
    return f"v1.LabelSelector{{MatchLabels:{go_map(selector.get('matchLabels'))}, MatchExpressions:{shown_expressions}}}"


def invalid_shown(path: str, shown: str, detail: str) -> FieldError:
    """An Invalid error whose value is already rendered (Go ``%#v`` text, unquoted)."""
    return FieldError(type=FieldErrorType.INVALID, field=path, detail=f"{shown}: {detail}")


def missing_reference(path: str, value: Any) -> FieldError:
    """``Not found: "x"``: a name that refers to nothing (a volume, a port)."""
    return not_found(path, value)


def immutable(path: str, value: Any) -> FieldError:
    return invalid(path, value, "field is immutable")


def immutable_shown(path: str, shown: str) -> FieldError:
    return invalid_shown(path, shown, "field is immutable")


# -- numbers ----------------------------------------------------------------------------


def non_negative(value: Any, path: str) -> list[FieldError]:
    if is_int(value) and value < 0:
        return [invalid(path, value, "must be greater than or equal to 0")]
    return []


def positive(value: Any, path: str) -> list[FieldError]:
    if is_int(value) and value <= 0:
        return [invalid(path, value, "must be greater than 0")]
    return []


def in_range(value: Any, path: str, low: int, high: int) -> list[FieldError]:
    if is_int(value) and not low <= value <= high:
        return [invalid(path, value, f"must be between {low} and {high}, inclusive")]
    return []


def supported(
    value: Any, path: str, allowed: tuple[str, ...], *, allow_empty: bool = False
) -> list[FieldError]:
    """Required when empty (unless allowed), NotSupported when not one of ``allowed``."""
    if value is None or value in allowed:
        return []
    if value == "":
        return [] if allow_empty else [required(path)]
    return [not_supported(path, value, list(allowed))]


# -- names ------------------------------------------------------------------------------


def _memo(check: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    """A name rule with its answers remembered: the same names recur in every object.
    Callers get a fresh list each time, so the cache cannot be corrupted."""
    cached = functools.lru_cache(maxsize=8192)(lambda value: tuple(check(value)))

    def run(value: str) -> list[str]:
        return list(cached(value))

    return run


dns1123_label = _memo(names.is_dns1123_label)
dns1123_subdomain = _memo(names.is_dns1123_subdomain)
dns1035_label = _memo(names.is_dns1035_label)
qualified_name = _memo(names.is_qualified_name)


def name_errors(value: Any, path: str, check: Callable[[str], list[str]] = dns1123_label) -> list[FieldError]:
    """Required when "", otherwise one Invalid per problem ``check`` finds."""
    if not isinstance(value, str):
        return []
    if value == "":
        return [required(path)]
    return [invalid(path, value, msg) for msg in check(value)]


def label_name(value: Any, path: str) -> list[FieldError]:
    if not isinstance(value, str):
        return []
    return [invalid(path, value, msg) for msg in qualified_name(value)]


_PORT_NAME_CHARS = re.compile(r"^[-a-z0-9]+$")
_HAS_LETTER = re.compile(r"[a-z]")


@functools.lru_cache(maxsize=4096)
def port_name_problems(value: str) -> tuple[str, ...]:
    """IANA_SVC_NAME rules (apimachinery's IsValidPortName); remembered, as port
    names repeat across every pod of a workload."""
    problems = []
    if len(value) > 15:
        problems.append(names.max_len_error(15))
    if not _PORT_NAME_CHARS.match(value):
        problems.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _HAS_LETTER.search(value):
        problems.append("must contain at least one letter (a-z)")
    if "--" in value:
        problems.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        problems.append("must not begin or end with a hyphen")
    return tuple(problems)


def port_number(value: Any, path: str) -> list[FieldError]:
    if is_int(value):
        return [invalid(path, value, msg) for msg in names.is_valid_port_num(value)]
    return []


def port_num_or_name(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, str):
        return [invalid(path, value, msg) for msg in port_name_problems(value)]
    return port_number(value, path)


_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_CONFIG_KEY_MSG = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
)


def config_key_problems(value: str) -> list[str]:
    """The rules for ConfigMap/Secret keys and projected file names (IsConfigMapKey)."""
    problems = []
    if len(value) > names.DNS1123_SUBDOMAIN_MAX:
        problems.append(names.max_len_error(names.DNS1123_SUBDOMAIN_MAX))
    if not _CONFIG_KEY.match(value):
        problems.append(_CONFIG_KEY_MSG)
    if value == ".":
        problems.append("must not be '.'")
    elif value == "..":
        problems.append("must not be '..'")
    elif value.startswith(".."):
        problems.append("must not start with '..'")
    return problems


def go_intstr(value: Any) -> str:
    """An ``intstr.IntOrString`` as ``%#v`` prints it (Type 0 is int, 1 is string)."""
    if isinstance(value, str):
        return f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(value)}}}"
    number = value if is_int(value) else 0
    return f'intstr.IntOrString{{Type:0, IntVal:{number}, StrVal:""}}'


def percent_or_int(value: Any, path: str, *, at_most_100: bool = True) -> list[FieldError]:
    """ValidatePositiveIntOrPercent (a non-negative integer or a percentage) and, when
    ``at_most_100``, IsNotMoreThan100Percent."""
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]+%", value):
            return [
                invalid_shown(
                    path,
                    go_intstr(value),
                    "a valid percent string must be a numeric string followed by an ending '%' "
                    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
                )
            ]
        if at_most_100 and int(value[:-1]) > 100:
            return [invalid_shown(path, go_intstr(value), "must not be greater than 100%")]
        return []
    return non_negative(value, path)


def percent_value(value: Any) -> int | None:
    """The integer of ``"25%"`` (None when not a percentage)."""
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return int(value[:-1])
    return None


def relative_path(value: Any, path: str) -> list[FieldError]:
    """validateLocalDescendingPath: relative, and no ``..`` element."""
    if not isinstance(value, str) or not value:
        return []
    problems = []
    if value.startswith("/"):
        problems.append(invalid(path, value, "must be a relative path"))
    if ".." in value.replace("\\", "/").split("/"):
        problems.append(invalid(path, value, "must not contain '..'"))
    return problems
