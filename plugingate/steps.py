"""The real pipeline: which adapter runs each step of the contract (``plugingate.pipeline``).

Each step package has one ``step.py`` adapter that takes the ``StepContext`` and returns a
``StepResult``; this module only names them. Heavy imports happen inside the adapters, and this module
imports them only when the gate asks for the real steps, so that ``plugingate --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plugingate.pipeline import GateSteps, StepContext, StepFunction
    from plugingate.result import GateResult, StepResult


def prepare_later_steps() -> None:
    """Import what the scan, the attestations and the reports need (the gate calls this while syft runs).

    Also what the terminal report imports (rich, the slowest of them) and the database's metadata:
    after grype, only the work that needs its answer is left.
    """
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


def _later(module: str, name: str) -> StepFunction:
    """The step ``module.name``, imported when it first runs.

    NOTE: the gate submits syft first and runs the other steps beside it, so their imports (tens of
    milliseconds) happen while syft works instead of before it starts.
    """

    def run(ctx: StepContext) -> StepResult:
        function: StepFunction = getattr(importlib.import_module(module), name)
        return function(ctx)

    return run


def _start_early(ctx: StepContext) -> None:
    from plugingate.manifests.step import start_early

    start_early(ctx)


def default_steps() -> GateSteps:
    """The real pipeline; only the SBOM step, which starts syft, is imported before the gate starts."""
    from plugingate.pipeline import GateSteps
    from plugingate.sbom.step import sbom_step

    return GateSteps(
        signature=_later("plugingate.signature.step", "signature_step"),
        provenance=_later("plugingate.provenance.step", "provenance_step"),
        capabilities=_later("plugingate.capabilities.step", "capabilities_step"),
        manifests=_later("plugingate.manifests.step", "manifests_step"),
        sbom=sbom_step,
        vulnerabilities=_later("plugingate.vulnerabilities.step", "vulnerabilities_step"),
        attest=_attest,
        outputs=_outputs,
        prepare=prepare_later_steps,
        start=_start_early,
        probe=_later("plugingate.probe.step", "probe_step"),
        growth=_later("plugingate.growth.step", "growth_step"),
    )
