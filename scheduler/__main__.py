"""``python -m scheduler``: placeholder until the scheduler issue lands.

It already takes kube-scheduler's flag names so scripts written now keep working.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scheduler", description="kubesim scheduler (not built yet)")
    p.add_argument("--kubeconfig", help="kubeconfig with the scheduler's credentials")
    p.add_argument("--config", help="KubeSchedulerConfiguration file")
    p.add_argument("--leader-elect", action="store_true", help="run leader election on a Lease")
    p.parse_args(argv)
    print("scheduler: not implemented yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
