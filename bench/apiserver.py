"""The API server benchmark: creates against raw storage puts, LISTs, and watch fan-out.

Run: ``.venv/bin/python bench/apiserver.py`` (``--quick`` for a smoke run, ``--no-etcd``
for SQLite only, ``--no-watch`` to skip the fan-out). It runs, one after the other so
they never share the machine:

1. ``bench/api_throughput.py`` — pod creates/s over HTTPS at concurrency 1 and 32 beside
   the storage puts/s of the same run (ratio; goal ≥ 0.5 on etcd), LIST latency of all
   30,000 pods and of one node's 30 pods from the cache (goal ≤ 5 ms), and the security
   overhead;
2. ``bench/watch_http.py`` — 1,000 watchers over HTTPS, 200 events/s, commit → receive
   p50/p99 (goal p99 ≤ 100 ms) and the server's RSS per watcher.

Each part is its own script (their docstrings say what exactly is measured) and runs
in its own process, so one part's heap, threads and sockets never weigh on the next.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, 100 watchers (a smoke run)")
    parser.add_argument("--no-etcd", action="store_true", help="SQLite only")
    parser.add_argument("--no-watch", action="store_true", help="skip the watch fan-out")
    args = parser.parse_args()
    parts = [
        [
            str(HERE / "api_throughput.py"),
            *(["--quick"] if args.quick else []),
            *(["--no-etcd"] if args.no_etcd else []),
        ]
    ]
    if not args.no_watch:
        parts.append([str(HERE / "watch_http.py"), *(["--quick"] if args.quick else [])])
    for part in parts:
        print(f"\n== {Path(part[0]).name} {' '.join(part[1:])}".rstrip(), flush=True)
        code = subprocess.call([sys.executable, *part])
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
