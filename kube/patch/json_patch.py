"""RFC 6902 JSON patch (``application/json-patch+json``), with kube-apiserver's answers.

The operations themselves come from the ``jsonpatch`` library; what this module adds is
the mapping of failures onto the Status errors Kubernetes sends, because clients branch
on the code: a body that is not a list of operation objects cannot be decoded (400
BadRequest, ``error decoding patch: ...``), more than 10,000 operations is 413, and an
operation that cannot be applied — a failed ``test``, a missing path, an unknown ``op`` —
is 422 with the generic ``the server rejected our request due to an error in our
request`` (kube-apiserver deliberately does not echo the library's text, and neither do
we; the cause stays chained on the exception for logs).
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import jsonpointer
import orjson

from kube.errors import BadRequest, Invalid, TooLarge, invalid
from kube.patch._gofmt import json_kind

# staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go: maxJSONPatchOperations
MAX_OPERATIONS = 10000

REJECTED = "the server rejected our request due to an error in our request"


def json_patch(doc: dict[str, Any], ops: list[Any]) -> dict[str, Any]:
    """Apply JSON patch ``ops`` to ``doc`` and return the new document (inputs untouched)."""
    _check_shape(ops)
    try:
        patched = jsonpatch.JsonPatch(copy.deepcopy(ops)).apply(doc, in_place=False)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException,
            TypeError, KeyError, IndexError, ValueError) as exc:
        raise Invalid(REJECTED) from exc
    if not isinstance(patched, dict):
        # The handler decodes the result into the kind's type; anything but an object fails
        # there, and the error names the whole patched document as the invalid value.
        raise Invalid.of(kind="", name="", errors=[invalid(
            "patch", orjson.dumps(patched).decode(),
            f"json: cannot unmarshal {json_kind(patched)} into Go value of type map[string]interface {{}}",
        )])
    return patched


def _check_shape(ops: Any) -> None:
    """Reject what the strict decoder refuses before anything is applied (400)."""
    if not isinstance(ops, list):
        raise BadRequest(
            f"error decoding patch: json: cannot unmarshal {json_kind(ops)} "
            "into Go value of type []handlers.jsonPatchOp"
        )
    for op in ops:
        if not isinstance(op, dict):
            raise BadRequest(
                f"error decoding patch: json: cannot unmarshal {json_kind(op)} "
                "into Go value of type handlers.jsonPatchOp"
            )
    if len(ops) > MAX_OPERATIONS:
        raise TooLarge(f"The allowed maximum operations in a JSON patch is {MAX_OPERATIONS}, got {len(ops)}")

