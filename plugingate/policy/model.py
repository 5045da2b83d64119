"""The gate policy as typed, immutable values; the defaults are the safe ones of docs/policy.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from plugingate.safeyaml import YamlDocument

# NOTE: the policy lists its trusted signers in the signature package's own type (keys parsed, regexes
# compiled when the policy is loaded): one definition of who may sign, for the policy and the verifiers.
from plugingate.signature.identity import TrustedSigner


class Mode(StrEnum):
    """``enforce`` denies; ``warn`` and ``dry-run`` report and pass (dry-run also signs nothing)."""

    ENFORCE = "enforce"
    WARN = "warn"
    DRY_RUN = "dry-run"


class VulnSeverity(StrEnum):
    """grype's severities, lowest first."""

    NEGLIGIBLE = "negligible"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Order for comparisons: negligible 0 … critical 4."""
        return list(VulnSeverity).index(self)


@dataclass(frozen=True, slots=True)
class BundleLimitsPolicy:
    """Limits on what a bundle archive may unpack to."""

    max_archive_bytes: int = 1 << 30
    max_unpacked_bytes: int = 2 << 30
    max_files: int = 20_000
    max_compression_ratio: float = 200.0
    max_file_bytes: int = 1 << 30


@dataclass(frozen=True, slots=True)
class SignaturePolicy:
    """Who may sign a bundle."""

    required: bool = True
    trusted_root: Path | None = None
    offline: bool = False
    trusted_signers: tuple[TrustedSigner, ...] = ()


@dataclass(frozen=True, slots=True)
class InTotoPolicy:
    """An in-toto layout to verify, with the keys of its owners."""

    layout: Path | None = None
    layout_keys: tuple[Path, ...] = ()
    enable_inspections: bool = False


@dataclass(frozen=True, slots=True)
class ProvenancePolicy:
    """Who may have built a bundle, and from where."""

    required: bool = False
    trusted_builders: tuple[str, ...] = ()
    source_repositories: tuple[str, ...] = ()
    source_refs: tuple[str, ...] = ()
    signers: tuple[TrustedSigner, ...] = ()
    in_toto: InTotoPolicy = field(default_factory=InTotoPolicy)


@dataclass(frozen=True, slots=True)
class VulnException:
    """An accepted vulnerability, until ``expires`` (inclusive)."""

    id: str
    package: str
    expires: date
    reason: str
    line: int | None = None

    def active(self, today: date) -> bool:
        """Whether the exception still applies on ``today``."""
        return today <= self.expires


@dataclass(frozen=True, slots=True)
class VulnerabilityPolicy:
    """Thresholds, exceptions and VEX for the scan step."""

    fail_on: VulnSeverity = VulnSeverity.HIGH
    only_fixed: bool = False
    max_database_age: timedelta = timedelta(hours=120)
    on_stale_database: str = "fail"
    # NOTE: what data the policy trusts (vulnerabilities.database): providers that must be present,
    # a floor on the advisory count, and whether the project's test database may stand in (never,
    # unless a test policy says so: a scan against it passes almost anything).
    require_providers: tuple[str, ...] = ()
    min_advisories: int = 0
    allow_test_database: bool = False
    on_skipped_image: str = "deny"
    exceptions: tuple[VulnException, ...] = ()
    vex: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class AllowedService:
    """In-cluster Services a plugin may call: one namespace, a Service name or ``*``, and ports (empty: any)."""

    namespace: str
    name: str = "*"
    ports: tuple[int, ...] = ()

    def allows(self, name: str, namespace: str) -> bool:
        """Whether the Service ``name`` in ``namespace`` is one of these (the namespace is always exact)."""
        return namespace == self.namespace and self.name in ("*", name)


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """Egress and ingress the platform accepts; ``allowed_services``: in-cluster Services (none by default)."""

    egress_allow: tuple[str, ...] = ()
    egress_ports: tuple[int, ...] = ()
    allow_private_addresses: bool = False
    allow_metadata_addresses: bool = False
    allowed_addresses: tuple[str, ...] = ()
    allow_ingress: bool = True
    allow_external_services: bool = False
    allowed_services: tuple[AllowedService, ...] = ()


@dataclass(frozen=True, slots=True)
class FilesystemPolicy:
    """Paths a plugin may write, and paths it may never read."""

    writable_allow: tuple[str, ...] = ("/tmp", "/tmp/**")
    read_deny: tuple[str, ...] = (
        "/etc/kubernetes",
        "/etc/kubernetes/**",
        "/var/lib/kubelet",
        "/var/lib/kubelet/**",
        "/var/run/docker.sock",
        "/run/containerd/**",
        "/proc/**",
        "/sys/**",
    )


@dataclass(frozen=True, slots=True)
class SecretsPolicy:
    """Secret names a plugin may declare."""

    name_patterns: tuple[str, ...] = ("*",)
    deny_patterns: tuple[str, ...] = ()


class UnknownKinds(StrEnum):
    """What an object the gate cannot classify gets: a denial (the default) or only a warning."""

    DENY = "deny"
    WARN = "warn"


# NOTE: ``Kind.group`` (``Kind`` alone for the core group), as kubectl spells a resource's kind and group.
DEFAULT_CLUSTER_KINDS = (
    "CustomResourceDefinition.apiextensions.k8s.io",
    "PriorityClass.scheduling.k8s.io",
    "IngressClass.networking.k8s.io",
    "ClusterRole.rbac.authorization.k8s.io",
    "ClusterRoleBinding.rbac.authorization.k8s.io",
)


@dataclass(frozen=True, slots=True)
class KubernetesPolicy:
    """RBAC limits, and which objects a bundle may ship beyond its own namespace."""

    allow_wildcards: bool = False
    allow_cluster_wide_secrets: bool = False
    forbidden_verbs: tuple[str, ...] = ("escalate", "bind", "impersonate")
    forbidden_resources: tuple[str, ...] = (
        "pods/exec",
        "pods/attach",
        "nodes/proxy",
        "serviceaccounts/token",
    )
    allow_cluster_roles: bool = True
    allowed_cluster_kinds: tuple[str, ...] = DEFAULT_CLUSTER_KINDS
    allowed_namespaces: tuple[str, ...] = ()
    allow_admission_policies: bool = False
    unknown_kinds: UnknownKinds = UnknownKinds.DENY
    allowed_token_audiences: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PrivilegesPolicy:
    """Privileges the platform grants at most."""

    allow_privileged: bool = False
    allow_host_network: bool = False
    allow_host_pid: bool = False
    allow_host_ipc: bool = False
    allow_host_path: bool = False
    allowed_capabilities: tuple[str, ...] = ("NET_BIND_SERVICE",)
    allow_root: bool = False
    allow_privilege_escalation: bool = False
    allowed_volume_types: tuple[str, ...] = ()
    allowed_runtime_classes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResourcesPolicy:
    """Resource ceilings for one container."""

    require_limits: bool = True
    max_cpu_millicores: int | None = 2000
    max_memory_bytes: int | None = 2 << 30


@dataclass(frozen=True, slots=True)
class ImagesPolicy:
    """Where images may come from and how they must be referenced."""

    require_digest: bool = True
    allowed_registries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CapabilitiesPolicy:
    """The capability allow-lists."""

    network: NetworkPolicy = field(default_factory=NetworkPolicy)
    filesystem: FilesystemPolicy = field(default_factory=FilesystemPolicy)
    secrets: SecretsPolicy = field(default_factory=SecretsPolicy)
    kubernetes: KubernetesPolicy = field(default_factory=KubernetesPolicy)
    privileges: PrivilegesPolicy = field(default_factory=PrivilegesPolicy)
    resources: ResourcesPolicy = field(default_factory=ResourcesPolicy)
    images: ImagesPolicy = field(default_factory=ImagesPolicy)


@dataclass(frozen=True, slots=True)
class AttestationPolicy:
    """How long a gate attestation stays valid."""

    valid_for: timedelta = timedelta(hours=720)


class GrowthKind(StrEnum):
    """Kinds of permission growth between versions (``approvals.requireFor``; ``plugingate diff`` lists them)."""

    EGRESS = "egress"
    INGRESS = "ingress"
    FILESYSTEM = "filesystem"
    SECRETS = "secrets"
    RBAC = "rbac"
    PRIVILEGES = "privileges"
    IMAGES = "images"
    RESOURCES = "resources"
    CLUSTER_SCOPED = "clusterScoped"


@dataclass(frozen=True, slots=True)
class ApprovalsPolicy:
    """Which growth over the previous version (``gate --previous``) needs a signed approval, and who signs one."""

    require_for: tuple[GrowthKind, ...] = ()
    approvers: tuple[TrustedSigner, ...] = ()


class Cni(StrEnum):
    """How ``plugingate render`` expresses egress to host names: the CNI the platform runs.

    ``plain`` has only NetworkPolicy (no names: public addresses on the declared ports), ``cilium``
    adds a CiliumNetworkPolicy with ``toFQDNs``, ``anp`` a ClusterNetworkPolicy (the AdminNetworkPolicy
    API, ``policy.networking.k8s.io/v1beta1``) with ``domainNames``.
    """

    PLAIN = "plain"
    CILIUM = "cilium"
    ANP = "anp"


@dataclass(frozen=True, slots=True)
class RuntimePolicy:
    """What ``plugingate render`` needs to know about the clusters it renders for."""

    cni: Cni = Cni.PLAIN
    # NOTE: the API server's endpoint addresses (``kubectl get endpoints kubernetes``): a NetworkPolicy
    # cannot name the API server otherwise; Cilium has the ``kube-apiserver`` entity instead.
    api_server_cidrs: tuple[str, ...] = ()
    max_pods: int = 3


@dataclass(frozen=True, slots=True)
class ChartsPolicy:
    """How Helm charts are rendered (what the templates see) and whose signatures they need.

    NOTE: the Kubernetes version is pinned so that a chart renders the same objects on every gate
    machine; helm's own default is the version its client library was built with.
    """

    kube_version: str = "1.33.0"
    api_versions: tuple[str, ...] = ()
    keyring: Path | None = None
    require_signature: bool = False
    render_timeout: timedelta = timedelta(seconds=60)
    max_rendered_bytes: int = 32 << 20


@dataclass(frozen=True, slots=True)
class ProbePolicy:
    """The shadow run (``plugingate probe``, ``gate --probe``): how long, and its bounds beyond the declaration."""

    duration: timedelta = timedelta(seconds=10)
    max_execs: int = 0
    max_pids: int = 256
    memory_overhead_bytes: int = 64 << 20
    default_memory_bytes: int = 256 << 20


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """A loaded, validated gate policy. ``sha256`` is the digest of the file's bytes."""

    name: str
    sha256: str
    source: str
    base_dir: Path
    version: str | None = None
    mode: Mode = Mode.ENFORCE
    bundle: BundleLimitsPolicy = field(default_factory=BundleLimitsPolicy)
    signature: SignaturePolicy = field(default_factory=SignaturePolicy)
    provenance: ProvenancePolicy = field(default_factory=ProvenancePolicy)
    vulnerabilities: VulnerabilityPolicy = field(default_factory=VulnerabilityPolicy)
    capabilities: CapabilitiesPolicy = field(default_factory=CapabilitiesPolicy)
    attestation: AttestationPolicy = field(default_factory=AttestationPolicy)
    probe: ProbePolicy = field(default_factory=ProbePolicy)
    approvals: ApprovalsPolicy = field(default_factory=ApprovalsPolicy)
    charts: ChartsPolicy = field(default_factory=ChartsPolicy)
    runtime: RuntimePolicy = field(default_factory=RuntimePolicy)
    document: YamlDocument | None = None

    def line(self, *json_path: str | int) -> int | None:
        """The line of a field in the policy file."""
        return self.document.line_of(json_path) if self.document else None
