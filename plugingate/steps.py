"""The real pipeline: which adapter runs each step of the contract (``plugingate.pipeline``).

Each step package has one ``step.py`` adapter that takes the ``StepContext`` and returns a
``StepResult``; this module only names them. Heavy imports happen inside the adapters, and this module
imports them only when the gate asks for the real steps, so that ``plugingate --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugingate.pipeline import GateSteps, StepContext
    from plugingate.result import GateResult, StepResult


def prepare_later_steps() -> None:
    """Import what the scan, the attestations and the reports need (the gate calls this while syft runs).

    Also what the terminal report imports (rich, the slowest of them) and the database's metadata:
    after grype, only the work that needs its answer is left.
    """
    import importlib

    import plugingate.attestation.step
    import plugingate.report.gitlab
    import plugingate.report.json
    import plugingate.report.junit
    import plugingate.report.markdown
    import plugingate.report.sarif
    import plugingate.report.step
    import plugingate.vulnerabilities.scan
    import plugingate.vulnerabilities.step

    for name in ("rich.console", "rich.table", "rich.text"):
        importlib.import_module(name)
    plugingate.vulnerabilities.step.prepare_scan()


def _attest(ctx: StepContext, result: GateResult) -> tuple[StepResult, dict[str, str]]:
    # NOTE: imported when called (or by ``prepare_later_steps`` while syft runs), never before syft starts.
    from plugingate.attestation.step import attest_step

    return attest_step(ctx, result)


def _outputs(ctx: StepContext, result: GateResult) -> dict[str, str]:
    from plugingate.report.step import write_outputs

    return write_outputs(ctx, result)


def _vulnerabilities(ctx: StepContext) -> StepResult:
    from plugingate.vulnerabilities.step import vulnerabilities_step

    return vulnerabilities_step(ctx)


def _probe(ctx: StepContext) -> StepResult:
    from plugingate.probe.step import probe_step

    return probe_step(ctx)


def _growth(ctx: StepContext) -> StepResult:
    from plugingate.growth.step import growth_step

    return growth_step(ctx)


def default_steps() -> GateSteps:
    """The real pipeline."""
    from plugingate.capabilities.step import capabilities_step
    from plugingate.manifests.step import manifests_step, start_early
    from plugingate.pipeline import GateSteps
    from plugingate.provenance.step import provenance_step
    from plugingate.sbom.step import sbom_step
    from plugingate.signature.step import signature_step

    return GateSteps(
        signature=signature_step,
        provenance=provenance_step,
        capabilities=capabilities_step,
        manifests=manifests_step,
        sbom=sbom_step,
        vulnerabilities=_vulnerabilities,
        attest=_attest,
        outputs=_outputs,
        prepare=prepare_later_steps,
        start=start_early,
        probe=_probe,
        growth=_growth,
    )
