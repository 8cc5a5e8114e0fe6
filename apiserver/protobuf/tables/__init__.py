"""Field tables, one module per Kubernetes API group version, as facts for ``decoder.py``.

Taken from the ``generated.proto`` files (field numbers) and Go types (JSON names,
pointers, omitempty) of k8s.io/api and k8s.io/apimachinery v0.36.3, i.e. Kubernetes
1.36. Released field numbers never change, so these read bodies from every kubectl up
to that version. ``fields.py`` explains the row format.
"""

from __future__ import annotations

from apiserver.protobuf.fields import Table
from apiserver.protobuf.tables.apps_v1 import APPS_V1
from apiserver.protobuf.tables.authentication_v1 import AUTHENTICATION_V1
from apiserver.protobuf.tables.authorization_v1 import AUTHORIZATION_V1
from apiserver.protobuf.tables.autoscaling_v1 import AUTOSCALING_V1
from apiserver.protobuf.tables.autoscaling_v2 import AUTOSCALING_V2
from apiserver.protobuf.tables.batch_v1 import BATCH_V1
from apiserver.protobuf.tables.certificates_v1 import CERTIFICATES_V1
from apiserver.protobuf.tables.core_v1 import CORE_V1
from apiserver.protobuf.tables.core_v1_pod import CORE_V1_POD
from apiserver.protobuf.tables.core_v1_volumes import CORE_V1_VOLUMES
from apiserver.protobuf.tables.meta_v1 import META_V1
from apiserver.protobuf.tables.networking_v1 import NETWORKING_V1
from apiserver.protobuf.tables.policy_v1 import POLICY_V1
from apiserver.protobuf.tables.rbac_v1 import RBAC_V1
from apiserver.protobuf.tables.scheduling_v1 import SCHEDULING_V1
from apiserver.protobuf.tables.special import ENVELOPE, SCALAR_MESSAGES

ALL_TABLES: list[Table] = [
    ENVELOPE, SCALAR_MESSAGES, META_V1, CORE_V1, CORE_V1_POD, CORE_V1_VOLUMES, APPS_V1, BATCH_V1,
    AUTOSCALING_V1, AUTOSCALING_V2, POLICY_V1, AUTHORIZATION_V1, AUTHENTICATION_V1, CERTIFICATES_V1, RBAC_V1,
    NETWORKING_V1, SCHEDULING_V1,
]
