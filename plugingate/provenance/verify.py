"""Verify SLSA provenance about an artifact: signature, subject, then the slsa-verifier checks.

An attestation file may be a Sigstore bundle, a DSSE envelope, or JSON Lines of either
(``*.intoto.jsonl``, ``gh attestation download``). Every document is tried; the first whose
signature verifies with a trusted signer and whose subject is the artifact is checked, and when
none is, the findings say why each one was refused.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from plugingate.errors import InputError, VerificationError
from plugingate.files import read_bounded
from plugingate.findings import Finding, Location
from plugingate.provenance import rules
from plugingate.provenance.result import ProvenanceResult
from plugingate.provenance.slsa import (
    NotProvenanceError,
    ProvenanceRequirements,
    check_facts,
    extract_facts,
    parse_statement,
)
from plugingate.signature import rules as sig_rules
from plugingate.signature.artifact import Artifact
from plugingate.signature.identity import SignerIdentity, TrustedSigner
from plugingate.signature.trust import TrustSettings
from plugingate.signature.verifiers import DsseEnvelopeVerifier, VerificationRequest, verify_document

MAX_ATTESTATION_BYTES = 16 * 1024 * 1024
MAX_DOCUMENTS = 64

_SIG_TO_PRV = {
    sig_rules.ARTIFACT_MISMATCH.id: rules.SUBJECT_MISMATCH,
    sig_rules.UNTRUSTED_SIGNER.id: rules.UNTRUSTED_SIGNER,
    sig_rules.ISSUER_NOT_TRUSTED.id: rules.UNTRUSTED_SIGNER,
    sig_rules.IDENTITY_NOT_TRUSTED.id: rules.UNTRUSTED_SIGNER,
}


def read_documents(path: Path) -> list[dict[str, Any]]:
    """The JSON documents of an attestation file: one object, or JSON Lines (bounded)."""
    data = read_bounded(path, MAX_ATTESTATION_BYTES, "the attestation")
    try:
        doc = json.loads(data)
    except json.JSONDecodeError:
        doc = None
    except UnicodeDecodeError as exc:
        raise InputError("the attestation is not UTF-8 JSON", path=str(path)) from exc
    if isinstance(doc, dict):
        return [doc]
    docs: list[dict[str, Any]] = []
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"not JSON: {exc}", path=str(path), line=number) from exc
        if not isinstance(item, dict):
            raise InputError("each line must be a JSON object", path=str(path), line=number)
        docs.append(item)
        if len(docs) > MAX_DOCUMENTS:
            raise InputError(f"more than {MAX_DOCUMENTS} attestations in one file", path=str(path))
    if not docs:
        raise InputError("no attestation in the file", path=str(path))
    return docs


def _verify_document(
    doc: dict[str, Any], artifact: Artifact, signers: Sequence[TrustedSigner], trust: TrustSettings, source: str
) -> tuple[SignerIdentity, str, bytes]:
    """Verify one document's signature and subject; returns the signer and the payload.

    The registered verifiers decide how (a DSSE envelope with a key, a Sigstore bundle with a key or
    keyless); provenance only refuses what cannot carry an attestation.
    """
    envelope = DsseEnvelopeVerifier().accepts(doc)
    if not envelope and "mediaType" not in doc:
        raise InputError("neither a Sigstore bundle nor a DSSE envelope", path=source)
    if not envelope and doc.get("dsseEnvelope") is None:
        raise VerificationError(
            f"{source}: the Sigstore bundle holds a message signature, not an attestation",
            rule_id=rules.NOT_PROVENANCE.id,
        )
    result = verify_document(doc, VerificationRequest(artifact, signers, trust, source=source))
    verified = result.verified
    assert verified is not None and verified.payload is not None
    return result.signer, verified.payload_type or "", verified.payload


def verify_slsa_provenance(
    artifact: Artifact,
    attestation: Path,
    requirements: ProvenanceRequirements,
    signers: Sequence[TrustedSigner],
    trust: TrustSettings,
) -> ProvenanceResult:
    """Verify SLSA provenance for ``artifact``; denials are findings, undecidable checks raise."""
    location = Location(path=attestation.name)
    if not signers:
        return ProvenanceResult(
            findings=(
                rules.UNTRUSTED_SIGNER.finding(
                    "no trusted signer for provenance; expected provenance.signers or signature.trustedSigners"
                    " in the policy (or --identity/--key)",
                    location=location,
                ),
            )
        )
    refusals: list[Finding] = []
    docs = read_documents(attestation)
    for index, doc in enumerate(docs):
        source = attestation.name if len(docs) == 1 else f"{attestation.name} line {index + 1}"
        try:
            signer, _payload_type, payload = _verify_document(doc, artifact, signers, trust, source)
        except VerificationError as exc:
            rule = _SIG_TO_PRV.get(exc.rule_id)
            if rule is None:
                rule = next((r for r in rules.RULES if r.id == exc.rule_id), rules.SIGNATURE_INVALID)
            refusals.append(rule.finding(exc.message, location=location))
            continue
        try:
            facts = extract_facts(parse_statement(payload))
        except NotProvenanceError as exc:
            refusals.append(rules.NOT_PROVENANCE.finding(f"{source}: {exc}", location=location))
            continue
        findings = [
            Finding(
                rule_id=f.rule_id,
                severity=f.severity,
                step=f.step,
                message=f"{source}: {f.message}",
                location=location,
                properties=f.properties,
            )
            for f in check_facts(facts, signer, requirements)
        ]
        return ProvenanceResult(findings=tuple(findings), facts=facts, signer=signer)
    return ProvenanceResult(findings=tuple(refusals))
