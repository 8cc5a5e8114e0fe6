"""Server-side printing: the ``meta.k8s.io/v1`` Table for every served kind.

``kubectl get`` prints exactly the columns and cells the API server returns, so this
package reproduces Kubernetes' printers (``pkg/printers/internalversion``) kind by
kind, the default NAME / CREATED AT table for kinds without one, and CRD
``additionalPrinterColumns`` for custom resources. The HTTP layer calls ``table_for``
when a client's Accept header asks for ``as=Table``.

Layout: ``registry`` (columns and row functions per resource), ``table`` (assembling
the Table), one module per group of kinds (``pods``, ``nodes``, ``services``,
``config``, ``events``, ``workloads``, ``cluster``, ``rbac``), ``custom`` and
``jsonpath`` for custom resources, ``formatting`` for the shared cell formats.
"""

from __future__ import annotations

from .custom import register_custom
from .formatting import Cell, human_duration
from .jsonpath import JSONPathError
from .jsonpath import parse as parse_jsonpath
from .registry import Column, ResourceKey, RowFn, key_of, register, unregister
from .table import DEFAULT_COLUMNS, columns_for, table_for

__all__ = [
    "DEFAULT_COLUMNS",
    "Cell",
    "Column",
    "JSONPathError",
    "ResourceKey",
    "RowFn",
    "columns_for",
    "human_duration",
    "key_of",
    "parse_jsonpath",
    "register",
    "register_custom",
    "table_for",
    "unregister",
]
