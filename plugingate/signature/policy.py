"""The gate's signature step: the policy's ``signature`` section applied to the bundle archive.

The gate calls ``verify_bundle_signature`` with the bundle's archive (for a directory bundle, its
reproducible pack) and the signature files found or given. Denials come back as findings;
``UndecidedError`` (trusted root unreadable, no network in online mode) propagates so the gate exits 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.errors import VerificationError
from plugingate.findings import Finding, Location
from plugingate.keys import public_key_from_pem
from plugingate.rules import all_rules
from plugingate.signature import rules
from plugingate.signature.artifact import Artifact
from plugingate.signature.identity import KeylessIdentity, TrustedSigner
from plugingate.signature.result import SignatureResult
from plugingate.signature.trust import TrustSettings
from plugingate.signature.verify import verify_bundle_file, verify_raw_signature

if TYPE_CHECKING:
    from plugingate.policy import model


def signers_from_policy(signers: Sequence[model.TrustedSigner]) -> list[TrustedSigner]:
    """Map the policy model's trusted signers onto the verifier's (keys parsed, regexes compiled)."""
    out: list[TrustedSigner] = []
    for signer in signers:
        if signer.keyless is not None:
            k = signer.keyless
            out.append(
                TrustedSigner(
                    name=signer.name,
                    keyless=KeylessIdentity(
                        issuer=k.issuer,
                        identity=k.identity,
                        identity_regex=k.identity_regex,
                        source_repository=k.source_repository,
                        workflow_ref=k.workflow_ref,
                        trigger=k.trigger,
                        runner_environment=k.runner_environment,
                    ),
                )
            )
        elif signer.key is not None:
            source = signer.key.path or f"{signer.name} (inline PEM)"
            out.append(TrustedSigner(name=signer.name, key=public_key_from_pem(signer.key.pem.encode(), source=source)))
    return out


def trust_from_policy(section: model.SignaturePolicy) -> TrustSettings:
    """The trusted-root settings of the policy's signature section."""
    return TrustSettings(trusted_root=section.trusted_root, offline=section.offline)


def finding_for(exc: VerificationError, location: Location | None) -> Finding:
    """A denial finding for a failed verification, under the error's rule."""
    rule = all_rules().get(exc.rule_id, rules.SIGNATURE_INVALID)
    return rule.finding(exc.message, location=location)


def verify_bundle_signature(
    artifact_path: Path | None,
    digest: str,
    policy_section: model.SignaturePolicy,
    *,
    signature: Path | None,
    bundle: Path | None,
    policy_dir: Path | None = None,
) -> SignatureResult:
    """Verify the bundle archive's signature against the policy's trusted signers.

    ``digest`` is the archive's ``sha256:<hex>`` (computed by the gate while streaming it);
    ``artifact_path`` is the archive file when there is one (a directory bundle's pack may exist only as
    a digest: then ECDSA/RSA signatures are checked against the digest, and Ed25519 ones can't be);
    ``bundle`` (a Sigstore bundle) is preferred to ``signature`` (a raw cosign signature) when both
    are given. Paths in the policy section are already resolved by the loader, so ``policy_dir`` is
    only kept for callers that build sections by hand.
    """
    del policy_dir
    hexdigest = digest.removeprefix("sha256:")
    name = artifact_path.name if artifact_path is not None else f"sha256:{hexdigest}"
    artifact = Artifact(name=name, digests={"sha256": hexdigest}, path=artifact_path)
    signers = signers_from_policy(policy_section.trusted_signers)
    if bundle is None and signature is None:
        if not policy_section.required:
            return SignatureResult(findings=())
        return SignatureResult(
            findings=(
                rules.MISSING_SIGNATURE.finding(
                    f"{name} has no signature; expected a Sigstore bundle ({name}.sigstore.json) or a cosign"
                    f" signature ({name}.sig) by {'; '.join(s.describe() for s in signers) or 'a trusted signer'}",
                ),
            )
        )
    if not signers:
        return SignatureResult(
            findings=(
                rules.NO_TRUSTED_SIGNERS.finding(
                    f"{name} is signed, but the policy trusts no signer; expected signature.trustedSigners"
                    " to list at least one keyless identity or key"
                ),
            )
        )
    used = bundle if bundle is not None else signature
    assert used is not None
    location = Location(path=used.name)
    try:
        if bundle is not None:
            result = verify_bundle_file(artifact, bundle, signers, trust_from_policy(policy_section))
        else:
            assert signature is not None
            result = verify_raw_signature(artifact, signature, signers)
    except VerificationError as exc:
        return SignatureResult(findings=(finding_for(exc, location),), source=used.name)
    return SignatureResult(
        findings=(), signer=result.signer, trusted_signer=result.trusted_signer.name, source=used.name
    )
