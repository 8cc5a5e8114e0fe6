"""The API server's watch cache: one storage watch per resource, fanned out to N clients.

Modelled on Kubernetes' cacher (apiserver/pkg/storage/cacher). ``Cacher`` keeps the
current objects of one resource and a bounded history of its changes, serves
``resourceVersion=0`` LISTs and GETs from memory, and serves every WATCH — initial
listing or resume from a revision — without touching storage. Objects handed out are
shared and read-only; callers must not mutate them.

Modules: ``cacher`` (list-and-watch loop, public API), ``dispatch`` (who hears about a
change, slow-watcher budget), ``watcher`` (a client's buffer, or the sink a server
pushes its events to), ``store`` (indexed objects), ``history`` (resume window),
``events`` (what is held and handed out).
"""

from apiserver.watchcache.cacher import Cacher
from apiserver.watchcache.dispatch import Stats
from apiserver.watchcache.events import CacheEvent
from apiserver.watchcache.watcher import Watcher

__all__ = ["CacheEvent", "Cacher", "Stats", "Watcher"]
