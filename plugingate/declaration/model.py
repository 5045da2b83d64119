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


CLUSTER_DOMAIN = "cluster.local"
# NOTE: a Service name is a DNS-1035 label, a namespace a DNS-1123 label (both at most 63 characters).
_SERVICE_NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """An in-cluster Service the plugin calls: its name and namespace."""

    name: str
    namespace: str

    @property
    def host(self) -> str:
        """The Service's fully qualified name in the default cluster domain."""
        return f"{self.name}.{self.namespace}.svc.{CLUSTER_DOMAIN}"

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


def service_of_host(text: str) -> ServiceRef | None:
    """The Service a host name denotes, when it is ``NAME.NAMESPACE.svc`` or ``NAME.NAMESPACE.svc.cluster.local``.

    Case and one trailing dot are ignored, as DNS ignores them. Anything else is not a Service: not
    ``evil.svc.attacker.com`` (a public name that merely contains ``.svc``), not ``a.b.c.svc`` (a pod's
    name under a headless Service), not a wildcard, not another cluster domain (write the ``service:``
    form there).
    """
    name = text.strip().lower()
    name = name[:-1] if name.endswith(".") else name
    for suffix in (f".svc.{CLUSTER_DOMAIN}", ".svc"):
        if name.endswith(suffix):
            labels = name[: -len(suffix)].split(".")
            if len(labels) == 2 and _SERVICE_NAME.fullmatch(labels[0]) and _NAMESPACE.fullmatch(labels[1]):
                return ServiceRef(name=labels[0], namespace=labels[1])
            return None
    return None


@dataclass(frozen=True, slots=True)
class EgressRule:
    """Outbound traffic the plugin needs: to a host, or (``service`` set) to an in-cluster Service.

    For a Service, ``host`` is its fully qualified name (``NAME.NAMESPACE.svc.cluster.local``).
    """

    host: str
    ports: tuple[int, ...]
    reason: str
    protocol: str = "TCP"
    line: int | None = None
    service: ServiceRef | None = None


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
    # NOTE: the packaging forms besides spec.manifests (at most one form is declared; the loader checks).
    kustomize: str | None = None
    operator: str | None = None

    @property
    def path(self) -> str:
        """The file the declaration came from, relative to the bundle root."""
        return self.document.path

    def line(self, *json_path: str | int) -> int | None:
        """The line of a field in plugin.yaml."""
        return self.document.line_of(json_path)
