"""The coloured report on the terminal (rich), for a person running the gate locally."""

from __future__ import annotations

from typing import TextIO

from plugingate.findings import Severity
from plugingate.result import GateResult, StepStatus, Verdict

_STATUS_STYLE = {
    StepStatus.PASSED: "green",
    StepStatus.FAILED: "bold red",
    StepStatus.WARNED: "yellow",
    StepStatus.SKIPPED: "dim",
    StepStatus.ERROR: "bold magenta",
}
_SEVERITY_STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}
_VERDICT_STYLE = {Verdict.PASSED: "bold green", Verdict.DENIED: "bold red", Verdict.UNDECIDED: "bold magenta"}


def print_report(result: GateResult, stream: TextIO, *, quiet: bool = False, max_findings: int = 50) -> None:
    """Print the verdict, a table of steps and the findings; ``quiet`` prints the verdict line only."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # NOTE: CI logs are not terminals; rich would wrap them at 80 columns, which splits every finding.
    width = None if stream.isatty() else 140
    console = Console(file=stream, highlight=False, soft_wrap=False, width=width)
    plugin = f"{result.plugin.name} {result.plugin.version}" if result.plugin else result.bundle.name
    verdict = Text(f"{result.verdict.value.upper()}", style=_VERDICT_STYLE[result.verdict])
    line = Text.assemble(
        "plugingate: ", verdict, f"  {plugin}  sha256:{result.bundle.sha256[:12]}  policy {result.policy.name}"
    )
    line.append(f" ({result.policy.mode})")
    if result.policy.trust is not None and not result.policy.trust.trusted:
        line.append("  policy not pinned", style="bold yellow")
    if quiet:
        console.print(line)
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("step")
    table.add_column("result")
    table.add_column("summary", overflow="fold")
    for step in result.steps:
        table.add_row(str(step.step), Text(str(step.status), style=_STATUS_STYLE[step.status]), step.summary)
    console.print(table)
    for shown, finding in enumerate(result.findings):
        if shown >= max_findings:
            console.print(f"  … {len(result.findings) - shown} more findings in report.json")
            break
        where = f" {finding.location}" if finding.location else ""
        console.print(
            Text.assemble(
                "  ",
                (f"{finding.severity:<7}", _SEVERITY_STYLE[finding.severity]),
                (f" {finding.rule_id}", "bold"),
                (where, "dim"),
                f"  {finding.message}",
            )
        )
    if result.error:
        console.print(Text(f"could not decide: {result.error}", style="bold magenta"))
    console.print(line)
