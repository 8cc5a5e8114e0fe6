"""Informers: a local, indexed, always-current copy of API objects (as client-go's tools/cache).

Reflector (lists and watches) → Store (caches and indexes) → Registration (delivers
add/update/delete to one consumer's handlers); :class:`SharedInformer` wires the three
for one resource, and :class:`SharedInformerFactory` hands out one per resource.
"""

from kube.informers.factory import SharedInformerFactory
from kube.informers.informer import SharedInformer
from kube.informers.listener import Registration
from kube.informers.reflector import Reflector, ReflectorSink
from kube.informers.store import (
    NAMESPACE_INDEX,
    DeletedFinalStateUnknown,
    IndexFunc,
    Store,
    field_index,
    namespace_index,
    object_key,
)

__all__ = [
    "NAMESPACE_INDEX",
    "DeletedFinalStateUnknown",
    "IndexFunc",
    "Reflector",
    "ReflectorSink",
    "Registration",
    "SharedInformer",
    "SharedInformerFactory",
    "Store",
    "field_index",
    "namespace_index",
    "object_key",
]
