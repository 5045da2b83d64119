"""The kinds plugingate knows, by (API group, kind), and where each keeps its pod template.

Kinds are matched with their group, so that a custom resource that happens to be called
``Deployment`` is not mistaken for one (it is reported as a kind plugingate does not check).
"""

from __future__ import annotations

from typing import Any

from plugingate.manifests.model import ManifestObject

POD_SPEC_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): ("spec",),
    ("", "PodTemplate"): ("template", "spec"),
    ("", "ReplicationController"): ("spec", "template", "spec"),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("extensions", "Deployment"): ("spec", "template", "spec"),
    ("extensions", "DaemonSet"): ("spec", "template", "spec"),
    ("extensions", "ReplicaSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}

RBAC_GROUP = "rbac.authorization.k8s.io"
ROLE_KINDS = ("Role", "ClusterRole")
BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")

# NOTE: kinds that are checked elsewhere or carry nothing a plugin could misuse.
OTHER_KNOWN: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "ServiceAccount"),
        ("", "Service"),
        ("", "ConfigMap"),
        ("", "Secret"),
        ("", "Namespace"),
        ("", "PersistentVolumeClaim"),
        ("", "LimitRange"),
        ("", "ResourceQuota"),
        (RBAC_GROUP, "Role"),
        (RBAC_GROUP, "ClusterRole"),
        (RBAC_GROUP, "RoleBinding"),
        (RBAC_GROUP, "ClusterRoleBinding"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("networking.k8s.io", "Ingress"),
        ("extensions", "Ingress"),
        ("policy", "PodDisruptionBudget"),
        ("autoscaling", "HorizontalPodAutoscaler"),
    }
)

# NOTE: never from a plugin: each one intercepts or rewrites the cluster's own traffic or trust.
FORBIDDEN_CLUSTER: frozenset[tuple[str, str]] = frozenset(
    {
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("apiregistration.k8s.io", "APIService"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("", "Node"),
        ("policy", "PodSecurityPolicy"),
    }
)
# NOTE: cluster-wide, but ordinary for an operator-style plugin that declares cluster scope.
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "StorageClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("networking.k8s.io", "IngressClass"),
        ("", "PersistentVolume"),
    }
)
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


def key(obj: ManifestObject) -> tuple[str, str]:
    """(group, kind) of an object."""
    return obj.group, obj.kind


def is_known(obj: ManifestObject) -> bool:
    """Whether plugingate knows the object's kind (checked, or known to be harmless)."""
    k = key(obj)
    return k in POD_SPEC_PATHS or k in OTHER_KNOWN or k in FORBIDDEN_CLUSTER or k in CLUSTER_SCOPED


def pod_spec(obj: ManifestObject) -> tuple[dict[str, Any], tuple[str, ...]] | None:
    """The pod spec of a workload and its path, ``None`` for other kinds; a workload without one is invalid."""
    from plugingate.errors import InputError

    path = POD_SPEC_PATHS.get(key(obj))
    if path is None:
        return None
    node: Any = obj.data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        raise InputError(
            f"{obj.ref} has no pod template at {'.'.join(path)}; expected a map",
            path=obj.path,
            line=obj.line(*path),
        )
    return node, path
