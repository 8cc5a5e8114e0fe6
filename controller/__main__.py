"""``python -m controller``: the controller manager — so far, the garbage collector.

Flags follow kube-controller-manager's: ``--kubeconfig`` (else ``KUBECONFIG``, else
``~/.kube/config``), ``--controllers`` (the list to run; ``*`` for all, as upstream),
``--leader-elect`` (one active manager among replicas, over the
``kube-system/kube-controller-manager`` Lease). More controllers arrive with the
controller-manager issue; each is one module of this package.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from kube.client import Client
from kube.leaderelection import LeaderElector

from .garbagecollector import GarbageCollector

log = logging.getLogger("controller")

CONTROLLERS: dict[str, Callable[[Client], Coroutine[Any, Any, None]]] = {
    "garbagecollector": lambda client: GarbageCollector(client).run(),
}


def _selected(flag: str) -> list[str]:
    names = [n.strip() for n in flag.split(",") if n.strip()]
    if "*" in names:
        return sorted(CONTROLLERS)
    unknown = sorted(set(names) - set(CONTROLLERS))
    if unknown:
        raise SystemExit(f"unknown controllers: {', '.join(unknown)} (known: {', '.join(sorted(CONTROLLERS))})")
    return names


async def _run(options: argparse.Namespace) -> None:
    names = _selected(options.controllers)
    async with Client.from_kubeconfig(options.kubeconfig) as client:

        async def controllers() -> None:
            log.info("running controllers: %s", ", ".join(names))
            await asyncio.gather(*(CONTROLLERS[name](client) for name in names))

        if not options.leader_elect:
            await controllers()
            return
        identity = f"{socket.gethostname()}_{uuid.uuid4()}"
        elector = LeaderElector(client, lease_name="kube-controller-manager", identity=identity,
                                on_started_leading=controllers,
                                on_stopped_leading=lambda: log.warning("lost the lease; stopping"))
        await elector.run()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m controller", description="kubesim controller manager")
    p.add_argument("--kubeconfig", help="kubeconfig with the controller manager's credentials")
    p.add_argument("--controllers", default="*", help=f"comma-separated, or * for all ({', '.join(CONTROLLERS)})")
    p.add_argument("--leader-elect", action="store_true", help="run leader election on a Lease")
    options = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns everything else
    try:
        asyncio.run(_run(options))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
