"""Fixtures that start the real API server process (one per test module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.apiserver import ApiserverProcess, start_apiserver


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiserverProcess]:
    """``python -m apiserver`` on the embedded SQLite store, in a fresh data directory."""
    with start_apiserver(tmp_path_factory.mktemp("apiserver") / "data") as server:
        yield server


@pytest.fixture(scope="module")
def etcd_apiserver(
    tmp_path_factory: pytest.TempPathFactory, etcd_endpoint: str
) -> Iterator[ApiserverProcess]:
    """``python -m apiserver --etcd-servers <the test etcd>``."""
    with start_apiserver(
        tmp_path_factory.mktemp("apiserver-etcd") / "data", "--etcd-servers", etcd_endpoint
    ) as server:
        yield server
