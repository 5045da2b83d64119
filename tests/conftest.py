"""Shared fixtures: where the repository and its test data are, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# NOTE: real-world data the tests read (Sigstore bundles, provenance, the conformance suite, report
# schemas) is copied into testdata/ with a SOURCES.md each: the suite runs from a clone alone.
FIXTURES = REPO / "testdata" / "fixtures"
SCHEMAS = REPO / "testdata" / "schemas"


@pytest.fixture(scope="session", autouse=True)
def fake_tool_pins(tmp_path_factory: pytest.TempPathFactory) -> object:
    """A pins file of the session's own, for the stand-in tools tests pin (tests/support/toolpins.py)."""
    pins = tmp_path_factory.mktemp("pins") / "tool-pins.txt"
    pins.write_text("# stand-in tools the tests made\n")
    before = os.environ.get("PLUGINGATE_TOOL_PINS")
    os.environ["PLUGINGATE_TOOL_PINS"] = str(pins)
    yield pins
    if before is None:
        os.environ.pop("PLUGINGATE_TOOL_PINS", None)
    else:
        os.environ["PLUGINGATE_TOOL_PINS"] = before


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    """The repository root."""
    return REPO


@dataclass(frozen=True)
class Completed:
    """A finished CLI run."""

    code: int
    stdout: str
    stderr: str


def run_cli(
    *args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
) -> Completed:
    """Run ``python -m plugingate ARGS`` in a subprocess, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "plugingate", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli() -> object:
    """``cli(*args)`` runs the real command line in a subprocess."""
    return run_cli


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """In CI a skip is a failure: CI installs every tool, so a skip there hides a missing install step."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every tool must be installed: {report.longrepr}"
    return None
