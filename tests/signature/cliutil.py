"""Run the command line in-process (fast, for data-driven cases) with the real exit-code mapping."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from plugingate.cli.main import cli
from plugingate.errors import Error, ExitCode


@dataclass(frozen=True)
class Outcome:
    """Exit code and output of one in-process run."""

    code: int
    output: str


def invoke(*args: str | Path) -> Outcome:
    """``plugingate ARGS`` in-process; errors map to exit codes as ``plugingate.cli.errors.run_cli`` does."""
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True, standalone_mode=False)
    exc = result.exception
    if exc is None:
        return Outcome(0, result.output)
    if isinstance(exc, Error):
        return Outcome(int(exc.exit_code), result.output + exc.diagnostics())
    if isinstance(exc, SystemExit):
        return Outcome(int(exc.code or 0), result.output)
    import click

    if isinstance(exc, click.ClickException):
        return Outcome(int(ExitCode.USAGE), result.output + exc.format_message())
    return Outcome(int(ExitCode.UNDECIDED), f"{result.output}internal error: {exc!r}")
