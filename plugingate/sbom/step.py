"""The SBOM step as the gate runs it (``plugingate.steps`` names it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugingate.findings import Step
from plugingate.pipeline import status_of
from plugingate.result import StepResult

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext


def sbom_step(ctx: StepContext) -> StepResult:
    """syft on the unpacked bundle and the images of ``spec.images``; results cached by bundle digest."""
    from plugingate.cache import ResultCache
    from plugingate.sbom import OnSkippedImage, generate_sbom
    from plugingate.tools import ToolRunner

    request = ctx.request
    result = generate_sbom(
        ctx.bundle.root,
        name=ctx.declaration.name,
        version=ctx.declaration.version,
        out_dir=request.out_dir,
        images=ctx.declaration.images,
        runner=ToolRunner(forbidden=(request.bundle,)),
        bundle_digest=ctx.bundle.sha256,
        cache=ResultCache.default(enabled=request.use_cache),
        on_skipped_image=OnSkippedImage(request.policy.vulnerabilities.on_skipped_image),
        on_scan_input=ctx.scan_input.set_result,
    )
    images = f", {len(result.images)} image(s)" if result.images else ""
    skipped = f", {len(result.skipped_images)} image(s) not scanned" if result.skipped_images else ""
    if result.unproven_images:
        skipped += f", {len(result.unproven_images)} image(s) not proven to be their digest"
    return StepResult(
        Step.SBOM,
        status_of(result.findings),
        f"{result.packages} package(s){images}{skipped}" + (" (cached)" if result.cached else ""),
        result.findings,
        details={
            "tools": result.tool_versions(),
            **result.to_dict(),
            "maxRssKib": result.max_rss_kib,
            "convertMaxRssKib": result.convert_max_rss_kib,
        },
        outcome=result,
    )
