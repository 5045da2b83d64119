"""The plugin's identity: its ServiceAccount, and exactly the RBAC rules it declared.

Rules are copied verbatim. Namespaced rules go into a Role in the plugin's namespace; with
``clusterScope`` they go into a ClusterRole bound cluster-wide; ``nonResourceURLs`` can only live in
a ClusterRole, so such rules always do. The token is mounted only when the plugin declared rules:
without them it has nothing to ask the API server.
"""

from __future__ import annotations

from typing import Any

from plugingate.declaration import RbacRule
from plugingate.runtime.objects import Target

_RBAC = "rbac.authorization.k8s.io/v1"


def policy_rule(rule: RbacRule) -> dict[str, Any]:
    """One declared rule as a Kubernetes PolicyRule (empty lists left out, as kubectl prints them)."""
    out: dict[str, Any] = {}
    if rule.api_groups or rule.resources:
        out["apiGroups"] = list(rule.api_groups)
    if rule.resources:
        out["resources"] = list(rule.resources)
    if rule.resource_names:
        out["resourceNames"] = list(rule.resource_names)
    if rule.non_resource_urls:
        out["nonResourceURLs"] = list(rule.non_resource_urls)
    out["verbs"] = list(rule.verbs)
    return out


def render_identity(target: Target) -> list[dict[str, Any]]:
    """The ServiceAccount, then the Role/ClusterRole and bindings the declared rules call for."""
    caps = target.declaration.capabilities
    subject = {"kind": "ServiceAccount", "name": target.name, "namespace": target.namespace}
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": target.metadata(target.name),
            "automountServiceAccountToken": target.uses_kubernetes_api,
        }
    ]
    resource_rules = [policy_rule(r) for r in caps.rbac_rules if not r.non_resource_urls]
    url_rules = [policy_rule(r) for r in caps.rbac_rules if r.non_resource_urls]
    namespaced = resource_rules if not caps.cluster_scope else []
    cluster = url_rules + (resource_rules if caps.cluster_scope else [])
    if namespaced:
        objects += [
            {"apiVersion": _RBAC, "kind": "Role", "metadata": target.metadata(target.name), "rules": namespaced},
            {
                "apiVersion": _RBAC,
                "kind": "RoleBinding",
                "metadata": target.metadata(target.name),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": target.name},
                "subjects": [subject],
            },
        ]
    if cluster:
        meta = target.metadata(target.cluster_name, namespaced=False)
        objects += [
            {"apiVersion": _RBAC, "kind": "ClusterRole", "metadata": meta, "rules": cluster},
            {
                "apiVersion": _RBAC,
                "kind": "ClusterRoleBinding",
                "metadata": target.metadata(target.cluster_name, namespaced=False),
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": target.cluster_name,
                },
                "subjects": [subject],
            },
        ]
    return objects
