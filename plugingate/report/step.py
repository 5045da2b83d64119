"""The report step as the gate runs it: every report format into ``--out`` (``plugingate.steps`` names it)."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING

from plugingate.report.formats import written_formats
from plugingate.result import GateResult

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext


def write_outputs(ctx: StepContext, result: GateResult) -> dict[str, str]:
    """Every report file into ``--out``; under GitHub Actions also the step outputs and summary."""
    out = ctx.out_dir
    formats = written_formats()
    # NOTE: report.json lists every output, its own path too, so the paths are known before writing.
    written = {f.output: str(out / f.file_name) for f in formats if f.output and f.file_name}
    result = replace(result, outputs={**result.outputs, **written})
    for fmt in formats:
        fmt.write(result, out)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from plugingate.report.github import write_github

        write_github(result)
    return written
