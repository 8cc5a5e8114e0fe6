"""ResourceQuota: charged at create under concurrency without overshoot, released later."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from apiserver.admission.quota import QuotaTracker
from apiserver.registry import DeleteOptions
from kube.errors import Forbidden

from .conftest import Env


def quota(name: str, hard: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name}, "spec": {"hard": hard, **spec}}


def pod(name: str, **container: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox", **container}]}}


def tracker(env: Env) -> QuotaTracker:
    assert env.security.quota.tracker is not None
    return env.security.quota.tracker


async def used(env: Env, name: str = "q") -> dict[str, str]:
    obj = await env.store("resourcequotas").get(env.ctx("resourcequotas", name=name))
    return dict(obj["status"]["used"])


async def test_fifty_concurrent_creates_against_ten_exactly_ten_win(env: Env) -> None:
    await env.create("resourcequotas", quota("q", {"pods": "10"}))
    await env.settle()

    async def attempt(i: int) -> str:
        try:
            await env.create("pods", pod(f"p{i}"))
            return "ok"
        except Forbidden as err:
            return err.message

    outcomes = await asyncio.gather(*(attempt(i) for i in range(50)))
    assert outcomes.count("ok") == 10
    refused = [o for o in outcomes if o != "ok"]
    assert len(refused) == 40
    assert all(o.endswith("is forbidden: exceeded quota: q, requested: pods=1, used: pods=10, limited: pods=10")
               for o in refused), refused[0]
    assert await used(env) == {"pods": "10"}
    await env.settle()
    await tracker(env).reconcile_once()
    assert await used(env) == {"pods": "10"}


async def test_usage_is_released_when_pods_go_away(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    # A charge not yet seen in the cache is trusted for PENDING_GRACE seconds; none here.
    monkeypatch.setattr("apiserver.admission.quota.PENDING_GRACE", 0.0)
    await env.create("resourcequotas", quota("q", {"pods": "2", "requests.cpu": "1", "limits.memory": "1Gi"}))
    await env.settle()
    spec = {"resources": {"requests": {"cpu": "400m"}, "limits": {"memory": "256Mi", "cpu": "400m"}}}
    await env.create("pods", pod("a", **spec))
    await env.create("pods", pod("b", **spec))
    assert await used(env) == {"pods": "2", "requests.cpu": "800m", "limits.memory": "512Mi"}
    with pytest.raises(Forbidden, match=r"exceeded quota: q, requested: pods=1,requests.cpu=400m, "
                                        r"used: pods=2,requests.cpu=800m, limited: pods=2,requests.cpu=1"):
        await env.create("pods", pod("c", **spec))
    await env.store("pods").delete(env.ctx("pods", name="a"), options=DeleteOptions(grace_period_seconds=0))
    await env.settle()
    await tracker(env).reconcile_once()
    assert await used(env) == {"pods": "1", "requests.cpu": "400m", "limits.memory": "256Mi"}
    await env.create("pods", pod("c", resources={"requests": {"cpu": "100m"}, "limits": {"memory": "1Mi", "cpu": "1"}}))


async def test_compute_quota_requires_requests(env: Env) -> None:
    await env.create("resourcequotas", quota("compute", {"requests.cpu": "2", "limits.memory": "1Gi"}))
    await env.settle()
    with pytest.raises(Forbidden, match=re.escape("failed quota: compute: must specify requests.cpu for: c; limits.memory for: c")):
        await env.create("pods", pod("bare"))


async def test_object_counts_and_scopes(env: Env) -> None:
    await env.create("resourcequotas", quota("objects", {"configmaps": "1", "count/secrets": "1"}))
    await env.create("resourcequotas", quota("besteffort", {"pods": "1"}, scopes=["BestEffort"]))
    await env.settle()
    await env.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"}})
    with pytest.raises(Forbidden, match="exceeded quota: objects, requested: configmaps=1"):
        await env.create("configmaps", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "two"}})
    await env.create("secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
    with pytest.raises(Forbidden, match="count/secrets=1"):
        await env.create("secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"}})
    await env.create("pods", pod("be1"))
    with pytest.raises(Forbidden, match="exceeded quota: besteffort"):
        await env.create("pods", pod("be2"))
    # Not best-effort: outside that quota's scope.
    await env.create("pods", pod("burstable", resources={"requests": {"cpu": "10m"}}))


async def test_dry_run_checks_without_charging(env: Env) -> None:
    await env.create("resourcequotas", quota("q", {"pods": "1"}))
    await env.settle()
    ctx = env.ctx("pods")
    ctx.dry_run = True
    await env.store("pods").create(ctx, pod("dry"))
    await env.create("pods", pod("real"))
    assert await used(env) == {"pods": "1"}


async def test_a_failed_create_gives_its_charge_back(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    await env.create("resourcequotas", quota("q", {"pods": "5"}))
    await env.settle()
    await env.create("pods", pod("dup"))
    with pytest.raises(Exception, match="already exists"):
        await env.create("pods", pod("dup"))  # charged by admission, then refused by storage
    assert await used(env) == {"pods": "2"}
    monkeypatch.setattr("apiserver.admission.quota.PENDING_GRACE", 0.0)
    await env.settle()
    await tracker(env).reconcile_once()
    assert await used(env) == {"pods": "1"}
