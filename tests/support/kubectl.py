"""The kubectl binaries installed on this machine, for tests that drive real kubectl."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def kubectl_binaries() -> dict[str, Path]:
    """The kubectl dispatcher on PATH and the versioned binaries beside its target."""
    found: dict[str, Path] = {}
    dispatcher = shutil.which("kubectl")
    if dispatcher is None:
        return found
    found["kubectl"] = Path(dispatcher)
    directory = Path(os.path.realpath(dispatcher)).parent
    for path in sorted(directory.glob("kubectl.1.*")):
        found[path.name] = path
    return found
