"""Which rendered control carries each field of the declaration: the renderer's coverage, written down.

Every field of the declaration model (``plugingate.declaration.model``) is either mapped to the
kinds of rendered objects it shapes, or listed as not rendered with the reason. A test walks the
model's dataclasses and fails on a field in neither table, so a field added to the declaration
cannot silently go unenforced at run time; another test changes each mapped field and checks that
the mapped objects change.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Iterable
from dataclasses import dataclass

from plugingate.declaration import model


@dataclass(frozen=True, slots=True)
class Control:
    """The kinds of rendered objects a field shapes, and how."""

    kinds: tuple[str, ...]
    how: str


_KYVERNO = ("ClusterPolicy", "ValidatingPolicy")
_NETWORK = ("NetworkPolicy", "CiliumNetworkPolicy", "ClusterNetworkPolicy")

FIELD_CONTROLS: dict[str, Control] = {
    "Declaration.name": Control(
        ("ServiceAccount", "NetworkPolicy", *_KYVERNO), "names the objects; the pods must run as its ServiceAccount"
    ),
    "Declaration.version": Control(("Namespace",), "recorded: plugingate.dev/plugin-version annotation"),
    "Declaration.publisher": Control(("Namespace",), "recorded: plugingate.dev/publisher annotation"),
    "Declaration.source": Control(("Namespace",), "recorded: plugingate.dev/source annotation"),
    "Declaration.description": Control(("Namespace",), "recorded: plugingate.dev/description annotation"),
    "Declaration.namespace": Control(("Namespace", "ResourceQuota", *_KYVERNO), "the namespace everything lives in"),
    "Declaration.manifests": Control(("Namespace",), "recorded: plugingate.dev/manifests annotation"),
    "Declaration.images": Control(_KYVERNO, "pods may run only these images"),
    "Declaration.capabilities": Control(("Namespace",), "every field of it, below"),
    "ImageRef.ref": Control(_KYVERNO, "declared-images: the exact reference, pinned by digest"),
    "Capabilities.egress": Control(_NETWORK, "egress allowed to exactly these destinations and ports"),
    "Capabilities.ingress": Control(("NetworkPolicy", "ResourceQuota", *_KYVERNO), "ingress on these ports only"),
    "Capabilities.fs_read": Control(_KYVERNO, "declared-paths: read-only mounts only at these paths"),
    "Capabilities.fs_write": Control(_KYVERNO, "declared-paths: writable mounts only at these paths"),
    "Capabilities.secrets": Control(_KYVERNO, "declared-secrets: only these Secrets (and keys) are referenced"),
    "Capabilities.rbac_rules": Control(("ServiceAccount", "Role", "RoleBinding"), "exactly these rules"),
    "Capabilities.cluster_scope": Control(("ClusterRole", "ClusterRoleBinding"), "the rules are bound cluster-wide"),
    "Capabilities.namespaces": Control(_KYVERNO, "the plugin's labelled pods there are confined too"),
    "Capabilities.admission_policies": Control(("Namespace",), "recorded: plugingate.dev/admission-policies"),
    "Capabilities.privileges": Control(("Namespace", *_KYVERNO), "the PSA level and the grant checks"),
    "Capabilities.resources": Control(("LimitRange", "ResourceQuota"), "per-container limits and the quota"),
    "EgressRule.host": Control(_NETWORK, "ipBlock for addresses, toFQDNs/domainNames for names"),
    "EgressRule.ports": Control(_NETWORK, "only these ports"),
    "EgressRule.protocol": Control(_NETWORK, "only this protocol"),
    "EgressRule.service": Control(("NetworkPolicy",), "namespaceSelector of the Service's namespace"),
    "IngressRule.port": Control(("NetworkPolicy", *_KYVERNO), "ingress on this port; containers listen only on it"),
    "IngressRule.protocol": Control(("NetworkPolicy",), "only this protocol"),
    "IngressRule.external": Control(("NetworkPolicy", "ResourceQuota"), "from anywhere; LoadBalancer/NodePort allowed"),
    "SecretRef.name": Control(_KYVERNO, "declared-secrets"),
    "SecretRef.keys": Control(_KYVERNO, "declared-secrets: secretKeyRef keys"),
    "RbacRule.verbs": Control(("Role",), "verbatim"),
    "RbacRule.api_groups": Control(("Role",), "verbatim"),
    "RbacRule.resources": Control(("Role",), "verbatim"),
    "RbacRule.resource_names": Control(("Role",), "verbatim"),
    "RbacRule.non_resource_urls": Control(("ClusterRole", "ClusterRoleBinding"), "verbatim, in a ClusterRole"),
    "Privileges.run_as_non_root": Control(("Namespace", *_KYVERNO), "PSA level; run-as-non-root check"),
    "Privileges.privileged": Control(("Namespace", *_KYVERNO), "PSA level; not-privileged check"),
    "Privileges.allow_privilege_escalation": Control(("Namespace", *_KYVERNO), "PSA level; check"),
    "Privileges.capabilities": Control(("Namespace", *_KYVERNO), "PSA level; granted-capabilities check"),
    "Privileges.host_network": Control(("Namespace", *_KYVERNO), "PSA level; no-hostnetwork, no-host-ports"),
    "Privileges.host_pid": Control(("Namespace", *_KYVERNO), "PSA level; no-hostpid"),
    "Privileges.host_ipc": Control(("Namespace", *_KYVERNO), "PSA level; no-hostipc"),
    "Privileges.host_path": Control(("Namespace", *_KYVERNO), "PSA level; declared-host-paths"),
    "Privileges.volume_types": Control(("Namespace", *_KYVERNO), "PSA level; granted-volume-types"),
    "Resources.cpu_millicores": Control(("LimitRange", "ResourceQuota"), "max per container; quota x maxPods"),
    "Resources.memory_bytes": Control(("LimitRange", "ResourceQuota"), "max per container; quota x maxPods"),
    "ServiceRef.namespace": Control(("NetworkPolicy",), "namespaceSelector"),
}

# NOTE: fields that are not part of what runs, with the reason. Nothing here may grant anything.
NOT_RENDERED: dict[str, str] = {
    "Declaration.document": "the parsed file itself (lines for findings)",
    "ImageRef.archive": "install time: the gate scans the archive; what runs is pinned by ref's digest",
    "ImageRef.line": "a line number in plugin.yaml",
    "EgressRule.line": "a line number in plugin.yaml",
    "IngressRule.line": "a line number in plugin.yaml",
    "SecretRef.line": "a line number in plugin.yaml",
    "RbacRule.line": "a line number in plugin.yaml",
    "Privileges.line": "a line number in plugin.yaml",
    "Resources.line": "a line number in plugin.yaml",
    "Resources.cpu": "the spelling of cpu_millicores as written",
    "Resources.memory": "the spelling of memory_bytes as written",
    "ImageRef.name": "a label for the image; what runs is pinned by its ref",
    "EgressRule.reason": "a reason grants nothing",
    "IngressRule.reason": "a reason grants nothing",
    "SecretRef.as_": "env or volume: declared-secrets checks both ways of reading a Secret",
    "ServiceRef.name": "a NetworkPolicy selects pods, not Services: its namespace is allowed (docs/runtime.md)",
}

# NOTE: every dataclass the model module defines, found rather than listed: a new one is walked too.
MODEL_CLASSES: tuple[type, ...] = tuple(
    cls
    for _, cls in inspect.getmembers(model, inspect.isclass)
    if cls.__module__ == model.__name__ and dataclasses.is_dataclass(cls)
)


def model_fields(classes: Iterable[type] = MODEL_CLASSES) -> list[str]:
    """``Class.field`` for every field of the given dataclasses."""
    return [f"{cls.__name__}.{f.name}" for cls in classes for f in dataclasses.fields(cls)]


def unmapped_fields(classes: Iterable[type] = MODEL_CLASSES) -> list[str]:
    """Fields in neither table: each one is a declared value the renderer may be ignoring."""
    return [name for name in model_fields(classes) if name not in FIELD_CONTROLS and name not in NOT_RENDERED]
