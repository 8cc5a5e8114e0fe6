"""``python -m scheduler``: kube-scheduler's flags, kubesim's scheduler.

    python -m scheduler --kubeconfig admin.kubeconfig [--config sched.yaml] [--leader-elect]

Flags given on the command line override the KubeSchedulerConfiguration file.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from scheduler.app import Options, main_async
from scheduler.config import ConfigError, parse_duration
from scheduler.framework.runtime import FrameworkError


def _duration(text: str) -> float:
    try:
        return parse_duration(text, "duration")
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean {text!r}")


def parse_args(argv: list[str] | None) -> tuple[Options, int]:
    p = argparse.ArgumentParser(
        prog="python -m scheduler", description="kubesim scheduler (kube-scheduler's algorithm)"
    )
    p.add_argument("--kubeconfig", default="", help="kubeconfig with the scheduler's credentials")
    p.add_argument(
        "--config", default="", help="KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1)"
    )
    p.add_argument(
        "--leader-elect",
        nargs="?",
        const=True,
        default=None,
        type=_bool,
        help="run leader election on a Lease so only one replica schedules",
    )
    p.add_argument("--leader-elect-lease-duration", type=_duration, default=None, help="e.g. 15s")
    p.add_argument("--leader-elect-renew-deadline", type=_duration, default=None, help="e.g. 10s")
    p.add_argument("--leader-elect-retry-period", type=_duration, default=None, help="e.g. 2s")
    p.add_argument("--leader-elect-resource-name", default=None, help="Lease name (kube-scheduler)")
    p.add_argument("--leader-elect-resource-namespace", default=None, help="Lease namespace (kube-system)")
    p.add_argument(
        "--secure-port",
        type=int,
        default=10259,
        help="HTTPS port for healthz/metrics/debug (0: any, -1: off)",
    )
    p.add_argument("--bind-address", default="0.0.0.0")
    p.add_argument("--cert-dir", default="", help="where the self-signed serving certificate is written")
    p.add_argument("--tls-cert-file", default="")
    p.add_argument("--tls-private-key-file", default="")
    p.add_argument("--kube-api-qps", type=float, default=None)
    p.add_argument("--kube-api-burst", type=int, default=None)
    p.add_argument(
        "--decision-annotations",
        type=_bool,
        default=True,
        help="write scheduler.kubesim.io/decision on scheduled and unschedulable pods",
    )
    p.add_argument("--max-decisions", type=int, default=200, help="decisions kept for /debug/decisions")
    p.add_argument("-v", "--v", type=int, default=2, help="log verbosity (4+: debug)")
    a = p.parse_args(argv)  # fmt: skip
    options = Options(
        kubeconfig=a.kubeconfig,
        config=a.config,
        leader_elect=a.leader_elect,
        lease_duration=a.leader_elect_lease_duration,
        renew_deadline=a.leader_elect_renew_deadline,
        retry_period=a.leader_elect_retry_period,
        lease_name=a.leader_elect_resource_name,
        lease_namespace=a.leader_elect_resource_namespace,
        secure_port=a.secure_port,
        bind_address=a.bind_address,
        cert_dir=a.cert_dir,
        tls_cert_file=a.tls_cert_file,
        tls_private_key_file=a.tls_private_key_file,
        qps=a.kube_api_qps,
        burst=a.kube_api_burst,
        annotate=a.decision_annotations,
        max_decisions=a.max_decisions,
    )
    return options, a.v


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main(argv: list[str] | None = None) -> int:
    options, verbosity = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if verbosity >= 4 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if verbosity < 4:
        logging.getLogger("kube").setLevel(logging.WARNING)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    try:
        with asyncio.Runner(loop_factory=_new_loop) as runner:
            return runner.run(main_async(options))
    except (ConfigError, FrameworkError, ValueError) as err:
        print(f"scheduler: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
