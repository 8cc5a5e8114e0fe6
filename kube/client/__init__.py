"""The client machinery's front door: the REST client and its watch events.

``from kube.client import Client`` is all most components need; the clock, rate
limiter and retry policy are importable from their modules for tests and tuning.
Underneath, the client speaks HTTP/1.1 itself (``transport`` over ``pool``, framing
in ``http1``); ``wire`` holds what every request goes through.
"""

from kube.client.clock import Clock, FakeClock, RealClock
from kube.client.errors import TransportError
from kube.client.ratelimit import TokenBucket
from kube.client.rest import PATCH_CONTENT_TYPES, Client, PatchType
from kube.client.retry import Backoff, RetryPolicy
from kube.client.watch import ADDED, BOOKMARK, DELETED, ERROR, MODIFIED, WatchEvent, WatchStream

__all__ = [
    "ADDED",
    "BOOKMARK",
    "DELETED",
    "ERROR",
    "MODIFIED",
    "PATCH_CONTENT_TYPES",
    "Backoff",
    "Client",
    "Clock",
    "FakeClock",
    "PatchType",
    "RealClock",
    "RetryPolicy",
    "TokenBucket",
    "TransportError",
    "WatchEvent",
    "WatchStream",
]
