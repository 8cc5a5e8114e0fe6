"""The scheduler process: flags and config → client, informers, scheduler, debug server,
leader election (kube-scheduler's ``cmd/kube-scheduler/app``).

Start-up order matters: informers start and sync first, on every replica, so a standby
holds a warm cache and queue; only the elected leader runs the scheduling loop. A
leader that loses its Lease exits (as kube-scheduler does), so a process never keeps
scheduling after another one took over; its supervisor restarts it as a standby.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kube.client import Client
from kube.informers import SharedInformerFactory
from kube.kubeconfig import load_kubeconfig
from kube.leaderelection import LeaderElector
from kube.resources import ResourceInfo, default_registry
from scheduler.apicalls import ApiCalls
from scheduler.builder import build_scheduler
from scheduler.config import SchedulerConfig, load_config
from scheduler.debugserver import DebugServer, context_from_files, self_signed_context
from scheduler.eventhandlers import EventHandlers, PriorityResolver
from scheduler.explain import DecisionStore
from scheduler.recorder import EventRecorder
from scheduler.scheduler import Scheduler

log = logging.getLogger("scheduler")
_REGISTRY = default_registry()
NON_TERMINAL_PODS = "status.phase!=Succeeded,status.phase!=Failed"
OPTIONAL_SYNC_TIMEOUT = 10.0
USER_AGENT = "kubesim-scheduler/0.1.0"


def _info(resource: str, group: str = "") -> ResourceInfo | None:
    return next((i for i in _REGISTRY.lookup(resource) if i.group == group), None)


def _required(resource: str) -> ResourceInfo:
    info = _info(resource)
    if info is None:
        raise RuntimeError(f"the resource registry has no {resource}")
    return info


@dataclass(slots=True)
class Options:
    kubeconfig: str = ""
    config: str = ""
    leader_elect: bool | None = None
    lease_duration: float | None = None
    renew_deadline: float | None = None
    retry_period: float | None = None
    lease_name: str | None = None
    lease_namespace: str | None = None
    secure_port: int = 10259
    bind_address: str = "0.0.0.0"
    cert_dir: str = ""
    tls_cert_file: str = ""
    tls_private_key_file: str = ""
    qps: float | None = None
    burst: int | None = None
    annotate: bool = True
    max_decisions: int = 200


def resolve_config(options: Options) -> SchedulerConfig:
    config = load_config(options.config) if options.config else SchedulerConfig()
    le = config.leader_election
    if not options.config:
        le.leader_elect = False  # kube-scheduler defaults to true; kubesim runs one scheduler unless asked
    if options.leader_elect is not None:
        le.leader_elect = options.leader_elect
    for attr, value in (
        ("lease_duration", options.lease_duration),
        ("renew_deadline", options.renew_deadline),
        ("retry_period", options.retry_period),
        ("resource_name", options.lease_name),
        ("resource_namespace", options.lease_namespace),
    ):
        if value is not None:
            setattr(le, attr, value)
    if options.qps is not None:
        config.qps = options.qps
    if options.burst is not None:
        config.burst = options.burst
    if options.kubeconfig:
        config.kubeconfig = options.kubeconfig
    return config


def make_client(kubeconfig: str, *, qps: float, burst: int) -> Client:
    return Client(load_kubeconfig(kubeconfig or None), qps=qps, burst=burst, user_agent=USER_AGENT)


class App:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.config = resolve_config(options)
        self.identity = f"{socket.gethostname()}_{uuid.uuid4()}"
        qps, burst = self.config.qps, self.config.burst
        self.client = make_client(self.config.kubeconfig, qps=qps, burst=burst)
        self.factory = SharedInformerFactory(self.client)
        pods = self.factory.informer_for(_required("pods"), field_selector=NON_TERMINAL_PODS)
        nodes = self.factory.informer_for(_required("nodes"))
        self.required = [pods, nodes]
        self.optional: list[Any] = []
        self.informers: dict[str, Any] = {}
        listers: dict[str, Any] = {"pods": pods.store}
        for name, group in (
            ("poddisruptionbudgets", "policy"),
            ("namespaces", ""),
            ("priorityclasses", "scheduling.k8s.io"),
            ("services", ""),
            ("replicationcontrollers", ""),
            ("replicasets", "apps"),
            ("statefulsets", "apps"),
        ):
            info = _info(name, group)
            if info is None:
                continue  # not served by this API server: the plugins do without it
            informer = self.factory.informer_for(info)
            self.optional.append(informer)
            listers[name] = informer.store
            self.informers[name] = informer
        # Events have their own client and rate limit, so they never delay a binding (as
        # kube-scheduler's separate event clientset).
        self.events_client = make_client(self.config.kubeconfig, qps=qps, burst=burst)
        self.recorder = EventRecorder(
            self.events_client, component="default-scheduler", instance=self.identity
        )
        self.decisions = DecisionStore(max_decisions=options.max_decisions)
        self.scheduler: Scheduler = build_scheduler(
            self.config,
            api=ApiCalls(self.client),
            recorder=self.recorder,
            listers=listers,
            decisions=self.decisions,
            annotate=options.annotate,
        )
        priority = PriorityResolver(listers.get("priorityclasses"))
        handlers = EventHandlers(self.scheduler, priority=priority)
        if "priorityclasses" in self.informers:
            self.informers["priorityclasses"].add_event_handler(
                priority.invalidate, priority.invalidate, priority.invalidate, name="priority-default"
            )
        pods.add_event_handler(
            handlers.on_pod_add, handlers.on_pod_update, handlers.on_pod_delete, name="scheduler"
        )
        nodes.add_event_handler(
            handlers.on_node_add, handlers.on_node_update, handlers.on_node_delete, name="scheduler"
        )
        self.debug = DebugServer(decisions=self.decisions, metrics=self.scheduler.metrics.render)
        self.leading = False

    async def start_debug_server(self) -> int:
        o = self.options
        if o.secure_port < 0:
            return -1
        if o.tls_cert_file and o.tls_private_key_file:
            ctx = context_from_files(Path(o.tls_cert_file), Path(o.tls_private_key_file))
        else:
            hosts = ["localhost", "127.0.0.1", socket.gethostname()]
            ctx, _ = self_signed_context(hosts=hosts, cert_dir=Path(o.cert_dir) if o.cert_dir else None)
        self.debug.ssl_context = ctx
        port = await self.debug.start(host=o.bind_address, port=o.secure_port)
        log.info("serving on https://%s:%d (healthz, metrics, debug/decisions)", o.bind_address, port)
        return port

    async def run(self) -> int:
        """Run until cancelled (0) or until leadership is lost (1)."""
        await self.start_debug_server()
        self.recorder.start()
        self.factory.start()
        try:
            await asyncio.gather(*(i.wait_for_sync() for i in self.required))
            try:
                async with asyncio.timeout(OPTIONAL_SYNC_TIMEOUT):
                    await asyncio.gather(*(i.wait_for_sync() for i in self.optional))
            except TimeoutError:
                waiting = [i.reflector.name for i in self.optional if not i.has_synced()]
                log.warning("going on without synced caches for %s", ", ".join(waiting))
            cache = self.scheduler.cache
            log.info("caches synced: %d nodes, %d pods", cache.node_count(), cache.pod_count())
            # The synced caches are most of the heap and live long: keep the cyclic GC's
            # full collections from walking them again and again (they are freed by
            # reference counting when replaced, as before).
            gc.collect()
            gc.freeze()
            le = self.config.leader_election
            if not le.leader_elect:
                log.info("ready: scheduling (leader election disabled) as %s", self.identity)
                self.leading = True
                await self.scheduler.run()
                return 0
            elector = LeaderElector(
                self.client,
                lease_name=le.resource_name,
                namespace=le.resource_namespace,
                identity=self.identity,
                lease_duration=le.lease_duration,
                renew_deadline=le.renew_deadline,
                retry_period=le.retry_period,
                on_started_leading=self._lead,
                on_stopped_leading=self._stop_leading,
                on_new_leader=lambda holder: log.info("new leader elected: %s", holder),
            )
            log.info(
                "ready: waiting to lead lease %s/%s as %s",
                le.resource_namespace,
                le.resource_name,
                self.identity,
            )
            await elector.run()
            log.error("leaderelection lost")
            return 1
        finally:
            await self.shutdown()

    async def _lead(self) -> None:
        self.leading = True
        log.info("leading: scheduling as %s", self.identity)
        await self.scheduler.run()

    def _stop_leading(self) -> None:
        self.leading = False
        self.scheduler.queue.close()

    async def shutdown(self) -> None:
        with contextlib.suppress(Exception):
            await self.scheduler.drain()
        await self.recorder.stop()
        await self.debug.stop()
        await self.factory.shutdown()
        await self.client.close()
        await self.events_client.close()


async def main_async(options: Options) -> int:
    app = App(options)
    task = asyncio.ensure_future(app.run())
    loop = asyncio.get_running_loop()
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, task.cancel)
    try:
        return await task
    except asyncio.CancelledError:
        return 0
