"""The gate predicate: what the gate decided, about what, under which policy, and until when.

The predicate is the contract with the cluster: admission policies read ``passed``, ``mode``,
``violations`` and ``validUntil`` and may pin ``policy.sha256``; people read the rest when an
admission is denied.

Version 2 (``https://plugingate.dev/attestation/gate/v2``) changed what ``passed`` means: in v1 a
``warn`` or ``dry-run`` run that found violations still said ``passed: true``, so a verifier that read
only ``passed`` admitted what the gate would have denied. In v2 ``passed`` is true only for an
``enforce`` decision with no denying finding, and ``GatePredicate`` refuses to be built otherwise;
v2 also records how the policy was trusted (``policy.trust``) and whether results came from the
cache (``fromCache``). Verifiers refuse v1 (see ``verify``).
The builder takes explicit typed inputs (not the gate's report object) so that the gate, tests and
other producers all build the same document, and the JSON Schema shipped in
``plugingate/schemas/gate-attestation-predicate.schema.json`` describes exactly what ``to_dict``
writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol

from plugingate.policy.model import Mode, VulnException
from plugingate.policy.trust import UNPINNED, PolicyTrust
from plugingate.result import rfc3339 as result_rfc3339

GATE_PREDICATE_TYPE = "https://plugingate.dev/attestation/gate/v2"
# NOTE: v1's passed: true did not exclude warn/dry-run runs with violations; it is never accepted.
LEGACY_GATE_PREDICATE_TYPES = ("https://plugingate.dev/attestation/gate/v1",)
PREDICATE_SCHEMA = "gate-attestation-predicate.schema.json"


class CheckStatus(StrEnum):
    """The outcome of the signature or provenance check, as recorded in the predicate."""

    VERIFIED = "verified"
    FAILED = "failed"
    ABSENT = "absent"  # nothing to check and the policy does not require it
    SKIPPED = "skipped"  # not checked (e.g. dry-run without a signature)


def rfc3339(moment: datetime) -> str:
    """``2026-11-29T21:00:00Z``: UTC, whole seconds, the form Kyverno's and Rego's time functions parse."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: attestation times must be timezone-aware")
    return result_rfc3339(moment)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or an offset); ``ValueError`` when malformed or naive."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no timezone")
    return value.astimezone(UTC)


def exception_expiry_instant(expires: date) -> datetime:
    """The instant an exception stops applying: the end of its ``expires`` day, in UTC.

    An exception written ``expires: 2027-01-31`` still applies on the 31st; from
    ``2027-02-01T00:00:00Z`` on it no longer does, so an attestation that relied on it must not
    outlive that instant.
    """
    return datetime.combine(expires + timedelta(days=1), time(0, 0), tzinfo=UTC)


def compute_valid_until(
    evaluated_at: datetime, valid_for: timedelta, exception_expiries: Sequence[date] = ()
) -> datetime:
    """The earliest of ``evaluated_at + valid_for`` and every applied exception's expiry instant."""
    if valid_for <= timedelta(0):
        raise ValueError(f"attestation.validFor must be positive, got {valid_for}")
    candidates = [evaluated_at + valid_for, *(exception_expiry_instant(d) for d in exception_expiries)]
    return min(candidates)


class Attested(Protocol):
    """A step's own result that says what the predicate records of it (``SignatureResult``, ``ProvenanceResult``)."""

    def attested(self) -> dict[str, Any]:
        """The fields the predicate records beside ``status`` and ``required`` (the signer, the build)."""
        ...


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """The signature or provenance check as the predicate records it.

    ``status`` and ``required`` come from the gate and the policy; ``result`` is the step's own typed
    result (``None`` when the step did not run), which renders the rest (who signed, what was built).
    """

    status: CheckStatus
    required: bool
    result: Attested | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": str(self.status), "required": self.required}
        if self.result is not None:
            out.update(self.result.attested())
        return out


def exception_to_dict(exception: VulnException) -> dict[str, Any]:
    """An applied policy exception as the predicate records it (its line in the policy left out)."""
    return {
        "id": exception.id,
        "package": exception.package,
        "expires": exception.expires.isoformat(),
        "reason": exception.reason,
    }


SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")


@dataclass(frozen=True, slots=True)
class VulnerabilitySummary:
    """Counts by severity of what remained after exceptions and VEX, and what was suppressed."""

    counts: Mapping[str, int]
    fail_on: str
    only_fixed: bool = False
    suppressed: int = 0
    exceptions_applied: Sequence[VulnException] = ()

    def to_dict(self) -> dict[str, Any]:
        unknown = set(self.counts) - set(SEVERITIES)
        if unknown:
            raise ValueError(f"unknown severities {sorted(unknown)}; expected {SEVERITIES}")
        return {
            "counts": {s: int(self.counts.get(s, 0)) for s in SEVERITIES},
            "failOn": self.fail_on,
            "onlyFixed": self.only_fixed,
            "suppressed": self.suppressed,
            "exceptionsApplied": [exception_to_dict(e) for e in self.exceptions_applied],
        }


