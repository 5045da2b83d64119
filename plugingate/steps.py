"""The real parts of the pipeline, as the gate calls them: one adapter per step.

Each adapter takes the ``StepContext`` (the request, the opened bundle, the declaration) and returns
a ``StepResult``; the step packages themselves know nothing of the gate. Heavy imports happen inside
the adapters so that ``plugingate --help`` stays fast.
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.findings import Finding, Severity, Step
from plugingate.result import GateResult, StepResult, StepStatus

if TYPE_CHECKING:
    from plugingate.bundle import OpenedBundle
    from plugingate.declaration import Declaration
    from plugingate.gate import GateRequest, GateSteps
    from plugingate.manifests.kubedecode import KubernetesReader

OUTPUT_FILES = {
    "report": "report.json",
    "summary": "summary.md",
    "sarif": "results.sarif",
    "junit": "junit.xml",
    "gitlabDependencyScanning": "gl-dependency-scanning-report.json",
    "gitlabCodeQuality": "gl-code-quality-report.json",
}


@dataclass(frozen=True, slots=True)
class StepContext:
    """What every step may read.

    ``scan_input`` is the one hand-over between two steps that run at once: the SBOM step sets it
    to the SBOM grype may read as soon as that file is complete, and the gate starts the
    vulnerability step then, while the SBOM step goes on converting formats.
    """

    request: GateRequest
    bundle: OpenedBundle
    declaration: Declaration
    now: datetime
    scan_input: Future[Path] = field(default_factory=Future)
    # NOTE: Kubernetes' reading of the manifests, started beside syft (``start_early``) and used by the
    # manifests step; unset when it could not be started early (the step then starts it itself).
    kube_reading: Future[KubernetesReader] = field(default_factory=Future)

    @property
    def out_dir(self) -> Path:
        """Where the outputs go."""
        return self.request.out_dir


def status_of(findings: list[Finding] | tuple[Finding, ...]) -> StepStatus:
    """``failed`` with an error finding, ``warned`` with a warning, else ``passed``."""
    if any(f.severity is Severity.ERROR for f in findings):
        return StepStatus.FAILED
    if any(f.severity is Severity.WARNING for f in findings):
        return StepStatus.WARNED
    return StepStatus.PASSED


def verification_status(findings: tuple[Finding, ...] | list[Finding], verified: bool) -> StepStatus:
    """A verification step's status: its findings decide; without any, verified passes, else skipped."""
    if findings:
        return status_of(findings)
    return StepStatus.PASSED if verified else StepStatus.SKIPPED


def _count_summary(findings: list[Finding], what: str) -> str:
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    if not findings:
        return f"{what}: nothing undeclared or forbidden"
    return f"{what}: {errors} violation(s), {warnings} warning(s)"


def capabilities_step(ctx: StepContext) -> StepResult:
    """Declared capabilities against the policy's allow-lists."""
    from plugingate.capabilities import check_capabilities, granted_capabilities

    findings = check_capabilities(ctx.declaration, ctx.request.policy.capabilities)
    return StepResult(
        Step.CAPABILITIES,
        status_of(findings),
        _count_summary(findings, "declared capabilities"),
        tuple(findings),
        details={"granted": granted_capabilities(ctx.declaration)},
    )


def manifests_step(ctx: StepContext) -> StepResult:
    """The bundle's Kubernetes objects against the declaration."""
    from plugingate.manifests import check_manifests, load_manifests
    from plugingate.manifests.kubedecode import HelperReader

    # NOTE: always with Kubernetes' own reading beside the Python one: the objects checked are the
    # objects kubectl would send, or the bundle is refused.
    second = ctx.kube_reading.result() if ctx.kube_reading.done() else HelperReader()
    manifests = load_manifests(ctx.bundle.root, ctx.declaration, second_reading=second)
    findings = check_manifests(manifests, ctx.declaration, ctx.request.policy.capabilities)
    count = len(getattr(manifests, "objects", ()))
    summary = _count_summary(findings, f"{count} Kubernetes object(s)")
    return StepResult(Step.MANIFESTS, status_of(findings), summary, tuple(findings), details={"objects": count})


