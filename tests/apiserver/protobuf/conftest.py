"""Fixtures for the kubectl comparison: the recording server and versioned kubectls."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.apiserver.protobuf.recording import Kubectl, Recorder, kubectl_binaries, serve


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    rec, stop = serve()
    try:
        yield rec
    finally:
        stop()


@pytest.fixture(scope="module")
def kubectl(recorder: Recorder, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Kubectl]:
    """``kubectl("1.33")``: that version, talking to the recorder."""
    binaries = kubectl_binaries()

    def make(version: str) -> Kubectl:
        if version not in binaries:
            pytest.skip(f"kubectl.{version} is not installed")
        return Kubectl(binary=binaries[version], server=recorder.url, home=tmp_path_factory.mktemp(f"kubectl-{version}"))

    return make