@dataclass(frozen=True, slots=True)
class ToolVersions:
    """The scanners that produced the SBOM and the findings, and the age of grype's database."""

    syft: str
    grype: str
    grype_db_built: datetime | None = None
    grype_db_schema: str | None = None

    def to_dict(self) -> dict[str, Any]:
        grype: dict[str, Any] = {"version": self.grype}
        if self.grype_db_built is not None:
            grype["dbBuiltAt"] = rfc3339(self.grype_db_built)
        if self.grype_db_schema is not None:
            grype["dbSchema"] = self.grype_db_schema
        return {"syft": {"version": self.syft}, "grype": grype}


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """The gate policy: its name, version, the sha256 of the policy file's bytes, and how it was trusted."""

    name: str
    sha256: str
    version: str | None = None
    trust: PolicyTrust = UNPINNED  # pinned digest or trusted signer (plugingate.policy.trust)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "sha256": self.sha256, "trust": self.trust.to_dict()}
        if self.version is not None:
            out["version"] = self.version
        return out


@dataclass(frozen=True, slots=True)
class BundleRef:
    """The bundle decided about (also the statement's first subject).

    NOTE: repeated in the predicate because Kyverno's attestation conditions see only the predicate:
    a revoked bundle digest can then be refused for every image it ships.
    """

    name: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class PluginRef:
    """The plugin's ``metadata`` from ``plugin.yaml``."""

    name: str
    version: str
    publisher: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "publisher": self.publisher}


@dataclass(frozen=True, slots=True)
class GatePredicate:
    """Everything the gate attests. ``to_dict`` is the predicate as signed.

    ``passed`` may be true only with ``mode == enforce`` and no violations: a predicate that could be
    misread as a pass is refused here, before anything is signed.
    """

    passed: bool
    mode: Mode
    policy: PolicyRef
    plugingate_version: str
    tools: ToolVersions
    signature: CheckRecord
    provenance: CheckRecord
    capabilities: Mapping[str, Any]
    vulnerabilities: VulnerabilitySummary
    sbom_sha256: str
    evaluated_at: datetime
    valid_until: datetime
    plugin: PluginRef | None = None
    violations: Sequence[str] = field(default=())  # rule ids of the denying findings
    from_cache: bool = False  # the SBOM or the scan came from the result cache
    bundle: BundleRef | None = None
    # NOTE: the shadow run's summary when the gate ran it (``gate --probe``); absent otherwise.
    probe: Mapping[str, Any] | None = None
    # NOTE: gate --previous: the growth over the previous version and the approvals used (None: not compared).
    growth: Mapping[str, Any] | None = None
    # NOTE: what this version asks for (plugingate.growth's footprint), so that a later gate --previous can
    # compare with this attestation instead of the bundle.
    permissions: Mapping[str, Any] | None = None
    # NOTE: what `plugingate render` writes for the granted declaration: {digest, namespace, cni, objects}.
    runtime_controls: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.passed and (self.mode is not Mode.ENFORCE or self.violations):
            raise ValueError(
                f"passed: true needs mode enforce and no violations (mode {self.mode}, "
                f"violations {sorted(set(self.violations))})"
            )
        if self.valid_until <= self.evaluated_at:
            raise ValueError(
                f"validUntil {rfc3339(self.valid_until)} is not after evaluatedAt {rfc3339(self.evaluated_at)}"
            )
        _check_hex("policy.sha256", self.policy.sha256)
        _check_hex("sbom.sha256", self.sbom_sha256)
        if self.bundle is not None:
            _check_hex("bundle.sha256", self.bundle.sha256)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "passed": self.passed,
            "mode": str(self.mode),
            "policy": self.policy.to_dict(),
            "plugingate": {"version": self.plugingate_version},
            "tools": self.tools.to_dict(),
            "signature": self.signature.to_dict(),
            "provenance": self.provenance.to_dict(),
            "capabilities": dict(self.capabilities),
            "vulnerabilities": self.vulnerabilities.to_dict(),
            "sbom": {"sha256": self.sbom_sha256, "format": "cyclonedx-json"},
            "evaluatedAt": rfc3339(self.evaluated_at),
            "validUntil": rfc3339(self.valid_until),
            "violations": sorted(set(self.violations)),
            "fromCache": self.from_cache,
        }
        if self.plugin is not None:
            out["plugin"] = self.plugin.to_dict()
        if self.bundle is not None:
            out["bundle"] = self.bundle.to_dict()
        if self.probe is not None:
            out["probe"] = dict(self.probe)
        if self.growth is not None:
            out["growth"] = dict(self.growth)
        if self.permissions is not None:
            out["permissions"] = dict(self.permissions)
        if self.runtime_controls is not None:
            out["runtimeControls"] = dict(self.runtime_controls)
        return out


def _check_hex(field_name: str, value: str) -> None:
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"{field_name} must be 64 lower-case hex digits, got {value!r}")
