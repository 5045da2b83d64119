"""The gate's signature step: finds the signature beside the bundle and runs ``verify_bundle_signature``.

The verification itself (``plugingate.signature.policy``) is imported only when there is something to verify.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.bundle.beside import beside
from plugingate.findings import Step
from plugingate.pipeline import verification_status
from plugingate.result import StepResult
from plugingate.signature.result import SignatureResult

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext

_SNIFF_BYTES = 64


def is_sigstore_bundle(path: Path) -> bool:
    """Whether a given signature file is a Sigstore bundle (JSON) rather than a raw base64 signature.

    # NOTE: base64 never starts with '{'; a file that does is handed to the bundle verifier, which
    # reports precisely what is wrong with it if it is not a valid bundle.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES).lstrip()
    except OSError:
        return False
    return head.startswith(b"{")


def find_signature(source: Path, given: Path | None) -> tuple[Path | None, Path | None]:
    """``(bundle, raw signature)``: the one given, else ``BUNDLE.sigstore.json`` or ``BUNDLE.sigstore``, else
    ``BUNDLE.sig``."""
    if given is not None:
        return (given, None) if is_sigstore_bundle(given) else (None, given)
    for suffix in (".sigstore.json", ".sigstore"):
        bundle = beside(source, suffix)
        if bundle.is_file():
            return bundle, None
    raw = beside(source, ".sig")
    if raw.is_file():
        return None, raw
    return None, None


def signature_step(ctx: StepContext) -> StepResult:
    """Verify the bundle's signature against ``policy.signature``; ``UndecidedError`` propagates (exit 3)."""
    source = ctx.bundle.source
    bundle, raw = find_signature(source, ctx.request.signature)
    section = ctx.request.policy.signature
    if bundle is None and raw is None and not section.required and not section.trusted_signers:
        # NOTE: nothing to verify and no key to parse: the verifiers (cryptography, sigstore) stay unloaded.
        return to_step_result(SignatureResult(findings=()))
    from plugingate.signature.policy import verify_bundle_signature

    artifact = source if source.is_file() else None
    result = verify_bundle_signature(artifact, ctx.bundle.sha256, section, signature=raw, bundle=bundle)
    return to_step_result(result)


def to_step_result(result: SignatureResult) -> StepResult:
    """The step result the gate records (details are what the attestation's ``signature`` holds)."""
    status = verification_status(result.findings, result.verified)
    return StepResult(Step.SIGNATURE, status, result.describe(), result.findings, details=result.to_dict())
