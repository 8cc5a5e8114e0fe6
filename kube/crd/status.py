"""A CRD's status as Kubernetes' controllers maintain it: accepted names and conditions.

Two CRDs of one group may ask for the same plural or kind; only the first keeps it.
kube-apiextensions' naming controller decides, per CRD, which requested names are
free (not accepted by another CRD of the group) and records them in
``status.acceptedNames``, with a ``NamesAccepted`` condition saying why not when one
is taken (``PluralConflict``, ``KindConflict``, ...). A CRD is ``Established`` — its
resource served — once its names were accepted, and stays so. These functions are
that logic, pure, so the API server and ``kube.testing`` share it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from kube import meta as kmeta

Obj = dict[str, Any]
NAMES_ACCEPTED = "NamesAccepted"
ESTABLISHED = "Established"
TERMINATING = "Terminating"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def condition(crd: Mapping[str, Any], type_: str) -> Obj | None:
    for cond in (crd.get("status") or {}).get("conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == type_:
            return dict(cond)
    return None


def is_true(crd: Mapping[str, Any], type_: str) -> bool:
    found = condition(crd, type_)
    return found is not None and found.get("status") == "True"


def set_condition(status: Obj, new: Obj) -> None:
    """Add or replace a condition; ``lastTransitionTime`` changes only with the status."""
    conditions: list[Obj] = status.setdefault("conditions", [])
    for index, old in enumerate(conditions):
        if old.get("type") == new["type"]:
            if old.get("status") == new["status"] and old.get("lastTransitionTime"):
                new = {**new, "lastTransitionTime": old["lastTransitionTime"]}
            conditions[index] = new
            return
    conditions.append(new)


def _cond(type_: str, status: str, reason: str, message: str) -> Obj:
    return {"type": type_, "status": status, "lastTransitionTime": kmeta.now(), "reason": reason, "message": message}


def _used_names(crd: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> tuple[set[str], set[str]]:
    """Resource names and kinds other CRDs of the same group have been given."""
    group = (crd.get("spec") or {}).get("group")
    name = (crd.get("metadata") or {}).get("name")
    resources: set[str] = set()
    kinds: set[str] = set()
    for other in others:
        if (other.get("spec") or {}).get("group") != group or (other.get("metadata") or {}).get("name") == name:
            continue
        accepted = (other.get("status") or {}).get("acceptedNames") or {}
        resources.update(x for x in (accepted.get("plural"), accepted.get("singular")) if x)
        resources.update(accepted.get("shortNames") or ())
        kinds.update(x for x in (accepted.get("kind"), accepted.get("listKind")) if x)
    return resources, kinds


def _taken(requested: Any, accepted: Any, used: set[str]) -> str:
    if requested == accepted or requested not in used:
        return ""
    return f'"{requested}" is already in use'


def names_and_conditions(crd: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> tuple[Obj, Obj, Obj]:
    """(acceptedNames, NamesAccepted condition, Established condition) for ``crd``
    given every CRD of the cluster (``calculateNamesAndConditions``)."""
    resources, kinds = _used_names(crd, others)
    requested = (crd.get("spec") or {}).get("names") or {}
    accepted = dict((crd.get("status") or {}).get("acceptedNames") or {})
    # plural and kind are required (never omitted) in the API: "" until accepted.
    names = {"plural": "", "kind": "", **copy.deepcopy(accepted)}
    problem: tuple[str, str] | None = None
    for field, reason, used in (("plural", "PluralConflict", resources), ("singular", "SingularConflict", resources)):
        message = _taken(requested.get(field), accepted.get(field), used)
        if message:
            problem = (reason, message)
        elif requested.get(field):
            names[field] = requested[field]
    short = list(requested.get("shortNames") or ())
    if short != list(accepted.get("shortNames") or ()):
        mine = set(accepted.get("shortNames") or ())
        taken = [_taken(s, "", resources) for s in short if s not in mine]
        taken = [t for t in taken if t]
        if taken:
            problem = ("ShortNamesConflict", taken[0] if len(taken) == 1 else "[" + ", ".join(taken) + "]")
        elif short:
            names["shortNames"] = short
        else:
            names.pop("shortNames", None)
    for field, reason in (("kind", "KindConflict"), ("listKind", "ListKindConflict")):
        message = _taken(requested.get(field), accepted.get(field), kinds)
        if message:
            problem = (reason, message)
        elif requested.get(field):
            names[field] = requested[field]
    if requested.get("categories"):
        names["categories"] = list(requested["categories"])
    else:
        names.pop("categories", None)
    if problem is None:
        names_accepted = _cond(NAMES_ACCEPTED, "True", "NoConflicts", "no conflicts found")
    else:
        names_accepted = _cond(NAMES_ACCEPTED, "False", *problem)
    established = condition(crd, ESTABLISHED)
    if established is None or established.get("status") != "True":
        if problem is None:
            # The names are ours: serve them. (Kubernetes records "Installing" first and
            # establishes a moment later; with one API server there is nothing to wait for.)
            established = _cond(ESTABLISHED, "True", "InitialNamesAccepted", "the initial names have been accepted")
        else:
            established = _cond(ESTABLISHED, "False", "NotAccepted", "not all names are accepted")
    return names, names_accepted, established


def desired_status(crd: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> Obj:
    """The status ``crd`` should have: names and conditions worked out, storedVersions kept."""
    status = copy.deepcopy(dict(crd.get("status") or {}))
    names, accepted, established = names_and_conditions(crd, others)
    status["acceptedNames"] = names
    set_condition(status, accepted)
    set_condition(status, established)
    status.setdefault("storedVersions", [])
    return status


def terminating(status: Obj, *, reason: str, message: str) -> None:
    set_condition(status, _cond(TERMINATING, "True", reason, message))


def same_status(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal apart from condition timestamps (so a no-op never rewrites the CRD)."""

    def strip(status: Mapping[str, Any]) -> Any:
        out = dict(status)
        out["conditions"] = sorted(
            ({k: v for k, v in c.items() if k != "lastTransitionTime"} for c in status.get("conditions") or ()),
            key=lambda c: str(c.get("type")),
        )
        return out

    return strip(a) == strip(b)
