"""The kinds plugingate knows, by (API group, kind), and where each keeps its pod template.

Kinds are matched with their group, so that a custom resource that happens to be called
``Deployment`` is not mistaken for one (it is reported as a kind plugingate cannot classify). Deny
lists ignore case; the kinds that make an object harmless or checked-elsewhere must match exactly,
so that an odd spelling is never waved through as known.
"""

from __future__ import annotations

from typing import Any

from plugingate.manifests.model import ManifestObject
from plugingate.safeyaml import JsonPath

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
        ("", "PersistentVolumeClaim"),
        ("", "LimitRange"),
        ("", "ResourceQuota"),
        (RBAC_GROUP, "Role"),
        (RBAC_GROUP, "RoleBinding"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("networking.k8s.io", "Ingress"),
        ("extensions", "Ingress"),
        ("policy", "PodDisruptionBudget"),
        ("autoscaling", "HorizontalPodAutoscaler"),
    }
)

# NOTE: never from a plugin: each one intercepts or rewrites the cluster's own traffic, trust or scheduling.
FORBIDDEN_CLUSTER: frozenset[tuple[str, str]] = frozenset(
    {
        ("apiregistration.k8s.io", "APIService"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("", "Node"),
        ("", "ComponentStatus"),
        ("policy", "PodSecurityPolicy"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("internal.apiserver.k8s.io", "StorageVersion"),
        ("storagemigration.k8s.io", "StorageVersionMigration"),
    }
)
# NOTE: cluster-scoped built-in kinds a plugin may ship when it declares cluster scope and the policy lists the
# kind (kubernetes.allowedClusterKinds); admission kinds are judged by PG-MAN-073 instead.
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("networking.k8s.io", "IngressClass"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "ResourceSlice"),
        ("", "PersistentVolume"),
        ("", "Namespace"),
        (RBAC_GROUP, "ClusterRole"),
        (RBAC_GROUP, "ClusterRoleBinding"),
    }
)
# NOTE: a group and every group below it (``policies.kyverno.io`` is under ``kyverno.io``): the objects of an
# admission or policy engine, built in or installed, whatever their kind or scope.
ADMISSION_GROUPS = (
    "admissionregistration.k8s.io",
    "kyverno.io",
    "gatekeeper.sh",
    "sigstore.dev",
    "kubewarden.io",
    "jspolicy.com",
)
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


def key(obj: ManifestObject) -> tuple[str, str]:
    """(group, kind) of an object."""
    return obj.group, obj.kind


def _folded(kinds: frozenset[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    return frozenset((g.lower(), k.lower()) for g, k in kinds)


# NOTE: matched without case: a kind spelled otherwise must not slip past a deny list because a client or a
# future API server resolves it anyway.
_FORBIDDEN = _folded(FORBIDDEN_CLUSTER)
_CLUSTER = _folded(CLUSTER_SCOPED)
_KNOWN = frozenset(POD_SPEC_PATHS) | OTHER_KNOWN


def folded_key(obj: ManifestObject) -> tuple[str, str]:
    """(group, kind) in lower case, for deny lists."""
    return obj.group.lower(), obj.kind.lower()


def kind_name(obj: ManifestObject) -> str:
    """``Kind.group`` (``Kind`` alone for the core group), the spelling of the policy's kind lists."""
    return f"{obj.kind}.{obj.group}" if obj.group else obj.kind


def is_forbidden(obj: ManifestObject) -> bool:
    """A kind no plugin may ship."""
    return folded_key(obj) in _FORBIDDEN


def is_cluster_scoped(obj: ManifestObject) -> bool:
    """A built-in kind that lives outside every namespace (custom resources: unknown, so not)."""
    return folded_key(obj) in _CLUSTER or folded_key(obj) in _FORBIDDEN


def is_admission(obj: ManifestObject) -> bool:
    """An object of an admission or policy engine (by API group)."""
    group = obj.group.lower()
    return any(group == g or group.endswith("." + g) for g in ADMISSION_GROUPS)


def is_known(obj: ManifestObject) -> bool:
    """Whether plugingate knows the object's kind (checked, or known to be harmless)."""
    return key(obj) in _KNOWN or is_admission(obj) or is_cluster_scoped(obj)


def pod_specs(obj: ManifestObject) -> list[tuple[dict[str, Any], JsonPath]]:
    """Every pod spec of an object and its path: at the kind's known place, else found by structure.

    A built-in workload keeps its pod spec at one place (a built-in kind without one is invalid input);
    any other object is searched for maps shaped like a pod spec (a ``containers`` list of maps), which is
    where Argo Rollouts, Knative Services, JobSets, OpenKruise CloneSets and the like keep theirs.
    """
    from plugingate.errors import InputError

    path = POD_SPEC_PATHS.get(key(obj))
    if path is None:
        return [found for found in _search(obj.data) if found[1][:1] != ("metadata",)]
    node: Any = obj.data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        raise InputError(
            f"{obj.ref} has no pod template at {'.'.join(path)}; expected a map",
            path=obj.path,
            line=obj.line(*path),
        )
    return [(node, path)]


MAX_DEPTH = 64


def _search(node: Any, at: JsonPath = (), depth: int = 0) -> list[tuple[dict[str, Any], JsonPath]]:
    """Maps shaped like a pod spec below ``node`` (not below one found: a pod spec holds no other)."""
    if depth > MAX_DEPTH:
        return []
    if isinstance(node, dict):
        containers = node.get("containers")
        if isinstance(containers, list) and any(isinstance(c, dict) for c in containers):
            return [(node, at)]
        return [found for k, v in node.items() for found in _search(v, (*at, str(k)), depth + 1)]
    if isinstance(node, list):
        return [found for i, v in enumerate(node) for found in _search(v, (*at, i), depth + 1)]
    return []


def unchecked_shapes(obj: ManifestObject, checked: list[JsonPath]) -> list[tuple[JsonPath, str]]:
    """What an object runs outside the pod specs found: an ``image`` named elsewhere, a virtual machine."""
    out: list[tuple[JsonPath, str]] = []

    def walk(node: Any, at: JsonPath, depth: int) -> None:
        if depth > MAX_DEPTH or any(at[: len(c)] == c for c in checked):
            return
        if isinstance(node, dict):
            image = node.get("image")
            if isinstance(image, str) and image:
                out.append(((*at, "image"), f"image {image!r}"))
            domain = node.get("domain")
            if isinstance(domain, dict) and ("devices" in domain or "resources" in domain or "cpu" in domain):
                out.append(((*at, "domain"), "a virtual machine (KubeVirt domain)"))
            for k, v in node.items():
                walk(v, (*at, str(k)), depth + 1)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*at, i), depth + 1)

    walk({k: v for k, v in obj.data.items() if k != "metadata"}, (), 0)
    return out
