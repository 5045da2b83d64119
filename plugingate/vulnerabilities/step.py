"""The vulnerability step as the gate runs it (``plugingate.steps`` names it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugingate.findings import Step
from plugingate.pipeline import status_of
from plugingate.result import StepResult

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext


def prepare_scan() -> None:
    """While syft runs: read the database's metadata and check grype's binary, both remembered.

    On a real database (hundreds of thousands of advisories) counting them per provider takes a
    moment; here it is off the critical path. A failure is left for the step to raise and report.
    """
    from plugingate.errors import Error
    from plugingate.tools import Tool, ToolRunner
    from plugingate.vulnerabilities import database_dir, read_database_info

    runner = ToolRunner()
    try:
        read_database_info(database_dir(runner.env))
        runner.info(Tool.GRYPE)
    except Error:
        pass


def vulnerabilities_step(ctx: StepContext) -> StepResult:
    """grype on the SBOM the SBOM step handed over (else its CycloneDX in ``--out``), then the policy.

    Results are cached by the scanned SBOM's digest.
    """
    from plugingate.cache import ResultCache
    from plugingate.sbom import CYCLONEDX_NAME
    from plugingate.tools import ToolRunner
    from plugingate.vulnerabilities import scan_sbom

    request = ctx.request
    handed = ctx.scan_input
    sbom = handed.result() if handed.done() else request.out_dir / CYCLONEDX_NAME
    result = scan_sbom(
        sbom,
        request.policy.vulnerabilities,
        runner=ToolRunner(forbidden=(request.bundle,)),
        now=ctx.now,
        out_dir=request.out_dir,
        cache=ResultCache.default(enabled=request.use_cache),
        policy_digest=request.policy.sha256,
        policy_source=request.policy.source,
    )
    return StepResult(
        Step.VULNERABILITIES,
        status_of(result.findings),
        result.summary() + (" (cached)" if result.cached else ""),
        result.findings,
        details={**result.details(), "maxRssKib": result.max_rss_kib},
        outcome=result,
    )
