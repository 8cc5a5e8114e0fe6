"""``x-kubernetes-validations``: CEL rules compiled once per CRD version, run on every write.

A rule is attached to a schema node; ``self`` is the value at that node and, in a
*transition rule* (one that mentions ``oldSelf``), ``oldSelf`` is the value the stored
object had there. Transition rules run only on updates, where the old value can be
correlated (object fields by name, map values by key, ``x-kubernetes-list-type: map``
items by their keys); other rules run on every write.

A failing rule is reported as Kubernetes reports it::

    spec: Invalid value: "object": replicas must not exceed maxReplicas

The message is the rule's ``message``, else its ``messageExpression`` evaluated, else
``failed rule: <rule>``; ``reason`` picks the error type (FieldValueForbidden,
FieldValueRequired, FieldValueDuplicate; Invalid by default) and ``fieldPath`` moves
the error to a field below the node.

Evaluation uses ``celpy``'s compiled runner (it transpiles to Python; the interpreter
is several times slower), adjusted where it was wrong or slow: ``has()`` returns a CEL
bool (so ``has(self.x) ? … : …`` and ``!has(self.x)`` work), literals are built once,
``self``/``oldSelf`` are read from a plain dict, and only the fields of ``self`` a rule
reads are converted to CEL values. Like celpy's own runner, evaluation uses module
globals and is not thread-safe: the API server evaluates on its event-loop thread.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, cast

import celpy
import lark
from celpy import celtypes
from celpy.evaluation import CELEvalError, Phase1Transpiler, Phase2Transpiler, Transpiler, TranspilerTree

from kube.errors import FieldError, duplicate, forbidden, invalid, required

from .cel_check import Checker
from .cel_library import LIBRARY, to_cel, to_json
from .schema import Schema

# celpy logs every transpiled program at INFO and every evaluation error at ERROR:
# rule failures are answers to clients, not server errors.
for _name in ("celpy", "celpy.CompiledRunner", "celpy.Environment", "celpy.evaluation", "Evaluator", "Transpiler"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

REASONS = ("FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate")


class CELCompileError(ValueError):
    """A rule that does not compile; the message is cel-go's ``compilation failed: …``."""


_LIBRARY_GLOBAL = "__kube_cel_library__"
_CONSTANTS_GLOBAL = "__kube_cel_constants__"
# The transpiled code runs in celpy.evaluation's globals and names each function by its
# module path; library functions are reached through this one name there instead, and
# literals through a table of values built once (celpy would construct ``IntType(3)``,
# a range-checked call costing tens of microseconds, on every evaluation).
celpy.evaluation.__dict__.setdefault(_LIBRARY_GLOBAL, LIBRARY)
_CONSTANTS: dict[str, Any] = celpy.evaluation.__dict__.setdefault(_CONSTANTS_GLOBAL, {})
# ``self`` and ``oldSelf`` are read from a plain dict, not through celpy's Activation,
# whose name lookup builds typing objects and debug strings on every access.
_VARIABLES_GLOBAL = "__kube_cel_variables__"
_VARIABLES = frozenset({"self", "oldSelf"})


class _Phase1(Phase1Transpiler):
    def ident_arg(self, tree: TranspilerTree) -> None:
        super().ident_arg(tree)
        if cast(lark.Token, tree.children[0]).value == "has":
            # celpy's has() yields a Python bool, which its ternary and "!" refuse.
            tree.transpiled = f"celpy.celtypes.BoolType({tree.transpiled})"

    def ident(self, tree: TranspilerTree) -> None:
        name = cast(lark.Token, tree.children[0]).value
        if name in _VARIABLES:
            tree.transpiled = f"{_VARIABLES_GLOBAL}[{name!r}]"
        else:
            super().ident(tree)

    def literal(self, tree: TranspilerTree) -> None:
        super().literal(tree)
        text = tree.transpiled
        if text != "None" and text not in _CONSTANTS:
            _CONSTANTS[text] = eval(text, celpy.evaluation.__dict__)  # celpy's own literal text
        if text != "None":
            tree.transpiled = f"{_CONSTANTS_GLOBAL}[{text!r}]"

    def func_name(self, label: str) -> str:
        if label in LIBRARY:
            return f"{_LIBRARY_GLOBAL}[{label!r}]"
        return super().func_name(label)


