"""Run the plugingate CLI in-process, through the same error-to-exit-code mapping as the console script."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from plugingate.cli.errors import run_cli
from plugingate.cli.main import cli


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


def run(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Result:
    """``plugingate ARGS`` → exit code, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["plugingate", *args])
    capsys.readouterr()
    code = run_cli(cli)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
