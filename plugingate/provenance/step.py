"""The gate's provenance step: the policy's ``provenance`` section applied to the bundle archive.

``provenance_step`` (the adapter ``plugingate.steps`` names) finds the provenance: ``--provenance`` or
``BUNDLE.intoto.jsonl``; in-toto links (when the policy names a layout): ``--provenance DIR`` when it
is a folder, else ``BUNDLE.links/`` beside the bundle. Then ``verify_bundle_provenance`` runs.

SLSA provenance is looked for in ``attestation`` (the gate finds ``BUNDLE.intoto.jsonl`` beside the
bundle, or takes ``--provenance``); its signers are ``provenance.signers``, or when empty the
signature section's trusted signers and, when ``sourceRepositories`` pins the source, the GitHub
workflow builders of ``trustedBuilders`` (each signs as itself, as slsa-verifier trusts them). An
in-toto layout, when the policy names one, is verified with the links in ``links_dir``. Denials come
back as findings; undecidable checks raise ``UndecidedError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.bundle.beside import beside
from plugingate.findings import Step
from plugingate.pipeline import verification_status
from plugingate.provenance import rules
from plugingate.provenance.result import ProvenanceResult
from plugingate.provenance.slsa import ProvenanceRequirements, builder_signers
from plugingate.result import StepResult
from plugingate.signature.artifact import Artifact
from plugingate.signature.step import trust_from_policy

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext
    from plugingate.policy import model


def verify_bundle_provenance(
    artifact_path: Path | None,
    digest: str,
    policy_section: model.ProvenancePolicy,
    *,
    attestation: Path | None,
    signature_section: model.SignaturePolicy,
    links_dir: Path | None = None,
    policy_dir: Path | None = None,
) -> ProvenanceResult:
    """Verify the bundle archive's provenance against the policy (SLSA, and in-toto when configured)."""
    del policy_dir
    hexdigest = digest.removeprefix("sha256:")
    name = artifact_path.name if artifact_path is not None else f"sha256:{hexdigest}"
    artifact = Artifact(name=name, digests={"sha256": hexdigest}, path=artifact_path)
    layout_policy = policy_section.in_toto
    results: list[ProvenanceResult] = []
    if attestation is None and layout_policy.layout is None:
        if not policy_section.required:
            return ProvenanceResult(findings=())
        return ProvenanceResult(
            findings=(
                rules.MISSING_PROVENANCE.finding(
                    f"{name} has no provenance; expected SLSA provenance"
                    f" ({name}.intoto.jsonl) built by one of {list(policy_section.trusted_builders)}"
                ),
            )
        )
    if attestation is not None:
        # NOTE: imported here: the verifier loads sigstore and cryptography.
        from plugingate.provenance.verify import verify_slsa_provenance

        signers = list(policy_section.signers or signature_section.trusted_signers)
        if not policy_section.signers and policy_section.source_repositories:
            # NOTE: as slsa-verifier: a GitHub workflow builder signs its provenance as itself, so a trusted
            # builder id names a trusted signer, but only with the source pinned (anyone may call a workflow).
            signers += builder_signers(policy_section.trusted_builders)
        requirements = ProvenanceRequirements(
            trusted_builders=policy_section.trusted_builders,
            source_repositories=policy_section.source_repositories,
            source_refs=policy_section.source_refs,
        )
        results.append(
            verify_slsa_provenance(artifact, attestation, requirements, signers, trust_from_policy(signature_section))
        )
    elif policy_section.required and layout_policy.layout is None:
        results.append(ProvenanceResult(findings=(rules.MISSING_PROVENANCE.finding("no provenance"),)))
    if layout_policy.layout is not None:
        from plugingate.provenance.intoto import verify_layout

        if links_dir is None:
            results.append(
                ProvenanceResult(
                    findings=(
                        rules.MISSING_LINK.finding(
                            f"the policy requires the in-toto layout {layout_policy.layout.name} but no link"
                            " metadata folder was given; expected the links beside the bundle"
                        ),
                    )
                )
            )
        else:
            results.append(
                verify_layout(
                    artifact,
                    layout_policy.layout,
                    layout_policy.layout_keys,
                    links_dir,
                    enable_inspections=layout_policy.enable_inspections,
                )
            )
    findings = tuple(f for r in results for f in r.findings)
    facts = next((r.facts for r in results if r.facts is not None), None)
    signer = next((r.signer for r in results if r.signer is not None), None)
    layout = next((r.layout for r in results if r.layout is not None), None)
    return ProvenanceResult(findings=findings, facts=facts, signer=signer, layout=layout)


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
    """The step result the gate records: the ``ProvenanceResult`` itself, and its JSON for the report."""
    status = verification_status(result.findings, result.verified)
    return StepResult(
        Step.PROVENANCE, status, result.describe(), result.findings, details=result.to_dict(), outcome=result
    )