class _Transpiler(Transpiler):
    def transpile(self) -> None:
        _Phase1(self).visit(self.ast)
        phase_2 = Phase2Transpiler(self)
        phase_2.visit(self.ast)
        self.source_text = "\n".join(phase_2.statements(self.ast))
        self.executable_code = compile(self.source_text, "<string>", "exec")

    def evaluate(self, context: Any) -> Any:
        # As Transpiler.evaluate, minus cloning an Activation with the variables loaded:
        # the variables are read from ``context`` directly (see _Phase1.ident).
        namespace = celpy.evaluation.__dict__
        namespace["base_activation"] = self.base_activation
        namespace[_VARIABLES_GLOBAL] = context
        try:
            exec(self.executable_code, namespace)
            value = namespace["CEL"]
        except Exception as ex:
            raise CELEvalError("evaluation error", type(ex), ex.args) from None
        if isinstance(value, CELEvalError):
            raise value
        return value


class _Runner(celpy.CompiledRunner):
    def __init__(self, environment: celpy.Environment, ast: TranspilerTree, functions: Any = None) -> None:
        celpy.Runner.__init__(self, environment, ast, functions)
        self.tp = _Transpiler(ast=ast, activation=self.new_activation())
        self.tp.transpile()


_ENV = celpy.Environment(runner_class=_Runner)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    rule: str
    message: str
    message_expression: celpy.Runner | None
    reason: str
    field_path: str
    program: celpy.Runner
    transition: bool
    """Mentions ``oldSelf``: runs only on updates with a correlatable old value."""
    fields: frozenset[str] | None
    """The fields of ``self`` the rule reads (None: all of it); only they are converted."""
    raw: dict[str, Any]


def _parse(text: str) -> lark.Tree:
    try:
        return _ENV.compile(text)
    except celpy.CELParseError as err:
        first = str(err).splitlines()[0] if str(err) else "syntax error"
        line, column = err.line or 1, err.column or 1
        raise CELCompileError(
            f"compilation failed: ERROR: <input>:{line}:{column}: Syntax error: {first}"
        ) from None
    except (lark.exceptions.LarkError, RecursionError) as err:
        raise CELCompileError(f"compilation failed: ERROR: <input>:1:1: Syntax error: {err}") from None


def _program(text: str, tree: lark.Tree) -> celpy.Runner:
    try:
        return _ENV.program(tree, functions=LIBRARY)
    except Exception as err:  # celpy's transpiler raises plain exceptions for odd trees
        raise CELCompileError(f"compilation failed: ERROR: <input>:1:1: {err}") from None


def _refers_to_old_self(tree: lark.Tree) -> bool:
    return any(
        isinstance(t, lark.Tree) and t.data == "ident" and str(t.children[0]) == "oldSelf"
        for t in tree.iter_subtrees()
    )


def compile_rule(raw: dict[str, Any], node: Schema) -> Rule:
    """Compile one rule (raises ``CELCompileError`` naming what is wrong)."""
    text = raw.get("rule")
    if not isinstance(text, str) or not text.strip():
        raise CELCompileError("compilation failed: rule is empty")
    tree = _parse(text)
    checker = Checker(variables={"self": node, "oldSelf": node})
    problems = checker.check(tree)
    if problems:
        raise CELCompileError("compilation failed: " + "; ".join(
            f"ERROR: <input>:1:1: {p}" for p in dict.fromkeys(problems)))
    message_expression = None
    if isinstance(raw.get("messageExpression"), str) and raw["messageExpression"]:
        expr_tree = _parse(raw["messageExpression"])
        expr_problems = Checker(variables={"self": node, "oldSelf": node}).check(expr_tree)
        if expr_problems:
            raise CELCompileError("messageExpression compilation failed: " + "; ".join(expr_problems))
        message_expression = _program(raw["messageExpression"], expr_tree)
    return Rule(
        rule=text,
        message=str(raw.get("message") or ""),
        message_expression=message_expression,
        reason=str(raw.get("reason") or "FieldValueInvalid"),
        field_path=str(raw.get("fieldPath") or ""),
        program=_program(text, tree),
        transition=_refers_to_old_self(tree),
        fields=frozenset(checker.fields) if checker.fields is not None and message_expression is None else None,
        raw=dict(raw),
    )


def compile_rules(raw: Any, node: Schema, path: str) -> tuple[Rule, ...]:
    """The rules of one node (``compile_schema``'s ``rules`` hook). Assumes the CRD was
    validated, so every rule compiles."""
    return tuple(compile_rule(r, node) for r in raw.get("x-kubernetes-validations") or ())


# --- evaluation -------------------------------------------------------------------------


def _field_path(base: str, relative: str) -> str:
    if not relative:
        return base
    parts = re.sub(r"\['([^']*)'\]", r"[\1]", relative).lstrip(".")
    return f"{base}.{parts}" if base and not parts.startswith("[") else f"{base}{parts}"


