"""Compile-time checks of a CEL rule against the schema it is attached to.

Kubernetes type-checks every ``x-kubernetes-validations`` rule when the CRD is written,
so a rule naming a field the schema does not have (``self.replcas``) or a function
that does not exist is refused then, not at the first custom resource. ``celpy`` only
parses, so this module walks the parse tree once and reports what cel-go's checker
would: ``undefined field 'replcas'`` and ``undeclared reference to 'foo' (in container
'')``. Types beyond "which fields exist" are not inferred: a rule that compares a
string with an integer still fails only when evaluated.
"""

from __future__ import annotations

from typing import Any

import lark

from .cel_library import KNOWN_FUNCTIONS
from .schema import Schema

_TYPE_NAMES = frozenset({"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type",
                         "duration", "timestamp"})  # fmt: skip
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_UNKNOWN: Any = None


class Checker:
    def __init__(self, *, variables: dict[str, Schema | None]) -> None:
        self.variables = variables
        self.problems: list[str] = []
        self.fields: set[str] | None = set()
        """Fields of ``self``/``oldSelf`` the rule reads, or None when it uses the whole
        value: evaluation then converts only those fields to CEL values."""

    def check(self, tree: lark.Tree) -> list[str]:
        self.visit(tree, dict(self.variables))
        return self.problems

    def visit(self, tree: Any, scope: dict[str, Schema | None]) -> Schema | None:
        """The schema of ``tree``'s value when it is known, else None."""
        if not isinstance(tree, lark.Tree):
            return _UNKNOWN
        rule = tree.data
        children = tree.children
        if rule == "ident":
            name = str(children[0])
            if name in ("self", "oldSelf"):
                self.fields = None  # the value used as a whole (``self == oldSelf``, ``size(self)``)
            return self.ident(name, scope)
        if rule == "member_dot":
            root = _identifier(children[0])
            if root in ("self", "oldSelf"):
                if self.fields is not None:
                    self.fields.add(str(children[1]))
                return self.field(scope.get(root), str(children[1]))
            target = self.visit(children[0], scope)
            return self.field(target, str(children[1]))
        if rule == "member_dot_arg":
            return self.method(tree, scope)
        if rule == "ident_arg":
            name = str(children[0])
            if name not in KNOWN_FUNCTIONS and name not in _TYPE_NAMES:
                self.problems.append(f"undeclared reference to '{name}' (in container '')")
            if name == "has" and len(children) > 1:
                self.has_argument(children[1], scope)
                return _UNKNOWN
            self.visit_all(children[1:], scope)
            return _UNKNOWN
        if rule == "member_index":
            target = self.visit(children[0], scope)
            self.visit(children[1], scope)
            if target is not None:
                return target.items or target.additional
            return _UNKNOWN
        if rule in ("paren_expr", "member", "primary") and len(children) == 1:
            return self.visit(children[0], scope)
        self.visit_all(children, scope)
        return _UNKNOWN

    def visit_all(self, children: list[Any], scope: dict[str, Schema | None]) -> None:
        for child in children:
            self.visit(child, scope)

    def ident(self, name: str, scope: dict[str, Schema | None]) -> Schema | None:
        if name in scope:
            return scope[name]
        if name not in _TYPE_NAMES and name not in ("true", "false", "null"):
            self.problems.append(f"undeclared reference to '{name}' (in container '')")
        return _UNKNOWN

    def field(self, target: Schema | None, name: str) -> Schema | None:
        if target is None:
            return _UNKNOWN
        if target.properties:
            found = target.properties.get(name)
            if found is None and not target.preserve_unknown:
                self.problems.append(f"undefined field '{name}'")
            return found
        if target.additional is not None:
            return target.additional
        if target.type == "object" and not target.preserve_unknown and not target.embedded:
            self.problems.append(f"undefined field '{name}'")
        return _UNKNOWN

    def has_argument(self, exprlist: Any, scope: dict[str, Schema | None]) -> None:
        # has(self.x) may name a field that is absent from the value, never one that
        # the schema lacks; the argument is checked like any field selection.
        self.visit(exprlist, scope)

    def method(self, tree: lark.Tree, scope: dict[str, Schema | None]) -> Schema | None:
        target_tree, name_token = tree.children[0], tree.children[1]
        args = tree.children[2] if len(tree.children) > 2 else None
        name = str(name_token)
        target = self.visit(target_tree, scope)
        if name not in KNOWN_FUNCTIONS:
            self.problems.append(f"undeclared reference to '{name}' (in container '')")
        arguments = list(args.children) if isinstance(args, lark.Tree) else []
        if name in _MACROS and arguments:
            variable = _identifier(arguments[0])
            if variable is None:
                self.problems.append(f"{name}() variable name must be a simple identifier")
                return _UNKNOWN
            element: Schema | None = _UNKNOWN
            if target is not None:
                if target.items is not None:
                    element = target.items
                elif target.properties or target.additional is not None:
                    element = Schema(type="string")  # a map's comprehension iterates its keys
            inner = {**scope, variable: element}
            self.visit_all(arguments[1:], inner)
            return _UNKNOWN
        self.visit_all(arguments, scope)
        return _UNKNOWN


def _identifier(tree: Any) -> str | None:
    """The name if ``tree`` is nothing but one identifier (a macro's variable)."""
    while isinstance(tree, lark.Tree):
        if tree.data == "ident":
            return str(tree.children[0])
        if len(tree.children) != 1:
            return None
        tree = tree.children[0]
    return None
