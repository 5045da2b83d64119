"""Loading a gate policy: bounded YAML, the packaged schema, then typed values with safe defaults."""

from __future__ import annotations

import hashlib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from plugingate.errors import InputError
from plugingate.policy.model import (
    AttestationPolicy,
    BundleLimitsPolicy,
    CapabilitiesPolicy,
    FilesystemPolicy,
    GatePolicy,
    ImagesPolicy,
    InTotoPolicy,
    KeylessSigner,
    KeySigner,
    KubernetesPolicy,
    Mode,
    NetworkPolicy,
    PrivilegesPolicy,
    ProvenancePolicy,
    ResourcesPolicy,
    SecretsPolicy,
    SignaturePolicy,
    TrustedSigner,
    VulnerabilityPolicy,
    VulnException,
    VulnSeverity,
)
from plugingate.safeyaml import YamlDocument, YamlLimits, load_one
from plugingate.schemas import validate_document
from plugingate.units import parse_bytes, parse_duration, parse_millicores

_LIMITS = YamlLimits(max_bytes=4 << 20, max_depth=32, max_nodes=200_000, max_documents=1)
_MAX_KEY_BYTES = 64 << 10


def default_policy_path() -> Path:
    """The packaged safe default (the same file as ``policies/default.yaml``)."""
    return Path(str(resources.files("plugingate.policy").joinpath("default.yaml")))