def _message(rule: Rule, activation: dict[str, Any]) -> str:
    if rule.message_expression is not None:
        try:
            result = rule.message_expression.evaluate(activation)
        except Exception:  # a failing messageExpression falls back, as in Kubernetes
            result = None
        if isinstance(result, str) and result.strip():
            return str(result)
    return rule.message or f"failed rule: {rule.rule}"


def run_rule(rule: Rule, *, value: Any, old: Any, node: Schema, path: str, has_old: bool) -> FieldError | None:
    """Evaluate one rule at one position; the error to report, or None when it holds."""
    if rule.transition and not has_old:
        return None
    activation: dict[str, Any] = {"self": _converted(value, node, rule.fields)}
    if rule.transition:
        activation["oldSelf"] = _converted(old, node, rule.fields)
    where = _field_path(path, rule.field_path)
    shown = node.type_name or "object"
    try:
        result = rule.program.evaluate(activation)
    except CELEvalError as err:
        return invalid(where, shown, f"{_eval_error(err)} evaluating rule: {rule.rule}")
    except Exception as err:
        return invalid(where, shown, f"{err} evaluating rule: {rule.rule}")
    if isinstance(result, CELEvalError):
        return invalid(where, shown, f"{_eval_error(result)} evaluating rule: {rule.rule}")
    if not isinstance(result, celtypes.BoolType | bool):
        return invalid(where, shown, f"validation failed due to unexpected result type: rule: {rule.rule}")
    if result:
        return None
    message = _message(rule, activation)
    if rule.reason == "FieldValueForbidden":
        return forbidden(where, message)
    if rule.reason == "FieldValueRequired":
        return required(where, message)
    if rule.reason == "FieldValueDuplicate":
        return duplicate(where, to_json(activation["self"]))
    return invalid(where, shown, message)


def _converted(value: Any, node: Schema, fields: frozenset[str] | None) -> Any:
    if fields is not None and isinstance(value, dict):
        value = {k: value[k] for k in fields if k in value}
    return to_cel(value, node)


def _eval_error(err: Exception) -> str:
    args: tuple[Any, ...] = tuple(getattr(err, "args", ()))
    if len(args) >= 3 and isinstance(args[2], tuple) and args[2]:
        return f"{args[0]}: {args[2][0]}"
    return str(args[0]) if args else str(err)


class RuleRunner:
    """Runs every rule of a schema over an object (and its old version on update)."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def walk(self, value: Any, old: Any, node: Schema, path: str, *, has_old: bool) -> None:
        if value is None:
            return
        for rule in node.rules:
            error = run_rule(rule, value=value, old=old, node=node, path=path, has_old=has_old)
            if error is not None:
                self.errors.append(error)
        if isinstance(value, dict):
            old_map = old if has_old and isinstance(old, dict) else None
            if node.properties:
                for key, child in node.properties.items():
                    if key in value and _has_rules(child):
                        present = old_map is not None and key in old_map
                        self.walk(value[key], old_map.get(key) if present else None, child,  # type: ignore[union-attr]
                                  f"{path}.{key}" if path else key, has_old=present)
            elif node.additional is not None and _has_rules(node.additional):
                for key, item in value.items():
                    present = old_map is not None and key in old_map
                    self.walk(item, old_map.get(key) if present else None, node.additional,  # type: ignore[union-attr]
                              f"{path}[{key}]", has_old=present)
        elif isinstance(value, list) and node.items is not None and _has_rules(node.items):
            olds = _correlate(value, old if has_old else None, node)
            for index, element in enumerate(value):
                previous = olds.get(index, _ABSENT)
                self.walk(element, None if previous is _ABSENT else previous, node.items, f"{path}[{index}]",
                          has_old=previous is not _ABSENT)


_ABSENT = object()


def _has_rules(node: Schema) -> bool:
    return node.rules_below


def _correlate(value: list[Any], old: Any, node: Schema) -> dict[int, Any]:
    """Old items for new ones: by key in ``map`` lists, by value in ``set`` lists;
    items of atomic lists have no old value (Kubernetes cannot tell them apart)."""
    if not isinstance(old, list):
        return {}
    if node.list_type == "map" and node.list_map_keys:
        keys = node.list_map_keys
        by_key = {tuple(repr(o.get(k)) for k in keys): o for o in old if isinstance(o, dict)}
        return {
            i: by_key[tuple(repr(v.get(k)) for k in keys)]
            for i, v in enumerate(value)
            if isinstance(v, dict) and tuple(repr(v.get(k)) for k in keys) in by_key
        }
    if node.list_type == "set":
        return {i: v for i, v in enumerate(value) if v in old}
    return {}
