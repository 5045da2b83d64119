"""Fixtures and helpers of the packaging tests: the pinned Helm and kustomize, cases copied to a scratch
folder, chart bundles written on the fly, gate runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from plugingate.declaration import load_declaration
from plugingate.errors import ToolError
from plugingate.findings import Finding
from plugingate.manifests import check_manifests, load_manifests
from plugingate.policy import load_policy
from plugingate.tools.locate import Helper, locate
from tests.conftest import REPO

CASES = REPO / "testdata" / "bundles"
CHART_CASES = sorted(p for p in CASES.glob("*/chart-*") if (p / "expected.yaml").is_file())
CASES_POLICY = REPO / "testdata" / "policies" / "cases.yaml"


def kustomize_or_skip() -> None:
    """Skip with directions when the pinned kustomize is not there (scripts/setup-tools builds it)."""
    from plugingate.tools.locate import Tool

    try:
        locate(Tool.KUSTOMIZE)
    except ToolError as exc:
        pytest.skip(f"{exc.message}: run scripts/setup-tools")


@pytest.fixture(scope="session")
def helm() -> Path:
    """The pinned helm (``PLUGINGATE_HELM`` from scripts/setup-helm, or the tools folder)."""
    try:
        path, _ = locate(Helper.HELM)
    except ToolError as exc:
        pytest.skip(f"{exc.message}; run scripts/setup-helm (it prints PLUGINGATE_HELM)")
    explicit = os.environ.get("PLUGINGATE_HELM")
    # NOTE: scripts/test exports what scripts/setup-helm prints; the gate must find that very binary.
    assert explicit is None or path == Path(explicit).absolute(), (path, explicit)
    return path


def run_helm(helm: Path, *args: str | Path, cwd: Path | None = None, check: bool = True) -> str | None:
    """helm ARGS with private homes, as a test's independent reading (stdout; None or a failed test on error)."""
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"pg-helm-test-{os.getpid()}"
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
    }
    proc = subprocess.run(
        [str(helm), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=base,
        timeout=120,
        check=False,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc.stdout if proc.returncode == 0 else None


def copy_case(name: str, tmp_path: Path) -> Path:
    """A writable copy of a bundle case (``pass/chart-minimal``) to mutate."""
    target = tmp_path / name.replace("/", "-")
    shutil.copytree(CASES / name, target, symlinks=True)
    return target


def gate_findings(bundle: Path) -> list[Finding]:
    """The manifests step's findings for ``bundle`` under the cases policy."""
    declaration = load_declaration(bundle)
    policy = load_policy(CASES_POLICY)
    return check_manifests(load_manifests(bundle, declaration), declaration, policy.capabilities)


def errors(findings: list[Finding]) -> list[str]:
    return sorted({f.rule_id for f in findings if f.denies})
