"""``python -m controller``: placeholder until the controller-manager issue lands."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m controller", description="kubesim controller manager (not built yet)"
    )
    p.add_argument("--kubeconfig", help="kubeconfig with the controller manager's credentials")
    p.add_argument("--leader-elect", action="store_true", help="run leader election on a Lease")
    p.parse_args(argv)
    print("controller: not implemented yet", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
