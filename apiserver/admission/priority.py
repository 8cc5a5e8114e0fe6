"""Priority admission: a pod's priority comes from its PriorityClass, never from itself.

As Kubernetes' plugin:

- ``priorityClassName`` names a PriorityClass that must exist ("no PriorityClass with
  name x was found"), and ``spec.priority`` is set to its value — a pod that states a
  different number itself is refused, so nobody buys priority by writing a number;
- no class named: the ``globalDefault`` class if there is one (lowest value wins if a
  race made two), else priority 0;
- ``spec.preemptionPolicy`` likewise comes from the class (default
  ``PreemptLowerPriority``);
- the ``system-node-critical`` and ``system-cluster-critical`` classes may be used only
  by pods in ``kube-system``, because such pods preempt everything else;
- at most one PriorityClass may be ``globalDefault``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from apiserver.registry import Context
from apiserver.registry.admission import Operation

from .chain import Base, Obj, as_dict, forbidden
from .lookup import cached_list, lookup, store_of

SYSTEM_CLASSES = frozenset({"system-node-critical", "system-cluster-critical"})
SYSTEM_NAMESPACE = "kube-system"
DEFAULT_PREEMPTION = "PreemptLowerPriority"


class PriorityAdmission(Base):
    name: ClassVar[str] = "Priority"
    resources: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("", "pods"), ("scheduling.k8s.io", "priorityclasses")}
    )

    def _classes(self) -> Any:
        return store_of(self.api, group="scheduling.k8s.io", resource="priorityclasses")

    def _default_class(self, *, excluding: str = "") -> Obj | None:
        found: Obj | None = None
        for pc in cached_list(self._classes()):
            if pc.get("globalDefault") is True and pc["metadata"]["name"] != excluding:
                if found is None or int(pc.get("value") or 0) < int(found.get("value") or 0):
                    found = pc
        return found

    async def mutate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        if ctx.info.resource != "pods" or ctx.subresource or not isinstance(obj, dict):
            return
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        if operation is Operation.UPDATE:
            # Priority is immutable; an update that leaves it out keeps the stored one.
            old_priority = as_dict(as_dict(old).get("spec")).get("priority")
            if spec.get("priority") is None and old_priority is not None:
                spec["priority"] = old_priority
            return
        if operation is not Operation.CREATE:
            return
        namespace = str(as_dict(obj.get("metadata")).get("namespace") or ctx.namespace)
        class_name = spec.get("priorityClassName")
        pc: Obj | None
        if not class_name:
            pc = self._default_class()
            if pc is not None:
                spec["priorityClassName"] = pc["metadata"]["name"]
        elif not isinstance(class_name, str):
            return  # validation reports the type
        else:
            if class_name in SYSTEM_CLASSES and namespace != SYSTEM_NAMESPACE:
                raise forbidden(ctx, obj, f"pods with {class_name} priorityClass is not permitted in {namespace} namespace")
            pc = await lookup(self._classes(), namespace="", name=class_name)
            if pc is None:
                raise forbidden(ctx, obj, f"no PriorityClass with name {class_name} was found")
        priority = int(pc.get("value") or 0) if pc is not None else 0
        given = spec.get("priority")
        if given is not None and given != priority:
            raise forbidden(
                ctx,
                obj,
                f"the integer value of priority ({given}) must not be provided in pod spec; "
                f"priority admission controller computed {priority} from the given PriorityClass name",
            )
        spec["priority"] = priority
        policy = (pc or {}).get("preemptionPolicy") or DEFAULT_PREEMPTION
        given_policy = spec.get("preemptionPolicy")
        if given_policy is not None and given_policy != policy:
            raise forbidden(
                ctx,
                obj,
                f"the string value of PreemptionPolicy ({given_policy}) must not be provided in pod spec; "
                f"priority admission controller computed {policy} from the given PriorityClass name",
            )
        spec["preemptionPolicy"] = policy

    async def validate(self, *, ctx: Context, operation: Operation, obj: Obj | None, old: Obj | None) -> None:
        if ctx.info.resource != "priorityclasses" or operation not in (Operation.CREATE, Operation.UPDATE):
            return
        if not isinstance(obj, dict) or obj.get("globalDefault") is not True:
            return
        name = as_dict(obj.get("metadata")).get("name") or ""
        existing = self._default_class(excluding=name if operation is Operation.UPDATE else "")
        if existing is not None and existing["metadata"]["name"] != name:
            raise forbidden(
                ctx, obj, f"PriorityClass {existing['metadata']['name']} is already marked as default. Only one default can exist"
            )
