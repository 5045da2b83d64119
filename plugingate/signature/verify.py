"""Verify one artifact's signature and decide whether its signer is trusted.

``verify_signature`` is the core (used by ``plugingate verify-signature`` and by the gate's step in
``step.py``): it raises ``VerificationError`` with the rule id of what failed, ``InputError`` for
unreadable input, ``UndecidedError`` when the trusted root cannot be had.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.errors import VerificationError
from plugingate.files import read_bounded
from plugingate.keys import LoadedPublicKey, load_signature_file
from plugingate.signature import rules
from plugingate.signature.artifact import Artifact, signature_matches
from plugingate.signature.identity import (
    SignerIdentity,
    SignerKind,
    TrustedSigner,
    describe_expected,
    match_signer,
)
from plugingate.signature.sigstore_bundle import (
    VerifiedBundle,
    read_bundle,
    uses_public_key,
    verify_keyless,
    verify_with_key,
)
from plugingate.signature.trust import TrustSettings, load_trusted_root

if TYPE_CHECKING:
    from sigstore.models import TrustedRoot


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature that verified and whose signer is trusted."""

    signer: SignerIdentity
    trusted_signer: TrustedSigner
    verified: VerifiedBundle | None = None

    def describe(self) -> str:
        """One line for reports."""
        return f"signed by {self.signer.describe()}, trusted as {self.trusted_signer.name!r}"


def _root_loader(trust: TrustSettings) -> Callable[[], TrustedRoot]:
    @cache
    def load() -> TrustedRoot:
        return load_trusted_root(trust)

    return load


def _keys(signers: Sequence[TrustedSigner]) -> list[LoadedPublicKey]:
    return [s.key for s in signers if s.key is not None]


def _trust(identity: SignerIdentity, signers: Sequence[TrustedSigner], source: str) -> TrustedSigner:
    match, why = match_signer(identity, signers)
    if match is None:
        raise VerificationError(
            f"{source}: signed by {identity.describe()}, which no trusted signer matches;"
            f" expected {describe_expected(signers)}" + (f" ({why})" if why else ""),
            rule_id=rules.UNTRUSTED_SIGNER.id,
            hint="sign with a trusted identity or key, or add the signer to the policy's trustedSigners",
        )
    return match


def verify_bundle_file(
    artifact: Artifact,
    bundle_path: Path,
    signers: Sequence[TrustedSigner],
    trust: TrustSettings,
    *,
    require_tlog: bool = False,
) -> VerifiedSignature:
    """Verify a Sigstore bundle (keyless or managed key) and match its signer to a trusted one."""
    from plugingate.signature.sigstore_bundle import MAX_BUNDLE_BYTES

    source = str(bundle_path)
    doc = read_bundle(read_bounded(bundle_path, MAX_BUNDLE_BYTES, "the Sigstore bundle"), source=source)
    return verify_bundle_document(doc, artifact, signers, trust, source=source, require_tlog=require_tlog)


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
    if uses_public_key(doc):
        verified = verify_with_key(
            doc, artifact, _keys(signers), _root_loader(trust), source=source, require_tlog=require_tlog
        )
    else:
        verified = verify_keyless(doc, artifact, load_trusted_root(trust), source=source)
    return VerifiedSignature(
        signer=verified.signer, trusted_signer=_trust(verified.signer, signers, source), verified=verified
    )


def verify_raw_signature(
    artifact: Artifact, signature_path: Path, signers: Sequence[TrustedSigner]
) -> VerifiedSignature:
    """Verify a base64 signature file as ``cosign sign-blob --key`` writes it against the trusted keys."""
    source = str(signature_path)
    signature = load_signature_file(signature_path)
    keys = _keys(signers)
    if not keys:
        raise VerificationError(
            f"{source}: a raw signature can only be verified with a public key, and no trusted key was given;"
            f" expected {describe_expected(signers)}",
            rule_id=rules.UNTRUSTED_SIGNER.id,
            hint="pass --key PUB, or use a Sigstore bundle (--bundle) for keyless signatures",
        )
    for key in keys:
        if signature_matches(artifact, key.key, signature):
            identity = SignerIdentity(kind=SignerKind.KEY, key=key)
            return VerifiedSignature(signer=identity, trusted_signer=_trust(identity, signers, source))
    raise VerificationError(
        f"{source}: the signature does not verify for {artifact.name} ({artifact.display_digest()}) with any"
        f" trusted key; expected a signature by {describe_expected(signers)}",
        rule_id=rules.SIGNATURE_INVALID.id,
        hint="the artifact or the signature was altered after signing, the signature belongs to another"
        " artifact, or it was made with a key the policy does not trust",
    )
