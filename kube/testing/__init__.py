"""A controller test kit: the API server in memory, a clock under the test's control.

Controllers (ours, or anyone's written on ``kube.client`` and ``kube.informers``) are
unit-tested against ``FakeCluster`` in milliseconds, with no server and no sleeps:

- ``FakeCluster().client()`` is a ``kube.client.Client``; objects written through it
  are validated and defaulted by ``kube.model`` (or by their CRD's schema, CEL rules
  included, via ``kube.crd``), carry real ``resourceVersion``/``generation`` values,
  conflict on stale writes, and show up on watches — so informers work unchanged;
- ``cluster.clock`` is a ``FakeClock``: pass it to work queues, rate limiters and
  informers, then ``await cluster.advance(seconds)`` to fire requeues and backoffs;
- ``await cluster.settle()`` runs the controllers until nothing moves;
- what other controllers would do in a real cluster happens inline: CRDs are
  established as they are stored, deletions run the garbage collector (owner
  references), namespace and CRD cleanup.

See ``docs/testing-controllers.md`` for a worked example.
"""

from kube.client.clock import FakeClock

from .api import FakeAPI
from .client import FakeClient, FakeWatchStream
from .cluster import NAMESPACES, FakeCluster, NotSettled

__all__ = ["NAMESPACES", "FakeAPI", "FakeClient", "FakeClock", "FakeCluster", "FakeWatchStream", "NotSettled"]
