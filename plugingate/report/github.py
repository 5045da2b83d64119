"""GitHub Actions: step outputs (``$GITHUB_OUTPUT``) and the job summary (``$GITHUB_STEP_SUMMARY``).

plugingate writes these itself, so the composite action's shell never interpolates anything a bundle
or a person controls. Outputs: ``verdict``, ``passed``, ``exit-code``, ``out-dir`` and the paths of
``report``, ``summary``, ``sarif``, ``junit``, ``sbom``, ``sbom-spdx``, ``vulns`` and ``attestation``
(empty when that file was not written). The summary is ``summary.md``'s Markdown: the verdict first,
a table per step, the findings folded in ``<details>``.

Both files belong to the runner and may already hold other steps' lines, so they are appended to,
never replaced (the atomic-write rule is for plugingate's own outputs).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from plugingate.attestation.signing import ATTESTATIONS_FILE
from plugingate.report.formats import output_file
from plugingate.report.markdown import render_markdown
from plugingate.result import GateResult
from plugingate.sbom.generate import CYCLONEDX_NAME, SPDX_NAME
from plugingate.vulnerabilities.scan import VULNS_NAME

# NOTE: the GitHub step summary is capped at 1 MiB per step; keep well under it.
MAX_SUMMARY_BYTES = 900 * 1024

# NOTE: the step outputs' names are the action's contract (action.yml); the file names are each
# defined once, where the file is written.
OUTPUT_FILES = {
    "report": (output_file("report"),),
    "summary": (output_file("summary"),),
    "sarif": (output_file("sarif"),),
    "junit": (output_file("junit"),),
    "sbom": (CYCLONEDX_NAME,),
    "sbom-spdx": (SPDX_NAME,),
    "vulns": (VULNS_NAME,),
    "attestation": (ATTESTATIONS_FILE,),
}


def _path_output(result: GateResult, out_dir: Path, name: str) -> str:
    declared = result.outputs.get(name)
    if declared:
        return declared
    for file in OUTPUT_FILES[name]:
        if (out_dir / file).is_file():
            return str(out_dir / file)
    if name == "attestation":
        # NOTE: keyless signing writes Sigstore bundles instead of one JSON-lines file.
        bundles = sorted(out_dir.glob("*.sigstore.json"))
        if bundles:
            return str(bundles[0])
    return ""


def github_outputs(result: GateResult, out_dir: Path) -> dict[str, str]:
    """The step outputs, by name."""
    outputs = {
        "verdict": str(result.verdict),
        "passed": "true" if result.passed else "false",
        "exit-code": str(int(result.exit_code)),
        "out-dir": str(out_dir),
    }
    for name in OUTPUT_FILES:
        outputs[name] = _path_output(result, out_dir, name)
    return outputs


def _output_lines(outputs: Mapping[str, str]) -> str:
    lines = []
    for name, value in outputs.items():
        # NOTE: the heredoc form with a random delimiter, so that a value holding a newline (a path
        # in a hostile checkout) cannot inject another output.
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        while delimiter in value:
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return "".join(lines)


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def render_step_summary(result: GateResult) -> str:
    """The job summary's Markdown, cut to GitHub's size limit with a pointer to the full report."""
    text = render_markdown(result)
    data = text.encode("utf-8")
    if len(data) <= MAX_SUMMARY_BYTES:
        return text
    cut = data[:MAX_SUMMARY_BYTES].decode("utf-8", errors="ignore")
    return cut.rsplit("\n", 1)[0] + "\n\n</details>\n\n> The summary was cut; the full report is summary.md.\n"


def _out_dir(result: GateResult) -> Path:
    for key in ("report", "summary", "sarif"):
        if result.outputs.get(key):
            return Path(result.outputs[key]).parent
    return Path.cwd()


def write_github(result: GateResult, out_dir: Path | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Append the outputs and the job summary when running under GitHub Actions (or ``act``).

    ``out_dir`` defaults to the folder of the report named in ``result.outputs``. Returns whether
    anything was written: outside GitHub Actions (neither variable set) it does nothing.
    """
    env = os.environ if environ is None else environ
    out_dir = _out_dir(result) if out_dir is None else out_dir
    wrote = False
    output = env.get("GITHUB_OUTPUT", "")
    if output:
        _append(Path(output), _output_lines(github_outputs(result, out_dir)))
        wrote = True
    summary = env.get("GITHUB_STEP_SUMMARY", "")
    if summary:
        _append(Path(summary), render_step_summary(result))
        wrote = True
    return wrote
