"""Rate-limited, de-duplicating work queues for controllers (as client-go's util/workqueue).

The usual shape of a controller worker::

    queue: RateLimitingQueue[str] = RateLimitingQueue()
    informer.add_event_handler(on_add=lambda obj: queue.add(meta.key(obj)), ...)

    async def worker() -> None:
        while True:
            try:
                key = await queue.get()
            except ShutDown:
                return
            try:
                await reconcile(key)
            except Exception:
                queue.add_rate_limited(key)   # back off this key
            else:
                queue.forget(key)             # its next failure starts small again
            finally:
                queue.done(key)
"""

from kube.client.clock import Clock, FakeClock, RealClock
from kube.workqueue.delaying import DelayingQueue, RateLimitingQueue
from kube.workqueue.queue import Queue, ShutDown
from kube.workqueue.ratelimiter import (
    BucketRateLimiter,
    ItemExponentialFailureRateLimiter,
    MaxOfRateLimiter,
    RateLimiter,
    default_controller_rate_limiter,
)

__all__ = [
    "BucketRateLimiter",
    "Clock",
    "DelayingQueue",
    "FakeClock",
    "ItemExponentialFailureRateLimiter",
    "MaxOfRateLimiter",
    "Queue",
    "RateLimiter",
    "RateLimitingQueue",
    "RealClock",
    "ShutDown",
    "default_controller_rate_limiter",
]
