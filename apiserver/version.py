"""``GET /version``: which Kubernetes this server speaks.

More than a courtesy: the ``kubectl`` on this machine is a dispatcher that reads
``/version`` and runs ``kubectl.1.<minor>``, so the minor version reported here picks
the client. We report the Kubernetes release whose API (schema, discovery, wire
behaviour) kubesim reproduces, which is the schema version the object model loads.
"""

from __future__ import annotations

import platform
import sys
from typing import Any

from kube.model.schema import KUBERNETES_VERSION

MAJOR, MINOR = KUBERNETES_VERSION.split(".")
GIT_VERSION = f"v{MAJOR}.{MINOR}.0-kubesim"
# Fixed rather than the time of the build: kubesim is not built, and a stable value
# keeps answers reproducible across restarts.
BUILD_DATE = "2025-04-23T00:00:00Z"
# Compatibility versions (Kubernetes 1.33+): this server emulates exactly the release
# it reports and, like kube-apiserver, is compatible with one minor version back.
MIN_COMPATIBILITY_MINOR = str(int(MINOR) - 1)


def _platform() -> str:
    machine = platform.machine().lower()
    # Go spells the common architectures this way; kubectl prints it verbatim.
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return f"{sys.platform}/{arch}"


def version_info() -> dict[str, Any]:
    """A ``version.Info`` as kube-apiserver 1.33 returns it (same fields, same order).

    ``goVersion`` and ``compiler`` name the Python that runs us: kubectl only prints
    them, and a truthful value helps whoever reads a bug report.
    """
    return {
        "major": MAJOR,
        "minor": MINOR,
        "emulationMajor": MAJOR,
        "emulationMinor": MINOR,
        "minCompatibilityMajor": MAJOR,
        "minCompatibilityMinor": MIN_COMPATIBILITY_MINOR,
        "gitVersion": GIT_VERSION,
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": BUILD_DATE,
        "goVersion": f"python{platform.python_version()}",
        "compiler": platform.python_implementation().lower(),
        "platform": _platform(),
    }
