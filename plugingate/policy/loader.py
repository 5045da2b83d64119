"""Loading a gate policy: bounded YAML, the packaged schema, then typed values with safe defaults."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from plugingate.errors import InputError
from plugingate.files import read_bounded
from plugingate.policy.model import (
    AllowedService,
    ApprovalsPolicy,
    AttestationPolicy,
    BundleLimitsPolicy,
    CapabilitiesPolicy,
    ChartsPolicy,
    Cni,
    FilesystemPolicy,
    GatePolicy,
    GrowthKind,
    ImagesPolicy,
    InTotoPolicy,
    KubernetesPolicy,
    Mode,
    NetworkPolicy,
    PrivilegesPolicy,
    ProbePolicy,
    ProvenancePolicy,
    ResourcesPolicy,
    RuntimePolicy,
    SecretsPolicy,
    SignaturePolicy,
    UnknownKinds,
    VulnerabilityPolicy,
    VulnException,
    VulnSeverity,
)
from plugingate.safeyaml import YamlDocument, YamlLimits, format_path, load_one
from plugingate.schemas import validate_document
from plugingate.signature.identity import KeylessIdentity, TrustedSigner
from plugingate.units import parse_bytes, parse_duration, parse_millicores

if TYPE_CHECKING:
    from plugingate.keys import LoadedPublicKey

_LIMITS = YamlLimits(max_bytes=4 << 20, max_depth=32, max_nodes=200_000, max_documents=1)
_MAX_KEY_BYTES = 64 << 10


def default_policy_path() -> Path:
    """The packaged safe default (the same file as ``policies/default.yaml``)."""
    return Path(str(resources.files("plugingate.policy").joinpath("default.yaml")))


def load_policy(path: Path | None = None) -> GatePolicy:
    """Load the policy at ``path`` (the packaged default when ``None``)."""
    path = path or default_policy_path()
    raw = read_bounded(path, _LIMITS.max_bytes, "the policy")
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
            probe=self.probe(spec.get("probe") or {}),
            approvals=self.approvals(spec.get("approvals") or {}),
            charts=self.charts(spec.get("charts") or {}),
            runtime=self.runtime(spec.get("runtime") or {}),
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
                if k.get("identityRegexSearch") and "identityRegex" not in k:
                    raise self.fail(
                        "identityRegexSearch applies to identityRegex only; expected identityRegex beside it",
                        *at,
                        n,
                        "keyless",
                        "identityRegexSearch",
                    )
                if "identityRegex" in k:
                    import re

                    try:
                        re.compile(k["identityRegex"])
                    except re.error as exc:
                        raise self.fail(
                            f"not a valid regular expression: {exc}", *at, n, "keyless", "identityRegex"
                        ) from exc
                try:
                    keyless = KeylessIdentity(
                        issuer=k["issuer"],
                        identity=k.get("identity"),
                        identity_regex=k.get("identityRegex"),
                        source_repository=k.get("sourceRepository"),
                        workflow_ref=k.get("workflowRef"),
                        trigger=k.get("trigger"),
                        runner_environment=k.get("runnerEnvironment"),
                        identity_regex_search=bool(k.get("identityRegexSearch", False)),
                    )
                except ValueError as exc:
                    raise self.fail(str(exc), *at, n, "keyless") from exc
                out.append(TrustedSigner(name=name, keyless=keyless))
            else:
                out.append(TrustedSigner(name=name, key=self.public_key(name, item["key"], *at, n)))
        return tuple(out)

    def public_key(self, name: str, key: dict[str, Any], *at: str | int) -> LoadedPublicKey:
        """A trusted signer's key, parsed now: a key that is not one is the policy's error, with its place."""
        from plugingate.keys import public_key_from_pem

        if "pem" in key:
            pem = str(key["pem"]).encode()
            source, field = f"{name} (inline PEM)", "pem"
        else:
            file = self.path(key["path"])
            try:
                pem = read_bounded(file, _MAX_KEY_BYTES, f"the public key {file}")
                pem.decode("ascii")
            except (InputError, UnicodeDecodeError) as exc:
                why = exc.message if isinstance(exc, InputError) else str(exc)
                raise self.fail(f"cannot read the public key {file}: {why}", *at, "key", "path") from exc
            source, field = str(key["path"]), "path"
        try:
            loaded = public_key_from_pem(pem, source=source)
        except InputError as exc:
            raise self.fail(exc.message, *at, "key", field) from exc
        return dataclasses.replace(loaded, path=None if "pem" in key else str(key["path"]))

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
        builders = tuple(s.get("trustedBuilders") or ())
        for n, builder in enumerate(builders):
            # NOTE: the form provenance.slsa.BuilderId reads: NAME or NAME@REF, one '@' at most.
            name, _, ref = builder.partition("@")
            if not name.strip() or "@" in ref:
                raise self.fail(
                    f"{builder!r} is not a builder id; expected NAME (any ref) or NAME@REF (one ref)",
                    "spec",
                    "provenance",
                    "trustedBuilders",
                    n,
                )
        return ProvenancePolicy(
            required=bool(s.get("required", False)),
            trusted_builders=builders,
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
        db = s.get("database") or {}
        if "maxDatabaseAge" in s and "maxAge" in db:
            raise self.fail(
                "maxDatabaseAge and database.maxAge both set the database's maximum age: keep database.maxAge only",
                *at,
                "database",
                "maxAge",
            )
        if "maxAge" in db:
            max_age = self.convert(parse_duration, db["maxAge"], *at, "database", "maxAge")
        else:
            max_age = self.convert(parse_duration, s.get("maxDatabaseAge", "120h"), *at, "maxDatabaseAge")
        return VulnerabilityPolicy(
            fail_on=VulnSeverity(s.get("failOn", d.fail_on.value)),
            only_fixed=bool(s.get("onlyFixed", d.only_fixed)),
            max_database_age=max_age,
            require_providers=tuple(db.get("requireProviders") or ()),
            min_advisories=int(db.get("minAdvisories", d.min_advisories)),
            allow_test_database=bool(db.get("allowTestDatabase", d.allow_test_database)),
            on_stale_database=s.get("onStaleDatabase", d.on_stale_database),
            on_skipped_image=s.get("onSkippedImage", d.on_skipped_image),
            exceptions=tuple(exceptions),
            vex=tuple(self.path(v) for v in s.get("vex") or ()),
        )

    def capabilities(self, s: dict[str, Any]) -> CapabilitiesPolicy:
        res = s.get("resources") or {}
        dr = ResourcesPolicy()
        at = ("spec", "capabilities", "resources")
        max_cpu, max_mem = res.get("maxCpu"), res.get("maxMemory")
        return CapabilitiesPolicy(
            network=self.network(s.get("network") or {}),
            filesystem=_plain_section(FilesystemPolicy, s.get("filesystem")),
            secrets=_plain_section(SecretsPolicy, s.get("secrets")),
            kubernetes=self.kubernetes(s.get("kubernetes") or {}),
            privileges=_plain_section(PrivilegesPolicy, s.get("privileges")),
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
            images=_plain_section(ImagesPolicy, s.get("images")),
        )

    def network(self, s: dict[str, Any]) -> NetworkPolicy:
        plain = _plain_section(NetworkPolicy, {k: v for k, v in s.items() if k != "allowedServices"})
        services = tuple(
            AllowedService(namespace=e["namespace"], name=e.get("name", "*"), ports=tuple(e.get("ports") or ()))
            for e in s.get("allowedServices") or ()
        )
        return dataclasses.replace(plain, allowed_services=services)

    def kubernetes(self, s: dict[str, Any]) -> KubernetesPolicy:
        plain = {k: v for k, v in s.items() if k != "unknownKinds"}
        section = _plain_section(KubernetesPolicy, plain)
        if "unknownKinds" in s:
            # NOTE: the schema limits the value to the enum's spellings.
            section = dataclasses.replace(section, unknown_kinds=UnknownKinds(s["unknownKinds"]))
        return section

    def approvals(self, s: dict[str, Any]) -> ApprovalsPolicy:
        at = ("spec", "approvals", "approvers")
        approvers = self.signers(s.get("approvers") or [], *at)
        for n, approver in enumerate(approvers):
            if approver.keyless is not None:
                # NOTE: approvals are DSSE envelopes verified with keys (plugingate approve --key); a keyless
                # approver would be trusted for nothing, so it is refused rather than silently ignored.
                raise self.fail(
                    "an approver must be a key (key.path or key.pem); keyless approvers are not supported yet", *at, n
                )
        kinds = tuple(dict.fromkeys(GrowthKind(k) for k in s.get("requireFor") or ()))
        return ApprovalsPolicy(require_for=kinds, approvers=approvers)

    def attestation(self, s: dict[str, Any]) -> AttestationPolicy:
        valid_for = s.get("validFor", "720h")
        return AttestationPolicy(valid_for=self.convert(parse_duration, valid_for, "spec", "attestation", "validFor"))

    def charts(self, s: dict[str, Any]) -> ChartsPolicy:
        d = ChartsPolicy()
        at = ("spec", "charts")
        timeout = s.get("renderTimeout")
        return ChartsPolicy(
            kube_version=str(s.get("kubeVersion", d.kube_version)).removeprefix("v"),
            api_versions=tuple(s.get("apiVersions") or ()),
            keyring=self.path(s["keyring"]) if "keyring" in s else None,
            require_signature=bool(s.get("requireSignature", d.require_signature)),
            render_timeout=(
                self.convert(parse_duration, timeout, *at, "renderTimeout") if timeout is not None else d.render_timeout
            ),
            max_rendered_bytes=self.convert(
                parse_bytes, s.get("maxRenderedBytes", d.max_rendered_bytes), *at, "maxRenderedBytes"
            ),
        )

    def probe(self, s: dict[str, Any]) -> ProbePolicy:
        d, at = ProbePolicy(), ("spec", "probe")
        return ProbePolicy(
            duration=self.convert(parse_duration, s.get("duration", "10s"), *at, "duration"),
            max_execs=int(s.get("maxExecs", d.max_execs)),
            max_pids=int(s.get("maxPids", d.max_pids)),
            memory_overhead_bytes=self.convert(
                parse_bytes, s.get("memoryOverhead", d.memory_overhead_bytes), *at, "memoryOverhead"
            ),
            default_memory_bytes=self.convert(
                parse_bytes, s.get("defaultMemory", d.default_memory_bytes), *at, "defaultMemory"
            ),
        )

    def runtime(self, s: dict[str, Any]) -> RuntimePolicy:
        plain = _plain_section(RuntimePolicy, s)
        # NOTE: the schema limits cni to the enum's spellings.
        return dataclasses.replace(plain, cni=Cni(s.get("cni", Cni.PLAIN.value)))


_SectionT = TypeVar("_SectionT")
# NOTE: the policy's YAML keys are the fields' names in camelCase, except for these acronyms.
_KEY_SPELLING = {
    "allow_host_pid": "allowHostPID",
    "allow_host_ipc": "allowHostIPC",
    "api_server_cidrs": "apiServerCIDRs",
}


def _yaml_key(field_name: str) -> str:
    first, *rest = field_name.split("_")
    return _KEY_SPELLING.get(field_name, first + "".join(part.capitalize() for part in rest))


def _plain_section(cls: type[_SectionT], data: dict[str, Any] | None) -> _SectionT:
    """A section made only of booleans and lists (schema-checked): given keys set fields, the rest keep defaults."""
    given = data or {}
    values = {
        f.name: tuple(given[key]) if isinstance(given[key], list) else given[key]
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if (key := _yaml_key(f.name)) in given
    }
    return cls(**values)
