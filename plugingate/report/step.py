"""The report step as the gate runs it: every report file into ``--out`` (``plugingate.steps`` names it)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from plugingate.result import GateResult

if TYPE_CHECKING:
    from plugingate.pipeline import StepContext

OUTPUT_FILES = {
    "report": "report.json",
    "summary": "summary.md",
    "sarif": "results.sarif",
    "junit": "junit.xml",
    "gitlabDependencyScanning": "gl-dependency-scanning-report.json",
    "gitlabCodeQuality": "gl-code-quality-report.json",
}


def write_outputs(ctx: StepContext, result: GateResult) -> dict[str, str]:
    """Every report file into ``--out``; under GitHub Actions also the step outputs and summary."""
    from plugingate.report.json import write_json
    from plugingate.report.markdown import write_markdown

    out = ctx.out_dir
    written = {key: str(out / name) for key, name in OUTPUT_FILES.items()}
    result = replace(result, outputs={**result.outputs, **written})
    write_json(result, out / OUTPUT_FILES["report"])
    write_markdown(result, out / OUTPUT_FILES["summary"])
    _write_ci_reports(result, out)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from plugingate.report.github import write_github

        write_github(result)
    return written


def _write_ci_reports(result: GateResult, out: Path) -> None:
    from plugingate.report.gitlab import write_code_quality, write_dependency_scanning
    from plugingate.report.junit import write_junit
    from plugingate.report.sarif import write_sarif

    write_sarif(result, out / OUTPUT_FILES["sarif"])
    write_junit(result, out / OUTPUT_FILES["junit"])
    write_dependency_scanning(result, out / OUTPUT_FILES["gitlabDependencyScanning"])
    write_code_quality(result, out / OUTPUT_FILES["gitlabCodeQuality"])
