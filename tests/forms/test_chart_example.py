"""examples/acme-exporter-chart: the example chart plugin is current, signed, and passes the default policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plugingate.bundle import pack_directory, sha256_file
from tests.conftest import REPO, run_cli
from tests.core.test_example import TEST_DB_POLICY, built_database

EXAMPLE = REPO / "examples" / "acme-exporter-chart"
ARCHIVE = REPO / "examples" / "acme-exporter-chart.tgz"


def test_example_chart_archive_is_the_pack_of_its_folder(tmp_path: Path) -> None:
    assert pack_directory(EXAMPLE, tmp_path / "x.tgz") == sha256_file(ARCHIVE), (
        "examples/acme-exporter-chart/ changed: run scripts/sign-example"
    )


def _gate(policy: Path, out: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    res = run_cli("gate", ARCHIVE, "--policy", policy, "--out", out, "--format", "json", env=env, timeout=600)
    assert res.code == 0, res.stderr + res.stdout
    report: dict[str, object] = json.loads(res.stdout)
    return report


@pytest.mark.integration
def test_example_chart_passes_the_default_policy_with_the_test_database(helm: Path, tmp_path: Path) -> None:
    report = _gate(TEST_DB_POLICY, tmp_path / "out")
    assert report["verdict"] == "passed"
    steps = {s["step"]: s for s in report["steps"]}  # type: ignore[attr-defined]
    # NOTE: seven objects with the chart's defaults, seven more with the ha profile.
    assert steps["manifests"]["details"]["objects"] == 14, steps["manifests"]
    assert steps["signature"]["status"] == "passed"
    full = json.loads((tmp_path / "out" / "report.json").read_text())
    assert full["tools"]["helm"] == "3.21.4"


@pytest.mark.integration
def test_example_chart_passes_the_default_policy(helm: Path, tmp_path: Path) -> None:
    """With policies/default.yaml itself and the real database scripts/test builds."""
    report = _gate(REPO / "policies" / "default.yaml", tmp_path / "out", {"GRYPE_DB_CACHE_DIR": built_database()})
    assert report["verdict"] == "passed"
