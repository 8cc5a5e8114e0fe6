"""``python -m apiserver --data-dir DIR``: the kubesim API server (see ``server.py``;
``--workers N`` runs N of them on one port, see ``workers.py``)."""

import sys

from apiserver.options import parse
from apiserver.server import main
from apiserver.workers import supervise

if __name__ == "__main__":
    options = parse()
    sys.exit(supervise(options, argv=sys.argv[1:]) if options.workers > 1 else main(options))
