"""GitHub Actions: outputs appended in the injection-proof heredoc form, and the step summary."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from plugingate.report.github import MAX_SUMMARY_BYTES, github_outputs, render_step_summary, write_github
from plugingate.report.markdown import render_markdown

from .sample import denied, passed


def parse_github_output(text: str) -> dict[str, str]:
    """Parse ``$GITHUB_OUTPUT`` as the runner does (``name=value`` and ``name<<DELIM`` blocks)."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line:
            i += 1
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        else:
            name, value = line.split("=", 1)
            out[name] = value
            i += 1
    return out


def test_nothing_outside_github(tmp_path: Path) -> None:
    assert write_github(passed(), tmp_path, environ={}) is False
    assert list(tmp_path.iterdir()) == []


def test_outputs_and_summary_are_appended(tmp_path: Path) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name in ("report.json", "results.sarif", "sbom.cdx.json", "attestations.intoto.jsonl"):
        (out_dir / name).write_text("{}")
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.write_text("earlier=step\n")
    summary.write_text("# earlier step\n")
    env = {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)}
    assert write_github(denied(), out_dir, environ=env) is True

    parsed = parse_github_output(output.read_text())
    assert parsed["earlier"] == "step"
    assert parsed["verdict"] == "denied"
    assert parsed["passed"] == "false"
    assert parsed["exit-code"] == "1"
    assert parsed["report"] == str(out_dir / "report.json")
    assert parsed["sarif"] == str(out_dir / "results.sarif")
    assert parsed["sbom"] == str(out_dir / "sbom.cdx.json")
    assert parsed["attestation"] == str(out_dir / "attestations.intoto.jsonl")
    assert parsed["junit"] == ""  # not written, so empty rather than a path that doesn't exist

    text = summary.read_text()
    assert text.startswith("# earlier step\n")
    body = text.removeprefix("# earlier step\n")
    assert body == render_markdown(denied())
    first = body.splitlines()[0]
    assert "DENIED" in first, "the verdict comes first"
    assert "| step | result | summary |" in body
    assert "<details" in body and "</details>" in body


def test_keyless_attestation_output(tmp_path: Path) -> None:
    (tmp_path / "acme-exporter.tgz.sigstore.json").write_text("{}")
    assert github_outputs(passed(), tmp_path)["attestation"] == str(tmp_path / "acme-exporter.tgz.sigstore.json")


def test_a_newline_in_a_path_cannot_inject_an_output(tmp_path: Path) -> None:
    out_dir = tmp_path / "x\nverdict=passed"
    out_dir.mkdir()
    output = tmp_path / "output"
    write_github(denied(), out_dir, environ={"GITHUB_OUTPUT": str(output)})
    parsed = parse_github_output(output.read_text())
    assert parsed["verdict"] == "denied"
    assert parsed["out-dir"] == str(out_dir)
    assert all(
        re.fullmatch(r"ghadelimiter_[0-9a-f]{32}", line.split("<<")[1])
        for line in output.read_text().splitlines()
        if "<<" in line
    )


def test_summary_is_cut_below_the_limit() -> None:
    huge = replace(denied(), error="y" * (2 * MAX_SUMMARY_BYTES))
    text = render_step_summary(huge)
    assert len(text.encode()) <= MAX_SUMMARY_BYTES + 200
    assert text.startswith("# plugingate: ")
    assert "The summary was cut" in text


def test_out_dir_defaults_to_the_reports_folder(tmp_path: Path) -> None:
    """The gate calls ``write_github(result)``: the folder comes from ``result.outputs``."""
    (tmp_path / "results.sarif").write_text("{}")
    result = replace(
        passed(), outputs={"report": str(tmp_path / "report.json"), "sarif": str(tmp_path / "results.sarif")}
    )
    output = tmp_path / "output"
    assert write_github(result, environ={"GITHUB_OUTPUT": str(output)})
    parsed = parse_github_output(output.read_text())
    assert parsed["out-dir"] == str(tmp_path)
    assert parsed["sarif"] == str(tmp_path / "results.sarif")
    assert parsed["report"] == str(tmp_path / "report.json")
