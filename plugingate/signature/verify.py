"""Verify one artifact's signature and decide whether its signer is trusted.

The entry points the CLI, the gate's step and the provenance step call; each hands its input to the
registered verifiers of ``verifiers.py`` (the kind of signature decides which, not the caller). They
raise ``VerificationError`` with the rule id of what failed, ``InputError`` for unreadable input,
``UndecidedError`` when the trusted root cannot be had.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from plugingate.signature.artifact import Artifact
from plugingate.signature.identity import TrustedSigner
from plugingate.signature.trust import TrustSettings
from plugingate.signature.verifiers import (
    BUNDLE_FORMS,
    FoundSignature,
    SignatureFileKind,
    VerificationRequest,
    VerifiedSignature,
    verify_document,
)

__all__ = ["VerifiedSignature", "verify_bundle_document", "verify_bundle_file", "verify_raw_signature"]


def verify_bundle_file(
    artifact: Artifact,
    bundle_path: Path,
    signers: Sequence[TrustedSigner],
    trust: TrustSettings,
    *,
    require_tlog: bool = False,
) -> VerifiedSignature:
    """Verify a Sigstore bundle (keyless or managed key) and match its signer to a trusted one."""
    request = VerificationRequest(artifact, signers, trust, source=str(bundle_path), require_tlog=require_tlog)
    return FoundSignature(bundle_path, SignatureFileKind.SIGSTORE_BUNDLE).verify(request)


def verify_bundle_document(
    doc: dict[str, object],
    artifact: Artifact,
    signers: Sequence[TrustedSigner],
    trust: TrustSettings,
    *,
    source: str,
    require_tlog: bool = False,
) -> VerifiedSignature:
    """``verify_bundle_file`` on a parsed bundle."""
    request = VerificationRequest(artifact, signers, trust, source=source, require_tlog=require_tlog)
    return verify_document(dict(doc), request, BUNDLE_FORMS)


def verify_raw_signature(
    artifact: Artifact, signature_path: Path, signers: Sequence[TrustedSigner]
) -> VerifiedSignature:
    """Verify a base64 signature file as ``cosign sign-blob --key`` writes it against the trusted keys."""
    request = VerificationRequest(artifact, signers, TrustSettings(), source=str(signature_path))
    return FoundSignature(signature_path, SignatureFileKind.COSIGN_SIGNATURE).verify(request)
