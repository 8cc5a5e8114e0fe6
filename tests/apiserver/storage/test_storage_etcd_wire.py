"""The hand-encoded etcd requests are byte-for-byte what protobuf would send."""

from __future__ import annotations

import pytest
from aetcd import rpc

from apiserver.storage import etcd_wire

KEYS = [b"", b"/registry/pods/default/a", b"/k" * 100, "/registry/pods/ns/ünï".encode()]
VALUES = [b"", b"{}", b"x" * 127, b"y" * 128, b"z" * 70_000]
REVISIONS = [0, 1, 127, 128, 300, 2**31, 2**62]


def _cas(key: bytes, expected: int, then: rpc.RequestOp) -> bytes:
    request = rpc.TxnRequest(
        compare=[
            rpc.Compare(result=rpc.Compare.EQUAL, target=rpc.Compare.MOD, key=key, mod_revision=expected)
        ],
        success=[then],
        failure=[rpc.RequestOp(request_range=rpc.RangeRequest(key=key))],
    )
    return request.SerializeToString()


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("expected", REVISIONS)
def test_cas_put(key: bytes, value: bytes, expected: int) -> None:
    put = rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=value))
    assert etcd_wire.cas_put(key=key, value=value, expected=expected) == _cas(key, expected, put)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("expected", REVISIONS)
def test_cas_delete(key: bytes, expected: int) -> None:
    delete = rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key))
    assert etcd_wire.cas_delete(key=key, expected=expected) == _cas(key, expected, delete)


@pytest.mark.parametrize("key", KEYS)
def test_range_key(key: bytes) -> None:
    assert etcd_wire.range_key(key) == rpc.RangeRequest(key=key).SerializeToString()


def test_a_create_compares_against_revision_zero_explicitly() -> None:
    # mod_revision is in a oneof: left out, etcd would see no target value at all.
    parsed = rpc.TxnRequest.FromString(etcd_wire.cas_put(key=b"/a", value=b"v", expected=0))
    assert parsed.compare[0].WhichOneof("target_union") == "mod_revision"
    assert parsed.compare[0].target == rpc.Compare.MOD
    assert parsed.compare[0].result == rpc.Compare.EQUAL
