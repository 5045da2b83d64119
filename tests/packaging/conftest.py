"""Helpers for the packaging-form tests: a case copied to a scratch folder, the real kustomize found."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from plugingate.declaration import load_declaration
from plugingate.errors import ToolError
from plugingate.findings import Finding
from plugingate.manifests import check_manifests, load_manifests
from plugingate.policy import load_policy
from tests.conftest import REPO

CASES = REPO / "testdata" / "bundles"
POLICY = REPO / "testdata" / "policies" / "cases.yaml"


def kustomize_or_skip() -> None:
    """Skip with directions when the pinned kustomize is not there (scripts/setup-tools builds it)."""
    from plugingate.tools.locate import Tool, locate

    try:
        locate(Tool.KUSTOMIZE)
    except ToolError as exc:
        pytest.skip(f"{exc.message}: run scripts/setup-tools")


def copy_case(name: str, tmp_path: Path) -> Path:
    """A writable copy of testdata/bundles/<name> (a test changes it to try to get around a check)."""
    target = tmp_path / Path(name).name
    shutil.copytree(CASES / name, target, symlinks=True)
    return target


def gate_findings(bundle: Path) -> list[Finding]:
    """The manifests step's findings for ``bundle`` under the cases policy."""
    declaration = load_declaration(bundle)
    policy = load_policy(POLICY)
    return check_manifests(load_manifests(bundle, declaration), declaration, policy.capabilities)


def errors(findings: list[Finding]) -> list[str]:
    return sorted({f.rule_id for f in findings if f.denies})
