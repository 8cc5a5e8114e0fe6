"""``pyctl``: kubesim's own command line.

Each sub-command lives in its own module; this file only wires them to argparse.
"""

from __future__ import annotations

import argparse
import sys

from pyctl import pki


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pyctl", description="kubesim's command line")
    commands = p.add_subparsers(dest="command", metavar="COMMAND")
    pki.register(commands)
    return p


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    ns = p.parse_args(argv)
    if ns.command is None:
        p.print_help()
        return 2
    return int(ns.handler(ns))


if __name__ == "__main__":
    sys.exit(main())
