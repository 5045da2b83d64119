"""The gate's signature step: the policy's ``signature`` section applied to the bundle archive.

``signature_step`` (the adapter ``plugingate.steps`` names) finds the signature beside the bundle
(``BUNDLE.sigstore.json``, ``BUNDLE.sigstore``, ``BUNDLE.sig``) or takes ``--signature``, then calls
``verify_bundle_signature`` with the bundle's archive (for a directory bundle, its
reproducible pack) and the signature files found or given. Denials come back as findings;
``UndecidedError`` (trusted root unreadable, no network in online mode) propagates so the gate exits 3.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.errors import VerificationError
from plugingate.findings import Finding, Location, Step
from plugingate.pipeline import verification_status
from plugingate.result import StepResult
from plugingate.rules import all_rules
from plugingate.signature import rules
from plugingate.signature.artifact import Artifact
from plugingate.signature.result import SignatureResult
from plugingate.signature.trust import TrustSettings
from plugingate.signature.verifiers import (
    FoundSignature,
    SignatureFileKind,
    VerificationRequest,
    find_beside,
    recognise,
)

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext
    from plugingate.policy import model

_SNIFF_BYTES = 64


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
    signature: Path | None = None,
    bundle: Path | None = None,
    found: FoundSignature | None = None,
    policy_dir: Path | None = None,
) -> SignatureResult:
    """Verify the bundle archive's signature against the policy's trusted signers.

    ``digest`` is the archive's ``sha256:<hex>`` (computed by the gate while streaming it);
    ``artifact_path`` is the archive file when there is one (a directory bundle's pack may exist only as
    a digest: then ECDSA/RSA signatures are checked against the digest, and Ed25519 ones can't be);
    the signature is ``found`` (its kind known), or named by kind: ``bundle`` (a Sigstore bundle) is
    preferred to ``signature`` (a raw cosign signature) when both are given. Paths in the policy
    section are already resolved by the loader, so ``policy_dir`` is only kept for callers that build
    sections by hand.
    """
    del policy_dir
    hexdigest = digest.removeprefix("sha256:")
    name = artifact_path.name if artifact_path is not None else f"sha256:{hexdigest}"
    artifact = Artifact(name=name, digests={"sha256": hexdigest}, path=artifact_path)
    signers = policy_section.trusted_signers
    found = found or next(
        (
            FoundSignature(path, kind)
            for path, kind in (
                (bundle, SignatureFileKind.SIGSTORE_BUNDLE),
                (signature, SignatureFileKind.COSIGN_SIGNATURE),
            )
            if path is not None
        ),
        None,
    )
    if found is None:
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
    request = VerificationRequest(artifact, signers, trust_from_policy(policy_section), source=str(found.path))
    location = Location(path=found.path.name)
    try:
        result = found.verify(request)
    except VerificationError as exc:
        return SignatureResult(findings=(finding_for(exc, location),), source=found.path.name)
    return SignatureResult(
        findings=(), signer=result.signer, trusted_signer=result.trusted_signer.name, source=found.path.name
    )


def find_signature(source: Path, given: Path | None) -> FoundSignature | None:
    """The signature given (its kind from its first bytes), else the first one beside the bundle
    (``BUNDLE.sigstore.json``, ``BUNDLE.sigstore``, then ``BUNDLE.sig``)."""
    return recognise(given) if given is not None else find_beside(source)


def signature_step(ctx: StepContext) -> StepResult:
    """Verify the bundle's signature against ``policy.signature``; ``UndecidedError`` propagates (exit 3)."""
    source = ctx.bundle.source
    found = find_signature(source, ctx.request.signature)
    section = ctx.request.policy.signature
    if found is None and not section.required and not section.trusted_signers:
        # NOTE: nothing to verify and no key to parse: the verifiers (cryptography, sigstore) stay unloaded.
        return to_step_result(SignatureResult(findings=()))
    artifact = source if source.is_file() else None
    result = verify_bundle_signature(artifact, ctx.bundle.sha256, section, found=found)
    return to_step_result(result)


def to_step_result(result: SignatureResult) -> StepResult:
    """The step result the gate records: the ``SignatureResult`` itself, and its JSON for the report."""
    status = verification_status(result.findings, result.verified)
    return StepResult(
        Step.SIGNATURE, status, result.describe(), result.findings, details=result.to_dict(), outcome=result
    )
