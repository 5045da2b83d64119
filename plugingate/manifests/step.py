"""The manifests step as the gate runs it (``plugingate.steps`` names it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugingate.findings import Step
from plugingate.pipeline import count_summary, status_of
from plugingate.result import StepResult

if TYPE_CHECKING:
    from plugingate.manifests.model import ManifestSet
    from plugingate.packaging.model import PackagingOptions
    from plugingate.pipeline import StepContext


def manifests_step(ctx: StepContext) -> StepResult:
    """The bundle's Kubernetes objects against the declaration."""
    from plugingate.manifests import check_manifests, load_manifests
    from plugingate.manifests.kubedecode import HelperReader, KubernetesReader

    # NOTE: always with Kubernetes' own reading beside the Python one: the objects checked are the
    # objects kubectl would send, or the bundle is refused.
    early = ctx.kube_reading.result() if ctx.kube_reading.done() else None
    second = early if isinstance(early, KubernetesReader) else HelperReader()
    manifests = load_manifests(ctx.bundle.root, ctx.declaration, second_reading=second, packaging=_packaging(ctx))
    findings = check_manifests(manifests, ctx.declaration, ctx.request.policy.capabilities)
    count = len(getattr(manifests, "objects", ()))
    summary = count_summary(findings, f"{count} Kubernetes object(s)")
    return StepResult(
        Step.MANIFESTS, status_of(findings), summary, tuple(findings), details={"objects": count}, outcome=manifests
    )


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


def checked_manifests(ctx: StepContext) -> ManifestSet:
    """The objects the manifests step read and checked, for a later step that builds on them.

    Read here only in a pipeline whose manifests step left none (a stand-in in tests), with the same
    packaging settings, so a chart is never rendered two ways.
    """
    from plugingate.manifests import load_manifests
    from plugingate.manifests.model import ManifestSet

    earlier = ctx.earlier.get(Step.MANIFESTS)
    if earlier is not None and isinstance(earlier.outcome, ManifestSet):
        return earlier.outcome
    return load_manifests(ctx.bundle.root, ctx.declaration, packaging=_packaging(ctx))


def _packaging(ctx: StepContext) -> PackagingOptions:
    """The policy's packaging settings; the runner renders a chart or a kustomization (never with a tool
    from inside the bundle)."""
    from plugingate.packaging.model import PackagingOptions
    from plugingate.tools.runner import ToolRunner

    return PackagingOptions.from_policy(ctx.request.policy, ToolRunner(forbidden=(ctx.request.bundle,)))
