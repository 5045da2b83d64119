"""The manifests step as the gate runs it (``plugingate.steps`` names it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugingate.findings import Step
from plugingate.pipeline import count_summary, status_of
from plugingate.result import StepResult

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext


def manifests_step(ctx: StepContext) -> StepResult:
    """The bundle's Kubernetes objects against the declaration."""
    from plugingate.manifests import check_manifests, load_manifests

    manifests = load_manifests(ctx.bundle.root, ctx.declaration)
    findings = check_manifests(manifests, ctx.declaration, ctx.request.policy.capabilities)
    count = len(getattr(manifests, "objects", ()))
    summary = count_summary(findings, f"{count} Kubernetes object(s)")
    return StepResult(
        Step.MANIFESTS, status_of(findings), summary, tuple(findings), details={"objects": count}, outcome=manifests
    )
