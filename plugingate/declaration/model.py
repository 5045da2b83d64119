"""The declaration as typed, immutable values (built only from a schema-valid document)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from plugingate.safeyaml import YamlDocument

_DIGEST = re.compile(r"@(sha256:[0-9a-f]{64})$")


def pinned_digest(ref: str) -> str | None:
    """``sha256:<hex>`` when ``ref`` is pinned by a well-formed sha256 digest, else None."""
    match = _DIGEST.search(ref)
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image the plugin runs. ``digest`` is set only when the reference pins one."""

    name: str
    ref: str
    archive: str | None = None
    line: int | None = None

    @property
    def digest(self) -> str | None:
        """``sha256:<hex>`` when the reference is pinned by digest."""
        return pinned_digest(self.ref)

    @property
    def repository(self) -> str:
        """The reference without tag or digest (``registry.example.com/acme/exporter``)."""
        base = self.ref.split("@", 1)[0]
        last = base.rsplit("/", 1)
        if ":" in last[-1]:
            base = base[: base.rfind(":")]
        return base


@dataclass(frozen=True, slots=True)
class EgressRule:
    """Outbound traffic the plugin needs."""

    host: str
    ports: tuple[int, ...]
    reason: str
    protocol: str = "TCP"
    line: int | None = None


@dataclass(frozen=True, slots=True)
class IngressRule:
    """Inbound traffic the plugin accepts; ``external`` means outside the cluster."""

    port: int
    reason: str
    protocol: str = "TCP"
    external: bool = False
    line: int | None = None


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A Kubernetes Secret the plugin reads; empty ``keys`` means any key of it."""

    name: str
    keys: tuple[str, ...] = ()
    as_: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RbacRule:
    """A Kubernetes RBAC PolicyRule, verbatim."""

    verbs: tuple[str, ...]
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Privileges:
    """Privileges the plugin asks for; the defaults are the least."""

    run_as_non_root: bool = True
    privileged: bool = False
    allow_privilege_escalation: bool = False
    capabilities: tuple[str, ...] = ()
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    host_path: tuple[str, ...] = ()
    volume_types: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Resources:
    """The most CPU (millicores) and memory (bytes) one container of the plugin may be given."""

    cpu_millicores: int | None = None
    memory_bytes: int | None = None
    cpu: str | None = None
    memory: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Everything the plugin declares it needs at run time. What is not here is not granted."""

    egress: tuple[EgressRule, ...] = ()
    ingress: tuple[IngressRule, ...] = ()
    fs_read: tuple[str, ...] = ()
    fs_write: tuple[str, ...] = ()
    secrets: tuple[SecretRef, ...] = ()
    rbac_rules: tuple[RbacRule, ...] = ()
    cluster_scope: bool = False
    namespaces: tuple[str, ...] = ()
    admission_policies: bool = False
    privileges: Privileges = field(default_factory=Privileges)
    resources: Resources = field(default_factory=Resources)


@dataclass(frozen=True, slots=True)
class Declaration:
    """A validated ``plugin.yaml``; ``document`` keeps the lines for findings."""

    name: str
    version: str
    publisher: str
    images: tuple[ImageRef, ...]
    manifests: tuple[str, ...]
    capabilities: Capabilities
    document: YamlDocument
    source: str | None = None
    description: str | None = None
    namespace: str | None = None

    @property
    def path(self) -> str:
        """The file the declaration came from, relative to the bundle root."""
        return self.document.path

    def line(self, *json_path: str | int) -> int | None:
        """The line of a field in plugin.yaml."""
        return self.document.line_of(json_path)
