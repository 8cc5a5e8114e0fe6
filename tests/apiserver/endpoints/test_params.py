"""Query parameter parsing: defaults, Kubernetes' validation rules and messages."""

from __future__ import annotations

import pytest

from apiserver.endpoints import params
from apiserver.registry import PropagationPolicy, ResourceVersionMatch
from kube.errors import BadRequest, Invalid
from kube.model import FieldValidation


def test_write_options_defaults() -> None:
    out = params.write_options({}, dry_run=[], user_agent="kubectl/v1.33.1 (linux/amd64)", kind="CreateOptions")
    assert (out.dry_run, out.field_manager, out.field_validation) == (False, "kubectl", FieldValidation.WARN)


def test_field_manager_rules() -> None:
    with pytest.raises(Invalid, match="fieldManager: Too long"):
        params.write_options({"fieldManager": "x" * 129}, dry_run=[], user_agent="", kind="CreateOptions")
    with pytest.raises(Invalid, match="invalid character"):
        params.write_options({"fieldManager": "a\x01"}, dry_run=[], user_agent="", kind="CreateOptions")
    with pytest.raises(Invalid, match="is required for apply patch"):
        params.write_options({}, dry_run=[], user_agent="x", kind="PatchOptions", apply=True)


def test_watch_defaults_to_a_random_long_timeout() -> None:
    timeouts = {params.list_options({}, watch=True).timeout_seconds for _ in range(20)}
    assert all(t is not None and 1800 <= t < 3600 for t in timeouts)
    assert params.list_options({"timeoutSeconds": "5"}, watch=True).timeout_seconds == 5


def test_list_option_rules() -> None:
    with pytest.raises(Invalid, match="sendInitialEvents is forbidden for list"):
        params.list_options({"sendInitialEvents": "true"}, watch=False)
    with pytest.raises(Invalid, match="resourceVersionMatch is forbidden for watch unless sendInitialEvents"):
        params.list_options({"resourceVersionMatch": "NotOlderThan"}, watch=True)
    with pytest.raises(Invalid, match="requires setting allowWatchBookmarks"):
        params.list_options({"sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan"}, watch=True)
    with pytest.raises(Invalid, match="Unsupported value"):
        params.list_options({"resourceVersion": "5", "resourceVersionMatch": "Sometimes"}, watch=False)
    with pytest.raises(BadRequest, match="not a boolean"):
        params.list_options({"allowWatchBookmarks": "maybe"}, watch=True)
    ok = params.list_options({"resourceVersion": "5", "resourceVersionMatch": "Exact", "limit": "10"}, watch=False)
    assert (ok.resource_version, ok.resource_version_match, ok.limit) == ("5", ResourceVersionMatch.EXACT, 10)


def test_delete_options_from_body_win_over_query() -> None:
    out = params.delete_options(
        {"gracePeriodSeconds": "9"},
        dry_run=[],
        body={"kind": "DeleteOptions", "gracePeriodSeconds": 3, "propagationPolicy": "Foreground",
              "preconditions": {"uid": "u", "resourceVersion": "7"}, "dryRun": ["All"]},
    )
    assert out.grace_period_seconds == 3 and out.propagation_policy is PropagationPolicy.FOREGROUND
    assert (out.precondition_uid, out.precondition_resource_version, out.dry_run) == ("u", "7", True)
    from_query = params.delete_options({"gracePeriodSeconds": "9", "orphanDependents": "false"}, dry_run=[], body=None)
    assert from_query.grace_period_seconds == 9 and from_query.orphan_dependents is False


def test_delete_option_rules() -> None:
    with pytest.raises(Invalid, match="cannot be both set"):
        params.delete_options({}, dry_run=[], body={"orphanDependents": True, "propagationPolicy": "Orphan"})
    with pytest.raises(BadRequest, match="gracePeriodSeconds must be an integer"):
        params.delete_options({}, dry_run=[], body={"gracePeriodSeconds": "soon"})
    with pytest.raises(BadRequest, match="DeleteOptions object"):
        params.delete_options({}, dry_run=[], body=[1])
