"""``python -m kubelet``: placeholder until the kubelet issue lands."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kubelet", description="kubesim node agent (not built yet)")
    p.add_argument("--kubeconfig", help="kubeconfig with the node's credentials")
    p.add_argument("--node-name", help="name of the Node object this kubelet registers")
    p.add_argument("--runtime", choices=("docker", "fake"), default="docker", help="container runtime backend")
    p.parse_args(argv)
    print("kubelet: not implemented yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
