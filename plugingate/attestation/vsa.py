"""The SLSA Verification Summary Attestation (VSA v1) the gate emits beside its own predicate.

Clusters and tools that know SLSA but not plugingate read the same decision in the standard
vocabulary (https://slsa.dev/spec/v1.0/verification_summary): who verified (``verifier.id``), when
(``timeVerified``), what (``resourceUri``), under which policy (``policy`` uri + digest), from which
inputs (``inputAttestations``: the bundle's provenance, the SBOM and vulnerability statements, by
digest), with which result and which levels.

``verificationResult`` is ``PASSED`` exactly when the gate predicate says ``passed: true`` (an
``enforce`` decision with no denying finding): the VSA cannot say more than the gate did.

The predicate holds only the fields of the in-toto framework's own ``predicates.vsa.v1`` message
(tests parse it strictly with that message), so it carries no extra data; in particular it has no
expiry: admission bounds its age by ``timeVerified`` (see docs/attestation.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from plugingate.attestation.predicate import CheckStatus, GatePredicate, rfc3339
from plugingate.attestation.statement import VSA_PREDICATE_TYPE, statement_bytes

__all__ = ["VSA_PREDICATE_TYPE", "build_vsa", "statement_input"]
VERIFIER_ID = "https://plugingate.dev/gate"
SLSA_VERSION = "1.0"
# NOTE: the VSA spec reserves the SLSA_ prefix for SLSA's own tracks; ours start with PLUGINGATE_.
_SLSA_LEVEL = re.compile(r"^SLSA_BUILD_LEVEL_[0-3]$")
_OWN_LEVEL = re.compile(r"^PLUGINGATE_[A-Z0-9_]+$")


class VerificationResult(StrEnum):
    """The VSA's ``verificationResult``."""

    PASSED = "PASSED"
    FAILED = "FAILED"


class OwnLevel(StrEnum):
    """plugingate's own verified levels (never prefixed ``SLSA_``)."""

    GATE_PASSED = "PLUGINGATE_GATE_PASSED"  # enforce mode, no denying finding
    BUNDLE_SIGNED = "PLUGINGATE_BUNDLE_SIGNED"  # the bundle's signature verified against a trusted signer
    POLICY_TRUSTED = "PLUGINGATE_POLICY_TRUSTED"  # the policy's digest was pinned or its signature verified


@dataclass(frozen=True, slots=True)
class InputAttestation:
    """An attestation the decision rested on: a URI naming it and the sha256 of its bytes."""

    uri: str
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri, "digest": {"sha256": self.sha256}}


@dataclass(frozen=True, slots=True)
class VerificationSummary:
    """The VSA predicate. ``to_dict`` is what is signed."""

    time_verified: datetime
    resource_uri: str
    policy_uri: str
    policy_sha256: str
    result: VerificationResult
    verified_levels: Sequence[str]
    input_attestations: Sequence[InputAttestation] = ()
    verifier_id: str = VERIFIER_ID

    def __post_init__(self) -> None:
        slsa = [lv for lv in self.verified_levels if lv.startswith("SLSA_")]
        if len(slsa) != 1 or not _SLSA_LEVEL.match(slsa[0]):
            raise ValueError(f"verifiedLevels needs exactly one SLSA_BUILD_LEVEL_n, got {list(self.verified_levels)}")
        own = [lv for lv in self.verified_levels if not lv.startswith("SLSA_")]
        bad = [lv for lv in own if not _OWN_LEVEL.match(lv)]
        if bad:
            raise ValueError(f"the project's own levels must be PLUGINGATE_<NAME>, got {bad}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "verifier": {"id": self.verifier_id},
            "timeVerified": rfc3339(self.time_verified),
            "resourceUri": self.resource_uri,
            "policy": {"uri": self.policy_uri, "digest": {"sha256": self.policy_sha256}},
            "inputAttestations": [a.to_dict() for a in self.input_attestations],
            "verificationResult": str(self.result),
            "verifiedLevels": list(self.verified_levels),
            "slsaVersion": SLSA_VERSION,
        }


def resource_uri(*, bundle_name: str, bundle_sha256: str, plugin_name: str | None, plugin_version: str | None) -> str:
    """A package URL for the bundle: ``pkg:generic/<plugin>@<version>?checksum=sha256:<hex>``.

    NOTE: the checksum qualifier makes the URI name these bytes, not any bundle with that name.
    """
    name = quote(plugin_name or bundle_name, safe="")
    version = f"@{quote(plugin_version, safe='')}" if plugin_name and plugin_version else ""
    return f"pkg:generic/{name}{version}?checksum=sha256:{bundle_sha256}"


def policy_uri(name: str, version: str | None) -> str:
    """The gate policy as a package URL (its digest, beside it, is what identifies the bytes)."""
    suffix = f"@{quote(version, safe='')}" if version else ""
    return f"pkg:generic/plugingate-policy/{quote(name, safe='')}{suffix}"


def verified_levels(predicate: GatePredicate) -> list[str]:
    """The SLSA build level the gate checked, then plugingate's own levels, from the gate predicate.

    Build L2 when signed provenance from a builder the policy trusts was verified (L3 needs a
    hardened builder, which the gate cannot tell from the provenance); L0 otherwise.
    """
    build = 2 if predicate.provenance.status is CheckStatus.VERIFIED else 0
    levels = [f"SLSA_BUILD_LEVEL_{build}"]
    if predicate.passed:
        levels.append(OwnLevel.GATE_PASSED)
    if predicate.signature.status is CheckStatus.VERIFIED:
        levels.append(OwnLevel.BUNDLE_SIGNED)
    if predicate.policy.trust.trusted:
        levels.append(OwnLevel.POLICY_TRUSTED)
    return [str(lv) for lv in levels]


def build_vsa(
    predicate: GatePredicate,
    *,
    bundle_name: str,
    bundle_sha256: str,
    inputs: Sequence[InputAttestation] = (),
) -> VerificationSummary:
    """The VSA of a gate decision; ``inputs`` are the attestations it rested on."""
    plugin = predicate.plugin
    return VerificationSummary(
        time_verified=predicate.evaluated_at,
        resource_uri=resource_uri(
            bundle_name=bundle_name,
            bundle_sha256=bundle_sha256,
            plugin_name=plugin.name if plugin else None,
            plugin_version=plugin.version if plugin else None,
        ),
        policy_uri=policy_uri(predicate.policy.name, predicate.policy.version),
        policy_sha256=predicate.policy.sha256,
        result=VerificationResult.PASSED if predicate.passed else VerificationResult.FAILED,
        verified_levels=verified_levels(predicate),
        input_attestations=tuple(inputs),
    )


def statement_input(statement: Mapping[str, Any]) -> InputAttestation:
    """An emitted statement as a VSA input: named by its predicate type, pinned by its signed bytes' sha256."""
    import hashlib

    return InputAttestation(
        uri=str(statement["predicateType"]), sha256=hashlib.sha256(statement_bytes(statement)).hexdigest()
    )
