"""The report formats registry: one place names each output, and every user of a format goes through it.

The gate writes exactly the registry's files (no more, no fewer), ``--format`` offers exactly its
printable formats as an ``OutputFormat`` (never a bare string), and a source scan finds each output
file name written out in one module only.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import click
import pytest

from plugingate.errors import ExitCode
from plugingate.report.formats import REPORT_FORMATS, OutputFormat, output_file, report_format, written_formats
from plugingate.report.step import write_outputs
from plugingate.result import BundleInfo, GateResult, PolicyInfo, Verdict
from tests.conftest import REPO


def result() -> GateResult:
    return GateResult(
        bundle=BundleInfo(source="b.tgz", name="b.tgz", sha256="a" * 64, size=1, kind="tgz"),
        policy=PolicyInfo(name="p", sha256="b" * 64, source="p.yaml", mode="enforce"),
        verdict=Verdict.PASSED,
        exit_code=ExitCode.PASSED,
        steps=(),
        evaluated_at=datetime(2026, 12, 7, tzinfo=UTC),
        plugingate_version="0.1.0",
    )


def test_names_outputs_and_file_names_are_unique() -> None:
    for attribute in ("name", "output", "file_name"):
        values = [getattr(f, attribute) for f in REPORT_FORMATS if getattr(f, attribute) is not None]
        assert len(values) == len(set(values)), attribute


def test_the_gate_writes_exactly_the_registrys_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    ctx = SimpleNamespace(out_dir=tmp_path)
    written = write_outputs(ctx, result())  # type: ignore[arg-type]
    expected = {f.output: str(tmp_path / f.file_name) for f in written_formats() if f.output and f.file_name}
    assert written == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f.file_name for f in written_formats() if f.file_name)
    assert output_file("report") == "report.json" and report_format("sarif").file_name == "results.sarif"


def test_every_printable_format_prints(tmp_path: Path) -> None:
    for fmt in OutputFormat:
        stream = io.StringIO()
        report_format(fmt).show(result(), stream, quiet=True)
        assert stream.getvalue().strip(), fmt
    assert '"verdict": "passed"' in report_format(OutputFormat.JSON).render(result())


def test_a_format_without_text_or_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sarif format has no text rendering"):
        report_format("sarif").render(result())
    with pytest.raises(ValueError, match="text format is not written"):
        report_format(OutputFormat.TEXT).write(result(), tmp_path)
    with pytest.raises(KeyError, match="known: text, json"):
        report_format("yaml")


def test_format_option_hands_the_command_an_output_format() -> None:
    from click.testing import CliRunner

    from plugingate.cli.options import format_option

    seen: list[object] = []

    @click.command()
    @format_option()
    def command(output_format: OutputFormat) -> None:
        seen.append(output_format)

    runner = CliRunner()
    assert runner.invoke(command, ["--format", "json"], catch_exceptions=False).exit_code == 0
    assert runner.invoke(command, [], catch_exceptions=False).exit_code == 0
    assert seen == [OutputFormat.JSON, OutputFormat.TEXT] and all(type(s) is OutputFormat for s in seen)
    assert runner.invoke(command, ["--format", "sarif"]).exit_code == 2


def test_no_command_compares_a_format_with_a_bare_string() -> None:
    found = []
    for path in sorted((REPO / "plugingate" / "cli").glob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"output_format\s*(==|!=|is)\s*[\"']", line):
                found.append(f"{path.name}:{n}")
    assert found == []


# NOTE: the one place each output file is named; ``--out``'s help for ``scan`` mentions vulns.json in words.
OWNERS = {
    "report.json": "plugingate/report/formats.py",
    "summary.md": "plugingate/report/formats.py",
    "results.sarif": "plugingate/report/formats.py",
    "junit.xml": "plugingate/report/formats.py",
    "gl-dependency-scanning-report.json": "plugingate/report/formats.py",
    "gl-code-quality-report.json": "plugingate/report/formats.py",
    "sbom.cdx.json": "plugingate/sbom/generate.py",
    "sbom.spdx.json": "plugingate/sbom/generate.py",
    "vulns.json": "plugingate/vulnerabilities/scan.py",
    "attestations.intoto.jsonl": "plugingate/attestation/signing.py",
}
_HELP_TEXT = {("vulns.json", "plugingate/cli/scan.py")}


@pytest.mark.parametrize("name", sorted(OWNERS))
def test_each_output_file_is_named_in_one_module(name: str) -> None:
    quoted = re.compile(rf"[\"']{re.escape(name)}[\"']")
    places = {
        str(p.relative_to(REPO))
        for p in (REPO / "plugingate").rglob("*.py")
        if quoted.search(p.read_text(encoding="utf-8"))
    }
    assert places - {place for n, place in _HELP_TEXT if n == name} == {OWNERS[name]}


def test_the_registry_order_is_report_json_s_outputs_order() -> None:
    keys = [f.output for f in written_formats()]
    assert keys == ["report", "summary", "sarif", "junit", "gitlabDependencyScanning", "gitlabCodeQuality"]
