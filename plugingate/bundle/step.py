"""The bundle step as the gate records it: what unpacking found that does not stop the gate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugingate.findings import Step
from plugingate.pipeline import status_of
from plugingate.result import StepResult

if TYPE_CHECKING:
    from plugingate.bundle.load import OpenedBundle


def bundle_step(bundle: OpenedBundle) -> StepResult:
    """What unpacking found that does not stop the gate (dropped setuid bits, trailing data)."""
    summary = f"{bundle.kind} {bundle.size} bytes, {bundle.files} entries, sha256:{bundle.sha256[:12]}"
    return StepResult(
        Step.BUNDLE,
        status_of(bundle.findings),
        summary,
        tuple(bundle.findings),
        details={"files": bundle.files, "unpackedBytes": bundle.unpacked_bytes},
    )
