"""Field numbers of core/v1's volume sources (``k8s.io/api/core/v1/generated.proto``).

A pod template may mount any of them, including the long-deprecated in-tree cloud
disks; knowing them all means a workload is never refused for the volume it uses.
"""

from __future__ import annotations

from apiserver.protobuf.fields import ALWAYS, BOOL, I32, INLINE, INT, MAP, MSG, NULL, PTR, REP, STR, Table

CORE_V1_VOLUMES: Table = {
    "Volume": {1: ("name", STR | ALWAYS), 2: ("", MSG | INLINE, "VolumeSource")},
    "VolumeSource": {
        1: ("hostPath", MSG | PTR, "HostPathVolumeSource"),
        2: ("emptyDir", MSG | PTR, "EmptyDirVolumeSource"),
        3: ("gcePersistentDisk", MSG | PTR, "GCEPersistentDiskVolumeSource"),
        4: ("awsElasticBlockStore", MSG | PTR, "AWSElasticBlockStoreVolumeSource"),
        5: ("gitRepo", MSG | PTR, "GitRepoVolumeSource"), 6: ("secret", MSG | PTR, "SecretVolumeSource"),
        7: ("nfs", MSG | PTR, "NFSVolumeSource"), 8: ("iscsi", MSG | PTR, "ISCSIVolumeSource"),
        9: ("glusterfs", MSG | PTR, "GlusterfsVolumeSource"),
        10: ("persistentVolumeClaim", MSG | PTR, "PersistentVolumeClaimVolumeSource"),
        11: ("rbd", MSG | PTR, "RBDVolumeSource"), 12: ("flexVolume", MSG | PTR, "FlexVolumeSource"),
        13: ("cinder", MSG | PTR, "CinderVolumeSource"), 14: ("cephfs", MSG | PTR, "CephFSVolumeSource"),
        15: ("flocker", MSG | PTR, "FlockerVolumeSource"),
        16: ("downwardAPI", MSG | PTR, "DownwardAPIVolumeSource"), 17: ("fc", MSG | PTR, "FCVolumeSource"),
        18: ("azureFile", MSG | PTR, "AzureFileVolumeSource"),
        19: ("configMap", MSG | PTR, "ConfigMapVolumeSource"),
        20: ("vsphereVolume", MSG | PTR, "VsphereVirtualDiskVolumeSource"),
        21: ("quobyte", MSG | PTR, "QuobyteVolumeSource"),
        22: ("azureDisk", MSG | PTR, "AzureDiskVolumeSource"),
        23: ("photonPersistentDisk", MSG | PTR, "PhotonPersistentDiskVolumeSource"),
        24: ("portworxVolume", MSG | PTR, "PortworxVolumeSource"),
        25: ("scaleIO", MSG | PTR, "ScaleIOVolumeSource"),
        26: ("projected", MSG | PTR, "ProjectedVolumeSource"),
        27: ("storageos", MSG | PTR, "StorageOSVolumeSource"), 28: ("csi", MSG | PTR, "CSIVolumeSource"),
        29: ("ephemeral", MSG | PTR, "EphemeralVolumeSource"), 30: ("image", MSG | PTR, "ImageVolumeSource"),
    },
    "HostPathVolumeSource": {1: ("path", STR | ALWAYS), 2: ("type", STR | PTR)},
    "EmptyDirVolumeSource": {1: ("medium", STR), 2: ("sizeLimit", MSG | PTR, "Quantity")},
    "GCEPersistentDiskVolumeSource": {
        1: ("pdName", STR | ALWAYS), 2: ("fsType", STR), 3: ("partition", I32), 4: ("readOnly", BOOL),
    },
    "AWSElasticBlockStoreVolumeSource": {
        1: ("volumeID", STR | ALWAYS), 2: ("fsType", STR), 3: ("partition", I32), 4: ("readOnly", BOOL),
    },
    "GitRepoVolumeSource": {1: ("repository", STR | ALWAYS), 2: ("revision", STR), 3: ("directory", STR)},
    "SecretVolumeSource": {
        1: ("secretName", STR), 2: ("items", MSG | REP, "KeyToPath"), 3: ("defaultMode", I32 | PTR),
        4: ("optional", BOOL | PTR),
    },
    "KeyToPath": {1: ("key", STR | ALWAYS), 2: ("path", STR | ALWAYS), 3: ("mode", I32 | PTR)},
    "NFSVolumeSource": {1: ("server", STR | ALWAYS), 2: ("path", STR | ALWAYS), 3: ("readOnly", BOOL)},
    "ISCSIVolumeSource": {
        1: ("targetPortal", STR | ALWAYS), 2: ("iqn", STR | ALWAYS), 3: ("lun", I32 | ALWAYS),
        4: ("iscsiInterface", STR), 5: ("fsType", STR), 6: ("readOnly", BOOL), 7: ("portals", STR | REP),
        8: ("chapAuthDiscovery", BOOL), 10: ("secretRef", MSG | PTR, "LocalObjectReference"),
        11: ("chapAuthSession", BOOL), 12: ("initiatorName", STR | PTR),
    },
    "GlusterfsVolumeSource": {
        1: ("endpoints", STR | ALWAYS), 2: ("path", STR | ALWAYS), 3: ("readOnly", BOOL),
    },
    "PersistentVolumeClaimVolumeSource": {1: ("claimName", STR | ALWAYS), 2: ("readOnly", BOOL)},
    "RBDVolumeSource": {
        1: ("monitors", STR | REP | ALWAYS), 2: ("image", STR | ALWAYS), 3: ("fsType", STR), 4: ("pool", STR),
        5: ("user", STR), 6: ("keyring", STR), 7: ("secretRef", MSG | PTR, "LocalObjectReference"),
        8: ("readOnly", BOOL),
    },
    "FlexVolumeSource": {
        1: ("driver", STR | ALWAYS), 2: ("fsType", STR), 3: ("secretRef", MSG | PTR, "LocalObjectReference"),
        4: ("readOnly", BOOL), 5: ("options", MAP | STR),
    },
    "CinderVolumeSource": {
        1: ("volumeID", STR | ALWAYS), 2: ("fsType", STR), 3: ("readOnly", BOOL),
        4: ("secretRef", MSG | PTR, "LocalObjectReference"),
    },
    "CephFSVolumeSource": {
        1: ("monitors", STR | REP | ALWAYS), 2: ("path", STR), 3: ("user", STR), 4: ("secretFile", STR),
        5: ("secretRef", MSG | PTR, "LocalObjectReference"), 6: ("readOnly", BOOL),
    },
    "FlockerVolumeSource": {1: ("datasetName", STR), 2: ("datasetUUID", STR)},
    "DownwardAPIVolumeSource": {
        1: ("items", MSG | REP, "DownwardAPIVolumeFile"), 2: ("defaultMode", I32 | PTR),
    },
    "DownwardAPIVolumeFile": {
        1: ("path", STR | ALWAYS), 2: ("fieldRef", MSG | PTR, "ObjectFieldSelector"),
        3: ("resourceFieldRef", MSG | PTR, "ResourceFieldSelector"), 4: ("mode", I32 | PTR),
    },
    "FCVolumeSource": {
        1: ("targetWWNs", STR | REP), 2: ("lun", I32 | PTR), 3: ("fsType", STR), 4: ("readOnly", BOOL),
        5: ("wwids", STR | REP),
    },
    "AzureFileVolumeSource": {
        1: ("secretName", STR | ALWAYS), 2: ("shareName", STR | ALWAYS), 3: ("readOnly", BOOL),
    },
    "ConfigMapVolumeSource": {
        1: ("", MSG | INLINE, "LocalObjectReference"), 2: ("items", MSG | REP, "KeyToPath"),
        3: ("defaultMode", I32 | PTR), 4: ("optional", BOOL | PTR),
    },
    "VsphereVirtualDiskVolumeSource": {
        1: ("volumePath", STR | ALWAYS), 2: ("fsType", STR), 3: ("storagePolicyName", STR),
        4: ("storagePolicyID", STR),
    },
    "QuobyteVolumeSource": {
        1: ("registry", STR | ALWAYS), 2: ("volume", STR | ALWAYS), 3: ("readOnly", BOOL), 4: ("user", STR),
        5: ("group", STR), 6: ("tenant", STR),
    },
    "AzureDiskVolumeSource": {
        1: ("diskName", STR | ALWAYS), 2: ("diskURI", STR | ALWAYS), 3: ("cachingMode", STR | PTR),
        4: ("fsType", STR | PTR), 5: ("readOnly", BOOL | PTR), 6: ("kind", STR | PTR),
    },
    "PhotonPersistentDiskVolumeSource": {1: ("pdID", STR | ALWAYS), 2: ("fsType", STR)},
    "ProjectedVolumeSource": {
        1: ("sources", MSG | REP | ALWAYS, "VolumeProjection"), 2: ("defaultMode", I32 | PTR),
    },
    "VolumeProjection": {
        1: ("secret", MSG | PTR, "SecretProjection"), 2: ("downwardAPI", MSG | PTR, "DownwardAPIProjection"),
        3: ("configMap", MSG | PTR, "ConfigMapProjection"),
        4: ("serviceAccountToken", MSG | PTR, "ServiceAccountTokenProjection"),
        5: ("clusterTrustBundle", MSG | PTR, "ClusterTrustBundleProjection"),
        6: ("podCertificate", MSG | PTR, "PodCertificateProjection"),
    },
    "SecretProjection": {
        1: ("", MSG | INLINE, "LocalObjectReference"), 2: ("items", MSG | REP, "KeyToPath"),
        4: ("optional", BOOL | PTR),
    },
    "DownwardAPIProjection": {1: ("items", MSG | REP, "DownwardAPIVolumeFile")},
    "ConfigMapProjection": {
        1: ("", MSG | INLINE, "LocalObjectReference"), 2: ("items", MSG | REP, "KeyToPath"),
        4: ("optional", BOOL | PTR),
    },
    "ServiceAccountTokenProjection": {
        1: ("audience", STR), 2: ("expirationSeconds", INT | PTR), 3: ("path", STR | ALWAYS),
    },
    "ClusterTrustBundleProjection": {
        1: ("name", STR | PTR), 2: ("signerName", STR | PTR),
        3: ("labelSelector", MSG | PTR, "LabelSelector"), 4: ("path", STR | ALWAYS),
        5: ("optional", BOOL | PTR),
    },
    "PodCertificateProjection": {
        1: ("signerName", STR), 2: ("keyType", STR), 3: ("maxExpirationSeconds", I32 | PTR),
        4: ("credentialBundlePath", STR), 5: ("keyPath", STR), 6: ("certificateChainPath", STR),
        7: ("userAnnotations", MAP | STR),
    },
    "PortworxVolumeSource": {1: ("volumeID", STR | ALWAYS), 2: ("fsType", STR), 3: ("readOnly", BOOL)},
    "ScaleIOVolumeSource": {
        1: ("gateway", STR | ALWAYS), 2: ("system", STR | ALWAYS),
        3: ("secretRef", MSG | NULL, "LocalObjectReference"), 4: ("sslEnabled", BOOL),
        5: ("protectionDomain", STR), 6: ("storagePool", STR), 7: ("storageMode", STR),
        8: ("volumeName", STR), 9: ("fsType", STR), 10: ("readOnly", BOOL),
    },
    "StorageOSVolumeSource": {
        1: ("volumeName", STR), 2: ("volumeNamespace", STR), 3: ("fsType", STR), 4: ("readOnly", BOOL),
        5: ("secretRef", MSG | PTR, "LocalObjectReference"),
    },
    "CSIVolumeSource": {
        1: ("driver", STR | ALWAYS), 2: ("readOnly", BOOL | PTR), 3: ("fsType", STR | PTR),
        4: ("volumeAttributes", MAP | STR), 5: ("nodePublishSecretRef", MSG | PTR, "LocalObjectReference"),
    },
    "EphemeralVolumeSource": {1: ("volumeClaimTemplate", MSG | PTR, "PersistentVolumeClaimTemplate")},
    "PersistentVolumeClaimTemplate": {
        1: ("metadata", MSG | ALWAYS, "ObjectMeta"), 2: ("spec", MSG | ALWAYS, "PersistentVolumeClaimSpec"),
    },
    "PersistentVolumeClaimSpec": {
        1: ("accessModes", STR | REP), 2: ("resources", MSG | ALWAYS, "VolumeResourceRequirements"),
        3: ("volumeName", STR), 4: ("selector", MSG | PTR, "LabelSelector"),
        5: ("storageClassName", STR | PTR), 6: ("volumeMode", STR | PTR),
        7: ("dataSource", MSG | PTR, "TypedLocalObjectReference"),
        8: ("dataSourceRef", MSG | PTR, "TypedObjectReference"), 9: ("volumeAttributesClassName", STR | PTR),
    },
    "VolumeResourceRequirements": {
        1: ("limits", MAP | MSG, "Quantity"), 2: ("requests", MAP | MSG, "Quantity"),
    },
    "TypedLocalObjectReference": {
        1: ("apiGroup", STR | NULL), 2: ("kind", STR | ALWAYS), 3: ("name", STR | ALWAYS),
    },
    "TypedObjectReference": {
        1: ("apiGroup", STR | NULL), 2: ("kind", STR | ALWAYS), 3: ("name", STR | ALWAYS),
        4: ("namespace", STR | PTR),
    },
    "ImageVolumeSource": {1: ("reference", STR), 2: ("pullPolicy", STR)},
}
