"""``python -m apiserver --data-dir DIR``: the kubesim API server (see ``server.py``)."""

import sys

from apiserver.options import parse
from apiserver.server import main

if __name__ == "__main__":
    sys.exit(main(parse()))