def start_early(ctx: StepContext) -> None:
    """Start Kubernetes' reading of the manifest files now, beside syft, so that it is done when needed.

    Never raises: a folder that cannot be listed is reported by the manifests step, which then
    starts the reading itself.
    """
    from plugingate.errors import Error
    from plugingate.manifests.kubedecode import HelperReader, StartedReader
    from plugingate.manifests.loader import manifest_files

    try:
        files = manifest_files(ctx.bundle.root, ctx.declaration)
    except (Error, OSError):
        return
    if files:
        reader = HelperReader()
        ctx.kube_reading.set_result(StartedReader(files=files, future=reader.start(files), fallback=reader))


def signature_step(ctx: StepContext) -> StepResult:
    """The bundle's signature against the policy's trusted signers."""
    from plugingate.signature.gate import signature_step as run

    return run(ctx)


def provenance_step(ctx: StepContext) -> StepResult:
    """The bundle's provenance against the policy's trusted builders and sources."""
    from plugingate.provenance.gate import provenance_step as run

    return run(ctx)


def sbom_step(ctx: StepContext) -> StepResult:
    """syft on the unpacked bundle and the images it names."""
    from plugingate.sbom.gate import sbom_step as run

    return run(ctx)


def vulnerabilities_step(ctx: StepContext) -> StepResult:
    """grype on the SBOM, with thresholds, exceptions and VEX."""
    from plugingate.vulnerabilities.gate import vulnerabilities_step as run

    return run(ctx)


def attest_step(ctx: StepContext, result: GateResult) -> tuple[StepResult, dict[str, str]]:
    """Build, sign and write the attestations."""
    from plugingate.attestation.gate import attest_step as run

    return run(ctx, result)


def write_outputs(ctx: StepContext, result: GateResult) -> dict[str, str]:
    """Every report file into ``--out``; under GitHub Actions also the step outputs and summary."""
    from plugingate.report.json import write_json
    from plugingate.report.markdown import write_markdown

    out = ctx.out_dir
    written = {key: str(out / name) for key, name in OUTPUT_FILES.items()}
    result = replace(result, outputs={**result.outputs, **written})
    write_json(result, out / OUTPUT_FILES["report"])
    write_markdown(result, out / OUTPUT_FILES["summary"])
    _write_ci_reports(result, out)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from plugingate.report.github import write_github

        write_github(result)
    return written


def _write_ci_reports(result: GateResult, out: Path) -> None:
    from plugingate.report.gitlab import write_code_quality, write_dependency_scanning
    from plugingate.report.junit import write_junit
    from plugingate.report.sarif import write_sarif

    write_sarif(result, out / OUTPUT_FILES["sarif"])
    write_junit(result, out / OUTPUT_FILES["junit"])
    write_dependency_scanning(result, out / OUTPUT_FILES["gitlabDependencyScanning"])
    write_code_quality(result, out / OUTPUT_FILES["gitlabCodeQuality"])


def prepare_later_steps() -> None:
    """Import what the scan, the attestations and the reports need (the gate calls this while syft runs)."""
    import plugingate.attestation.gate
    import plugingate.report.gitlab
    import plugingate.report.json
    import plugingate.report.junit
    import plugingate.report.markdown
    import plugingate.report.sarif
    import plugingate.vulnerabilities.gate
    import plugingate.vulnerabilities.scan  # noqa: F401


def default_steps() -> GateSteps:
    """The real pipeline."""
    from plugingate.gate import GateSteps

    return GateSteps(
        signature=signature_step,
        provenance=provenance_step,
        capabilities=capabilities_step,
        manifests=manifests_step,
        sbom=sbom_step,
        vulnerabilities=vulnerabilities_step,
        attest=attest_step,
        outputs=write_outputs,
        prepare=prepare_later_steps,
        start=start_early,
    )
