"""The capabilities step as the gate runs it (``plugingate.steps`` names it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plugingate.findings import Step
from plugingate.pipeline import count_summary, status_of
from plugingate.result import StepResult

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext


@dataclass(frozen=True, slots=True)
class CapabilitiesOutcome:
    """What the capabilities step established: the set of capabilities the plugin is granted."""

    granted: Mapping[str, Any]


def capabilities_step(ctx: StepContext) -> StepResult:
    """Declared capabilities against the policy's allow-lists."""
    from plugingate.capabilities import check_capabilities, granted_capabilities

    findings = check_capabilities(ctx.declaration, ctx.request.policy.capabilities)
    outcome = CapabilitiesOutcome(granted=granted_capabilities(ctx.declaration))
    return StepResult(
        Step.CAPABILITIES,
        status_of(findings),
        count_summary(findings, "declared capabilities"),
        tuple(findings),
        details={"granted": outcome.granted},
        outcome=outcome,
    )
