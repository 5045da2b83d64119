"""The report formats: one interface and one registry, used by the gate's ``--out``, ``--format`` and the CLI.

A ``ReportFormat`` is a name, the key and file name it has among the gate's outputs (``report`` →
``report.json``; none for a format that is only printed), and how it is rendered (to stdout) and written
(into ``--out``). ``REPORT_FORMATS`` lists them in the order they are written; ``OutputFormat`` is the
subset ``--format`` offers, the same three words for every command. Adding a format is one entry here.

The functions live in their own modules (``report/json.py``, ``report/sarif.py``, …) and are imported
only when a format is used, so that a command that prints JSON never loads rich or the XML writer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from plugingate.result import GateResult

Render = Callable[["GateResult"], str]
Write = Callable[["GateResult", Path], None]
Show = Callable[["GateResult", TextIO, bool], None]


class OutputFormat(StrEnum):
    """What ``--format`` prints on stdout, for every command (the contract's ``text|json|markdown``)."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


@dataclass(frozen=True, slots=True)
class Functions:
    """A format's functions, once its module is imported: ``render`` to text, ``write`` a file, ``show`` on a stream."""

    render: Render | None = None
    write: Write | None = None
    show: Show | None = None


@dataclass(frozen=True, slots=True)
class ReportFormat:
    """One way to report a gate result: its name, its place in ``--out`` and how it is made."""

    name: str
    output: str | None  # the key in ``report.json``'s ``outputs`` (None: printed only)
    file_name: str | None
    load: Callable[[], Functions]

    def render(self, result: GateResult) -> str:
        """The report as text, for stdout."""
        functions = self.load()
        if functions.render is None:
            raise ValueError(f"the {self.name} format has no text rendering")
        return functions.render(result)

    def show(self, result: GateResult, stream: TextIO, *, quiet: bool = False) -> None:
        """Print the report on ``stream`` (``quiet``: only what the format keeps when asked to be brief)."""
        functions = self.load()
        if functions.show is not None:
            functions.show(result, stream, quiet)
        else:
            stream.write(self.render(result))

    def write(self, result: GateResult, out_dir: Path) -> Path:
        """Write the report into ``out_dir`` under its file name (atomically, as every writer does)."""
        functions = self.load()
        if self.file_name is None or functions.write is None:
            raise ValueError(f"the {self.name} format is not written into --out")
        path = out_dir / self.file_name
        functions.write(result, path)
        return path


def _text() -> Functions:
    from plugingate.report.terminal import print_report

    def show(result: GateResult, stream: TextIO, quiet: bool) -> None:
        print_report(result, stream, quiet=quiet)

    return Functions(show=show)


def _json() -> Functions:
    from plugingate.report.json import render_json, write_json

    return Functions(render=render_json, write=write_json)


def _markdown() -> Functions:
    from plugingate.report.markdown import render_markdown, write_markdown

    return Functions(render=render_markdown, write=write_markdown)


def _sarif() -> Functions:
    from plugingate.report.sarif import write_sarif

    return Functions(write=write_sarif)


def _junit() -> Functions:
    from plugingate.report.junit import write_junit

    return Functions(write=write_junit)


def _dependency_scanning() -> Functions:
    from plugingate.report.gitlab import write_dependency_scanning

    return Functions(write=write_dependency_scanning)


def _code_quality() -> Functions:
    from plugingate.report.gitlab import write_code_quality

    return Functions(write=write_code_quality)


# NOTE: the order is the order of report.json's ``outputs`` and of the files written.
REPORT_FORMATS: tuple[ReportFormat, ...] = (
    ReportFormat(OutputFormat.TEXT, None, None, _text),
    ReportFormat(OutputFormat.JSON, "report", "report.json", _json),
    ReportFormat(OutputFormat.MARKDOWN, "summary", "summary.md", _markdown),
    ReportFormat("sarif", "sarif", "results.sarif", _sarif),
    ReportFormat("junit", "junit", "junit.xml", _junit),
    ReportFormat(
        "gitlab-dependency-scanning",
        "gitlabDependencyScanning",
        "gl-dependency-scanning-report.json",
        _dependency_scanning,
    ),
    ReportFormat("gitlab-code-quality", "gitlabCodeQuality", "gl-code-quality-report.json", _code_quality),
)


def report_format(name: str) -> ReportFormat:
    """The format called ``name`` (``KeyError`` naming the known ones when there is none)."""
    for fmt in REPORT_FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(f"no report format {name!r}; known: {', '.join(f.name for f in REPORT_FORMATS)}")


def written_formats() -> tuple[ReportFormat, ...]:
    """The formats the gate writes into ``--out``, in order."""
    return tuple(f for f in REPORT_FORMATS if f.file_name is not None)


def output_file(output: str) -> str:
    """The file name of the output called ``output`` (``report`` → ``report.json``)."""
    for fmt in REPORT_FORMATS:
        if fmt.output == output and fmt.file_name is not None:
            return fmt.file_name
    raise KeyError(f"no report output {output!r}")
