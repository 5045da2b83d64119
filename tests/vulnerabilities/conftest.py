"""Fixtures of the vulnerability tests: the real syft and grype, the project's database, SBOMs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from plugingate.errors import Error
from plugingate.policy.model import VulnerabilityPolicy, VulnException, VulnSeverity
from plugingate.sbom import generate_sbom
from plugingate.tools import Tool, ToolRunner
from plugingate.vulnerabilities import database_dir, read_database_info

REPO = Path(__file__).resolve().parents[2]
BUNDLES = REPO / "testdata" / "vuln-bundles"
# NOTE: the default policy's twin that accepts the test database these tests scan with.
TEST_DB_POLICY = Path(__file__).resolve().parents[2] / "testdata" / "policies" / "default-test-db.yaml"
SETUP = "run scripts/setup-tools (builds the pinned tools and imports the project's database offline)"


def require_scanners() -> dict[str, str]:
    """Explicit locations of syft, grype and the database; skip with the reason when absent."""
    runner = ToolRunner()
    found: dict[str, str] = {}
    for tool in (Tool.SYFT, Tool.GRYPE):
        try:
            found[tool.env_var] = str(runner.info(tool).path)
        except Error as exc:
            pytest.skip(f"{exc.message}: {SETUP}")
    db = database_dir()
    try:
        read_database_info(db)
    except Error as exc:
        pytest.skip(f"{exc.message}: {SETUP}")
    found["GRYPE_DB_CACHE_DIR"] = str(db.resolve())
    return found


@pytest.fixture(scope="session")
def scanners() -> dict[str, str]:
    """``PLUGINGATE_SYFT``, ``PLUGINGATE_GRYPE`` and ``GRYPE_DB_CACHE_DIR``, resolved."""
    return require_scanners()


@pytest.fixture
def runner(scanners: dict[str, str]) -> ToolRunner:
    """A runner that finds the real tools."""
    return ToolRunner(env={**os.environ, **scanners})


@pytest.fixture
def scanner_env(scanners: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Environment for CLI runs: the real tools and database, and a private result cache."""
    return {**scanners, "PLUGINGATE_CACHE": str(tmp_path / "pg-cache")}


@pytest.fixture(scope="session")
def expected() -> dict[str, Any]:
    """What grype must find in the ``vulnerable`` bundle."""
    doc: dict[str, Any] = json.loads((BUNDLES / "vulnerable.expected.json").read_text())
    return doc


@pytest.fixture(scope="session")
def vulnerable_sbom(scanners: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CycloneDX SBOM of the ``vulnerable`` bundle, made once by the real syft."""
    out = tmp_path_factory.mktemp("vulnerable-sbom")
    result = generate_sbom(
        BUNDLES / "vulnerable",
        name="vuln-demo",
        version="0.3.0",
        out_dir=out,
        runner=ToolRunner(env={**os.environ, **scanners}),
    )
    return result.cyclonedx_path


def policy(**changes: Any) -> VulnerabilityPolicy:
    """The default vulnerability policy, with a database age that a fixed clock far away accepts."""
    base: dict[str, Any] = {
        "fail_on": VulnSeverity.HIGH,
        "max_database_age": timedelta(days=36500),
        # NOTE: these tests scan with the project's test database on purpose.
        "allow_test_database": True,
    }
    base.update(changes)
    return VulnerabilityPolicy(**base)


def exception(vuln: str, package: str, expires: date, reason: str = "not reachable") -> VulnException:
    """A policy exception."""
    return VulnException(id=vuln, package=package, expires=expires, reason=reason)


@dataclass(frozen=True)
class Completed:
    """A finished CLI run."""

    code: int
    stdout: str
    stderr: str


def run_cli(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 300) -> Completed:
    """``python -m plugingate ARGS`` in a subprocess, as a pipeline runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "plugingate", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)
