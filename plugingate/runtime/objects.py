"""What every rendered object shares: its metadata, and the facts of the render they are made from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plugingate.declaration import Declaration
from plugingate.policy.model import Cni

# NOTE: the label every rendered object carries, and the one the plugin's pods must carry in a
# namespace other than its own for the rendered Kyverno policies to confine them there.
PLUGIN_LABEL = "plugingate.dev/plugin"
MANAGED_BY = {"app.kubernetes.io/managed-by": "plugingate"}
KUBE_DNS_NAMESPACE = "kube-system"
KUBE_DNS_LABELS = {"k8s-app": "kube-dns"}
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
SERVICE_ACCOUNT_TOKEN_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"  # noqa: S105 (a path)


@dataclass(frozen=True, slots=True)
class Target:
    """Where and for what the controls are rendered: the declaration, its namespace and the cluster's CNI."""

    declaration: Declaration
    namespace: str
    cni: Cni
    api_server_cidrs: tuple[str, ...]
    max_pods: int
    allow_private_addresses: bool
    allow_metadata_addresses: bool

    @property
    def name(self) -> str:
        """The plugin's name, also its ServiceAccount's."""
        return self.declaration.name

    @property
    def cluster_name(self) -> str:
        """A name for cluster-scoped objects, unique per plugin and namespace."""
        return f"plugingate-{self.namespace}-{self.declaration.name}"

    @property
    def uses_kubernetes_api(self) -> bool:
        """Whether the plugin declared RBAC rules, and so talks to the API server with its token."""
        return bool(self.declaration.capabilities.rbac_rules)

    def labels(self) -> dict[str, str]:
        """The labels every rendered object carries."""
        # NOTE: not the version: a declared version may hold '+' or 64 characters, which a label value may not.
        return {**MANAGED_BY, PLUGIN_LABEL: self.declaration.name}

    def metadata(self, name: str, *, namespaced: bool = True, **extra: Any) -> dict[str, Any]:
        """``metadata`` for an object named ``name`` (in the plugin's namespace unless cluster-scoped)."""
        meta: dict[str, Any] = {"name": name, "labels": self.labels()}
        if namespaced:
            meta["namespace"] = self.namespace
        meta.update(extra)
        return meta
