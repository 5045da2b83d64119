"""The probe as a step of the gate (``gate --probe``): the shadow run, ``probe.json``, a ``StepResult``.

The step's details are the summary that the report and the gate attestation's predicate carry; the
whole record goes to ``probe.json`` beside the other outputs.
"""

from __future__ import annotations

import json

from plugingate.files import write_atomic
from plugingate.findings import Step
from plugingate.pipeline import StepContext, count_summary, status_of
from plugingate.probe.prober import probe_bundle, settings_for
from plugingate.probe.sandbox import locate_tools
from plugingate.result import StepResult


def probe_step(ctx: StepContext) -> StepResult:
    """Run the bundle's images in the sandbox and compare; a sandbox that cannot start is an ERROR (exit 3)."""
    from plugingate.bundle import BundleLimits
    from plugingate.manifests.step import checked_manifests

    request = ctx.request
    settings = settings_for(request.policy, request.probe_duration)
    tools = locate_tools()
    result = probe_bundle(
        ctx.bundle.root,
        ctx.declaration,
        settings,
        tools,
        bundle_sha256=ctx.bundle.sha256,
        manifests=checked_manifests(ctx),
        limits=BundleLimits.from_policy(request.policy.bundle),
    )
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    payload = {**result.to_dict(), "mode": str(request.policy.mode)}
    write_atomic(ctx.out_dir / "probe.json", json.dumps(payload, indent=2) + "\n")
    return StepResult(
        Step.PROBE,
        status_of(result.findings),
        count_summary(result.findings, f"shadow run of {len(result.observations)} image(s)"),
        findings=result.findings,
        details=result.summary(),
        outcome=result,
    )