def load_policy(path: Path | None = None) -> GatePolicy:
    """Load the policy at ``path`` (the packaged default when ``None``)."""
    path = path or default_policy_path()
    try:
        with path.open("rb") as handle:
            raw = handle.read(_LIMITS.max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read the policy: {exc.strerror or exc}", path=str(path)) from exc
    return parse_policy(raw, source=str(path), base_dir=path.resolve().parent)


def parse_policy(raw: bytes, *, source: str, base_dir: Path) -> GatePolicy:
    """Parse and validate policy bytes; relative paths inside it resolve against ``base_dir``."""
    doc = load_one(raw, path=source, limits=_LIMITS)
    validate_document(doc, "policy.schema.json", what="gate policy")
    return _Builder(doc, base_dir).build(hashlib.sha256(raw).hexdigest())


class _Builder:
    """Turns a schema-valid document into a GatePolicy, naming the line of any bad value."""

    def __init__(self, doc: YamlDocument, base_dir: Path) -> None:
        self.doc = doc
        self.base_dir = base_dir

    def fail(self, message: str, *where: str | int) -> InputError:
        from plugingate.safeyaml import format_path

        return InputError(message, path=self.doc.path, line=self.doc.line_of(where), field=format_path(where))

    def convert(self, parse: Any, value: Any, *where: str | int) -> Any:
        try:
            return parse(value)
        except ValueError as exc:
            raise self.fail(str(exc), *where) from exc

    def build(self, sha256: str) -> GatePolicy:
        data: dict[str, Any] = self.doc.data
        spec: dict[str, Any] = data.get("spec") or {}
        meta = data["metadata"]
        return GatePolicy(
            name=meta["name"],
            version=str(meta["version"]) if "version" in meta else None,
            sha256=sha256,
            source=self.doc.path,
            base_dir=self.base_dir,
            mode=Mode(spec.get("mode", Mode.ENFORCE.value)),
            bundle=self.bundle(spec.get("bundle") or {}),
            signature=self.signature(spec.get("signature") or {}),
            provenance=self.provenance(spec.get("provenance") or {}),
            vulnerabilities=self.vulnerabilities(spec.get("vulnerabilities") or {}),
            capabilities=self.capabilities(spec.get("capabilities") or {}),
            attestation=self.attestation(spec.get("attestation") or {}),
            document=self.doc,
        )

    def bundle(self, s: dict[str, Any]) -> BundleLimitsPolicy:
        d = BundleLimitsPolicy()
        at = ("spec", "bundle")
        return BundleLimitsPolicy(
            max_archive_bytes=self.convert(
                parse_bytes, s.get("maxArchiveBytes", d.max_archive_bytes), *at, "maxArchiveBytes"
            ),
            max_unpacked_bytes=self.convert(
                parse_bytes, s.get("maxUnpackedBytes", d.max_unpacked_bytes), *at, "maxUnpackedBytes"
            ),
            max_files=int(s.get("maxFiles", d.max_files)),
            max_compression_ratio=float(s.get("maxCompressionRatio", d.max_compression_ratio)),
            max_file_bytes=self.convert(parse_bytes, s.get("maxFileBytes", d.max_file_bytes), *at, "maxFileBytes"),
        )

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else self.base_dir / p

    def signers(self, items: list[dict[str, Any]], *at: str | int) -> tuple[TrustedSigner, ...]:
        out = []
        for n, item in enumerate(items):
            name = item.get("name") or f"signer #{n + 1}"
            if "keyless" in item:
                k = item["keyless"]
                if "identityRegex" in k:
                    import re

                    try:
                        re.compile(k["identityRegex"])
                    except re.error as exc:
                        raise self.fail(
                            f"not a valid regular expression: {exc}", *at, n, "keyless", "identityRegex"
                        ) from exc
                out.append(
                    TrustedSigner(
                        name=name,
                        keyless=KeylessSigner(
                            issuer=k["issuer"],
                            identity=k.get("identity"),
                            identity_regex=k.get("identityRegex"),
                            source_repository=k.get("sourceRepository"),
                            workflow_ref=k.get("workflowRef"),
                            trigger=k.get("trigger"),
                            runner_environment=k.get("runnerEnvironment"),
                        ),
                    )
                )
            else:
                key = item["key"]
                if "pem" in key:
                    out.append(TrustedSigner(name=name, key=KeySigner(pem=key["pem"])))
                    continue
                file = self.path(key["path"])
                try:
                    with file.open("rb") as handle:
                        pem = handle.read(_MAX_KEY_BYTES).decode("ascii")
                except (OSError, UnicodeDecodeError) as exc:
                    raise self.fail(f"cannot read the public key {file}: {exc}", *at, n, "key", "path") from exc
                out.append(TrustedSigner(name=name, key=KeySigner(pem=pem, path=key["path"])))
        return tuple(out)

    def signature(self, s: dict[str, Any]) -> SignaturePolicy:
        root = s.get("trustedRoot")
        return SignaturePolicy(
            required=bool(s.get("required", True)),
            trusted_root=self.path(root) if root else None,
            offline=bool(s.get("offline", False)),
            trusted_signers=self.signers(s.get("trustedSigners") or [], "spec", "signature", "trustedSigners"),
        )

    def provenance(self, s: dict[str, Any]) -> ProvenancePolicy:
        intoto = s.get("inToto") or {}
        layout = intoto.get("layout")
        return ProvenancePolicy(
            required=bool(s.get("required", False)),
            trusted_builders=tuple(s.get("trustedBuilders") or ()),
            source_repositories=tuple(s.get("sourceRepositories") or ()),
            source_refs=tuple(s.get("sourceRefs") or ()),
            signers=self.signers(s.get("signers") or [], "spec", "provenance", "signers"),
            in_toto=InTotoPolicy(
                layout=self.path(layout) if layout else None,
                layout_keys=tuple(self.path(k) for k in intoto.get("layoutKeys") or ()),
                enable_inspections=bool(intoto.get("enableInspections", False)),
            ),
        )

    def vulnerabilities(self, s: dict[str, Any]) -> VulnerabilityPolicy:
        d = VulnerabilityPolicy()
        at = ("spec", "vulnerabilities")
        exceptions = []
        for n, e in enumerate(s.get("exceptions") or []):
            expires = self.convert(date.fromisoformat, e["expires"], *at, "exceptions", n, "expires")
            exceptions.append(
                VulnException(
                    id=e["id"],
                    package=e["package"],
                    expires=expires,
                    reason=e["reason"],
                    line=self.doc.line_of((*at, "exceptions", n)),
                )
            )
        return VulnerabilityPolicy(
            fail_on=VulnSeverity(s.get("failOn", d.fail_on.value)),
            only_fixed=bool(s.get("onlyFixed", d.only_fixed)),
            max_database_age=self.convert(parse_duration, s.get("maxDatabaseAge", "120h"), *at, "maxDatabaseAge"),
            on_stale_database=s.get("onStaleDatabase", d.on_stale_database),
            on_skipped_image=s.get("onSkippedImage", d.on_skipped_image),
            exceptions=tuple(exceptions),
            vex=tuple(self.path(v) for v in s.get("vex") or ()),
        )

    def capabilities(self, s: dict[str, Any]) -> CapabilitiesPolicy:
        net, fs, sec = s.get("network") or {}, s.get("filesystem") or {}, s.get("secrets") or {}
        kube, priv, res, img = (s.get(k) or {} for k in ("kubernetes", "privileges", "resources", "images"))
        dn, df, ds, dk = NetworkPolicy(), FilesystemPolicy(), SecretsPolicy(), KubernetesPolicy()
        dp, dr, di = PrivilegesPolicy(), ResourcesPolicy(), ImagesPolicy()
        at = ("spec", "capabilities", "resources")
        max_cpu = res.get("maxCpu")
        max_mem = res.get("maxMemory")
        return CapabilitiesPolicy(
            network=NetworkPolicy(
                egress_allow=tuple(net.get("egressAllow", dn.egress_allow)),
                egress_ports=tuple(net.get("egressPorts", dn.egress_ports)),
                allow_private_addresses=bool(net.get("allowPrivateAddresses", dn.allow_private_addresses)),
                allow_metadata_addresses=bool(net.get("allowMetadataAddresses", dn.allow_metadata_addresses)),
                allowed_addresses=tuple(net.get("allowedAddresses", dn.allowed_addresses)),
                allow_ingress=bool(net.get("allowIngress", dn.allow_ingress)),
                allow_external_services=bool(net.get("allowExternalServices", dn.allow_external_services)),
            ),
            filesystem=FilesystemPolicy(
                writable_allow=tuple(fs.get("writableAllow", df.writable_allow)),
                read_deny=tuple(fs.get("readDeny", df.read_deny)),
            ),
            secrets=SecretsPolicy(
                name_patterns=tuple(sec.get("namePatterns", ds.name_patterns)),
                deny_patterns=tuple(sec.get("denyPatterns", ds.deny_patterns)),
            ),
            kubernetes=KubernetesPolicy(
                allow_wildcards=bool(kube.get("allowWildcards", dk.allow_wildcards)),
                allow_cluster_wide_secrets=bool(kube.get("allowClusterWideSecrets", dk.allow_cluster_wide_secrets)),
                forbidden_verbs=tuple(kube.get("forbiddenVerbs", dk.forbidden_verbs)),
                forbidden_resources=tuple(kube.get("forbiddenResources", dk.forbidden_resources)),
                allow_cluster_roles=bool(kube.get("allowClusterRoles", dk.allow_cluster_roles)),
            ),
            privileges=PrivilegesPolicy(
                allow_privileged=bool(priv.get("allowPrivileged", dp.allow_privileged)),
                allow_host_network=bool(priv.get("allowHostNetwork", dp.allow_host_network)),
                allow_host_pid=bool(priv.get("allowHostPID", dp.allow_host_pid)),
                allow_host_ipc=bool(priv.get("allowHostIPC", dp.allow_host_ipc)),
                allow_host_path=bool(priv.get("allowHostPath", dp.allow_host_path)),
                allowed_capabilities=tuple(priv.get("allowedCapabilities", dp.allowed_capabilities)),
                allow_root=bool(priv.get("allowRoot", dp.allow_root)),
                allow_privilege_escalation=bool(priv.get("allowPrivilegeEscalation", dp.allow_privilege_escalation)),
            ),
            resources=ResourcesPolicy(
                require_limits=bool(res.get("requireLimits", dr.require_limits)),
                max_cpu_millicores=(
                    self.convert(parse_millicores, max_cpu, *at, "maxCpu")
                    if max_cpu is not None
                    else dr.max_cpu_millicores
                ),
                max_memory_bytes=(
                    self.convert(parse_bytes, max_mem, *at, "maxMemory") if max_mem is not None else dr.max_memory_bytes
                ),
            ),
            images=ImagesPolicy(
                require_digest=bool(img.get("requireDigest", di.require_digest)),
                allowed_registries=tuple(img.get("allowedRegistries", di.allowed_registries)),
            ),
        )

    def attestation(self, s: dict[str, Any]) -> AttestationPolicy:
        valid_for = s.get("validFor", "720h")
        return AttestationPolicy(valid_for=self.convert(parse_duration, valid_for, "spec", "attestation", "validFor"))
