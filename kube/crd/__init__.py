"""CustomResourceDefinitions: everything about them that is not HTTP.

A CRD brings its own schema, and every custom resource written must be pruned,
defaulted and validated against it (CEL rules included) exactly as Kubernetes does.
Both the API server and the in-memory API of ``kube.testing`` need that, so it lives
here, below both:

- ``structural`` / ``definition`` / ``columns``: is a CRD object acceptable
  (``lifecycle.prepare_create``/``prepare_update`` raise ``Invalid`` if not);
- ``status``: accepted names and the ``NamesAccepted``/``Established`` conditions;
- ``schema`` (compiled nodes), ``validate``, ``prune`` (pruning and defaulting),
  ``cel`` (``x-kubernetes-validations``);
- ``served``: ``compile_crd`` → ``CustomResource`` with one ``Version`` per version,
  whose ``prepare`` runs the whole write pipeline on an object;
- ``nodes``: the schema as ``kube.model`` nodes, for server-side apply.
"""

from .columns import get_path, set_path
from .definition import set_defaults, storage_version, validate_crd
from .lifecycle import GROUP, KIND, prepare_create, prepare_update, record_storage_version, validate_status
from .schema import Schema, compile_schema
from .served import CustomResource, Names, Scale, Version, compile_crd
from .status import CLEANUP_FINALIZER, ESTABLISHED, NAMES_ACCEPTED, TERMINATING, desired_status, same_status

__all__ = [
    "CLEANUP_FINALIZER",
    "ESTABLISHED",
    "GROUP",
    "KIND",
    "NAMES_ACCEPTED",
    "TERMINATING",
    "CustomResource",
    "Names",
    "Scale",
    "Schema",
    "Version",
    "compile_crd",
    "compile_schema",
    "desired_status",
    "get_path",
    "prepare_create",
    "prepare_update",
    "record_storage_version",
    "same_status",
    "set_defaults",
    "set_path",
    "storage_version",
    "validate_crd",
    "validate_status",
]
