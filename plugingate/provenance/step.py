"""The gate's provenance step: finds the provenance beside the bundle and runs ``verify_bundle_provenance``.

SLSA provenance: ``--provenance`` or ``BUNDLE.intoto.jsonl``. in-toto links (when the policy names a
layout): ``--provenance DIR`` when it is a folder, else ``BUNDLE.links/`` beside the bundle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugingate.bundle.beside import beside
from plugingate.findings import Step
from plugingate.pipeline import verification_status
from plugingate.provenance.result import ProvenanceResult
from plugingate.result import StepResult

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext


def provenance_step(ctx: StepContext) -> StepResult:
    """Verify the bundle's provenance against ``policy.provenance``; ``UndecidedError`` propagates."""
    source = ctx.bundle.source
    given = ctx.request.provenance
    attestation = None
    links = None
    if given is not None and given.is_dir():
        links = given
    elif given is not None:
        attestation = given
    else:
        found = beside(source, ".intoto.jsonl")
        attestation = found if found.is_file() else None
    if links is None:
        found_links = beside(source, ".links")
        links = found_links if found_links.is_dir() else None
    policy = ctx.request.policy
    if attestation is None and policy.provenance.in_toto.layout is None and not policy.provenance.required:
        # NOTE: nothing to verify: the verifiers (cryptography, sigstore) stay unloaded.
        return to_step_result(ProvenanceResult(findings=()))
    from plugingate.provenance.policy import verify_bundle_provenance

    result = verify_bundle_provenance(
        source if source.is_file() else None,
        ctx.bundle.sha256,
        policy.provenance,
        attestation=attestation,
        signature_section=policy.signature,
        links_dir=links,
    )
    return to_step_result(result)


def to_step_result(result: ProvenanceResult) -> StepResult:
    """The step result the gate records (details are what the attestation's ``provenance`` holds)."""
    status = verification_status(result.findings, result.verified)
    return StepResult(Step.PROVENANCE, status, result.describe(), result.findings, details=result.to_dict())
