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
    # NOTE: the summary of the runtime controls rendered from the granted declaration (None when the
    # declaration is denied or cannot be rendered under the policy's runtime settings).
    runtime_controls: Mapping[str, Any] | None = None


def capabilities_step(ctx: StepContext) -> StepResult:
    """Declared capabilities against the policy's allow-lists."""
    from plugingate.capabilities import check_capabilities, granted_capabilities

    findings = check_capabilities(ctx.declaration, ctx.request.policy.capabilities)
    controls = None if any(f.denies for f in findings) else _runtime_controls(ctx)
    outcome = CapabilitiesOutcome(granted=granted_capabilities(ctx.declaration), runtime_controls=controls)
    details: dict[str, Any] = {"granted": outcome.granted}
    if controls is not None:
        details["runtimeControls"] = controls
    return StepResult(
        Step.CAPABILITIES,
        status_of(findings),
        count_summary(findings, "declared capabilities"),
        tuple(findings),
        details=details,
        outcome=outcome,
    )


def _runtime_controls(ctx: StepContext) -> Mapping[str, Any] | None:
    """The digest and objects of what ``plugingate render`` writes for this declaration (cheap: no tools).

    A declaration that cannot be rendered under the policy's ``runtime`` settings (say, API rules with
    no ``apiServerCIDRs`` for plain NetworkPolicy) gets none: ``render`` itself says why.
    """
    from plugingate.errors import InputError
    from plugingate.runtime import render_controls

    try:
        return render_controls(ctx.declaration, ctx.request.policy).summary()
    except InputError:
        return None
