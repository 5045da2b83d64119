"""Fixtures of the SBOM tests: the real syft and grype and the project's database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plugingate.errors import Error
from plugingate.tools import Tool, ToolRunner
from plugingate.vulnerabilities import database_dir, read_database_info

REPO = Path(__file__).resolve().parents[2]
BUNDLES = REPO / "testdata" / "vuln-bundles"


@pytest.fixture(scope="session")
def scanners() -> dict[str, str]:
    """Explicit locations of syft, grype and the database; skip with the reason when absent."""
    runner = ToolRunner()
    found: dict[str, str] = {}
    for tool in (Tool.SYFT, Tool.GRYPE):
        try:
            found[tool.env_var] = str(runner.info(tool).path)
        except Error as exc:
            pytest.skip(f"{exc.message}: run scripts/setup-tools")
    try:
        read_database_info(database_dir())
    except Error as exc:
        pytest.skip(f"{exc.message}: run scripts/setup-tools")
    found["GRYPE_DB_CACHE_DIR"] = str(database_dir().resolve())
    return found


@pytest.fixture
def runner(scanners: dict[str, str]) -> ToolRunner:
    """A runner that finds the real tools."""
    return ToolRunner(env={**os.environ, **scanners})
