"""Every PATCH flavour kube-apiserver accepts, plus the field ownership bookkeeping behind them.

* ``json_patch`` — RFC 6902 operations (``application/json-patch+json``);
* ``merge_patch`` — RFC 7386 merge (``application/merge-patch+json``);
* ``strategic_merge_patch`` — Kubernetes' schema-aware merge
  (``application/strategic-merge-patch+json``, kubectl's default);
* ``apply_patch`` — server-side apply (``application/apply-patch+yaml``);
* ``update_managed_fields`` — ``metadata.managedFields`` for every other write, so that
  later applies conflict with fields other writers set.

All take decoded JSON and return new objects; inputs are left untouched (except that
``update_managed_fields`` writes the ``managedFields`` of the object it is given).
Failures are ``kube.errors`` Status errors with kube-apiserver's codes and wording.
"""

from kube.patch.apply import apply_patch
from kube.patch.json_patch import json_patch
from kube.patch.managed import update_managed_fields
from kube.patch.merge_patch import merge_patch
from kube.patch.strategic import strategic_merge_patch

__all__ = ["apply_patch", "json_patch", "merge_patch", "strategic_merge_patch", "update_managed_fields"]
