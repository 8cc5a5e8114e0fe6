"""Rules for a pod's ``volumes``: unique DNS-label names, exactly one source each,
and the checks of the sources people use (configMap, secret, projected, downwardAPI,
hostPath, persistentVolumeClaim). Kept apart from the PodSpec rules because the
volume sources are a large, self-contained family."""

from __future__ import annotations

from typing import Any

from kube.errors import FieldError, duplicate, forbidden, invalid, required
from kube.model.checks import Obj, dicts, name_errors, obj, relative_path, supported

# In the order Kubernetes looks for them: the first one found is the volume's source,
# each further one is reported as forbidden.
SOURCES = (
    "hostPath", "emptyDir", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs", "iscsi",
    "glusterfs", "flocker", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "downwardAPI",
    "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume",
    "scaleIO", "projected", "storageos", "csi", "configMap", "ephemeral", "image",
)  # fmt: skip
_ORDER = {source: index for index, source in enumerate(SOURCES)}
_HOST_PATH_TYPES = (
    "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket",
)  # fmt: skip
_FILE_MODE = "must be a number between 0 and 0777 (octal), both inclusive"


def validate_volumes(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: set[str] = set()
    for index, volume in dicts(value):
        at = f"{path}[{index}]"
        errors += _source(volume, at)
        name = volume.get("name")
        errors += name_errors(name, f"{at}.name")
        if isinstance(name, str):
            if name in seen:
                errors.append(duplicate(f"{at}.name", name))
            seen.add(name)
    return errors


def _source(volume: Obj, at: str) -> list[FieldError]:
    present = sorted((k for k in volume if k in _ORDER and volume[k] is not None), key=_ORDER.__getitem__)
    if not present:
        return [required(at, "must specify a volume type")]
    errors = [forbidden(f"{at}.{extra}", "may not specify more than 1 volume type") for extra in present[1:]]
    kind = present[0]
    source = obj(volume[kind])
    at = f"{at}.{kind}"
    if kind == "hostPath":
        if source.get("path") == "":
            errors.append(required(f"{at}.path"))
        errors += supported(source.get("type"), f"{at}.type", _HOST_PATH_TYPES, allow_empty=True)
    elif kind in ("secret", "configMap"):
        name_key = "secretName" if kind == "secret" else "name"
        if not source.get(name_key):
            errors.append(required(f"{at}.{name_key}"))
        errors += _mode(source.get("defaultMode"), f"{at}.defaultMode")
        errors += _items(source.get("items"), f"{at}.items")
    elif kind == "persistentVolumeClaim":
        if source.get("claimName") == "":
            errors.append(required(f"{at}.claimName"))
    elif kind == "downwardAPI":
        errors += _mode(source.get("defaultMode"), f"{at}.defaultMode")
        errors += _downward_items(source.get("items"), f"{at}.items")
    elif kind == "projected":
        errors += _mode(source.get("defaultMode"), f"{at}.defaultMode")
        errors += _projections(source.get("sources"), f"{at}.sources")
    return errors


def _mode(value: Any, path: str) -> list[FieldError]:
    if isinstance(value, int) and not 0 <= value <= 0o777:
        return [invalid(path, value, _FILE_MODE)]
    return []


def _file_path(value: Any, path: str) -> list[FieldError]:
    if value == "":
        return [required(path)]
    errors = relative_path(value, path)
    if isinstance(value, str) and value.startswith(".."):
        errors.append(invalid(path, value, "must not start with '..'"))
    return errors


def _items(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, item in dicts(value):
        at = f"{path}[{index}]"
        if item.get("key") == "":
            errors.append(required(f"{at}.key"))
        errors += _file_path(item.get("path"), f"{at}.path")
        errors += _mode(item.get("mode"), f"{at}.mode")
    return errors


def _downward_items(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for index, item in dicts(value):
        at = f"{path}[{index}]"
        errors += _file_path(item.get("path"), f"{at}.path")
        errors += _mode(item.get("mode"), f"{at}.mode")
        if item.get("fieldRef") is not None and item.get("resourceFieldRef") is not None:
            errors.append(
                invalid(at, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously")
            )
    return errors


def _projections(value: Any, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    kinds = ("secret", "downwardAPI", "configMap", "serviceAccountToken", "clusterTrustBundle")
    for index, projection in dicts(value):
        at = f"{path}[{index}]"
        present = [k for k in kinds if projection.get(k) is not None]
        if not present:
            errors.append(
                required(at, "must specify exactly 1 of: secret, downwardAPI, configMap, serviceAccountToken")
            )
        for extra in present[1:]:
            errors.append(forbidden(f"{at}.{extra}", "may not specify more than 1 volume type per source"))
        for kind in ("secret", "configMap"):
            if projection.get(kind) is not None:
                errors += _items(obj(projection[kind]).get("items"), f"{at}.{kind}.items")
        if projection.get("downwardAPI") is not None:
            errors += _downward_items(obj(projection["downwardAPI"]).get("items"), f"{at}.downwardAPI.items")
        token = obj(projection.get("serviceAccountToken"))
        seconds = token.get("expirationSeconds")
        if isinstance(seconds, int) and not 600 <= seconds <= 2**32:
            detail = (
                "may not specify a duration less than 10 minutes"
                if seconds < 600
                else "may not specify a duration larger than 2^32 seconds"
            )
            errors.append(invalid(f"{at}.serviceAccountToken.expirationSeconds", seconds, detail))
        if token and token.get("path") is not None:
            errors += _file_path(token.get("path"), f"{at}.serviceAccountToken.path")
    return errors
