"""The SBOM and scan steps inside the whole `plugingate gate`, with the real tools."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.support.toolpins import pin_fake

from .conftest import BUNDLES, run_cli

pytestmark = pytest.mark.integration

POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: scan-tests}
spec:
  signature: {required: false, trustedSigners: []}
  vulnerabilities:
    database: {allowTestDatabase: true}  # NOTE: the suite's test database
    failOn: high
"""


def _policy(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY + extra)
    return path


def _broken(path: Path, version: str) -> Path:
    """A tool that reports the pinned version and fails at everything else: it must never be run."""
    path.write_text(
        f'#!/bin/sh\nif [ "$1" = version ]; then echo \'{{"version": "{version}"}}\'; exit 0; fi\n'
        'echo "this tool must not run on a cached re-gate" >&2\nexit 99\n'
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return pin_fake(path)


def _step(report: dict[str, Any], name: str) -> dict[str, Any]:
    step: dict[str, Any] = next(s for s in report["steps"] if s["step"] == name)
    return step


def test_gate_denies_reports_the_database_and_a_regate_runs_neither_tool(
    scanner_env: dict[str, str], expected: dict[str, Any], tmp_path: Path
) -> None:
    policy = _policy(tmp_path)
    bundle = BUNDLES / "vulnerable"
    cold = run_cli("gate", bundle, "--policy", policy, "--out", tmp_path / "cold", env=scanner_env)
    assert cold.code == 1, cold.stderr
    report = json.loads((tmp_path / "cold" / "report.json").read_text())
    vulns = _step(report, "vulnerabilities")
    denying = sorted(f["properties"]["vulnerability"] for f in vulns["findings"] if f["severity"] == "error")
    assert denying == expected["denyAtHigh"]
    assert vulns["details"]["database"]["source"].startswith("plugingate test database")
    built = vulns["details"]["database"]["built"]
    assert built in (tmp_path / "cold" / "summary.md").read_text().replace("+00:00", "Z")
    assert vulns["details"]["cached"] is False and _step(report, "sbom")["details"]["cached"] is False
    for name in ("sbom.cdx.json", "sbom.spdx.json", "vulns.json"):
        assert (tmp_path / "cold" / name).is_file()

    # The same bundle again, with tools that fail if run: answered from the cache.
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    warm_env = {
        **scanner_env,
        "PLUGINGATE_SYFT": str(_broken(fakes / "syft", "1.57.1")),
        "PLUGINGATE_GRYPE": str(_broken(fakes / "grype", "0.121.2")),
    }
    warm = run_cli("gate", bundle, "--policy", policy, "--out", tmp_path / "warm", env=warm_env)
    assert warm.code == 1, warm.stderr
    again = json.loads((tmp_path / "warm" / "report.json").read_text())
    assert _step(again, "sbom")["details"]["cached"] is True
    assert _step(again, "vulnerabilities")["details"]["cached"] is True
    assert _step(again, "vulnerabilities")["findings"] == vulns["findings"]

    # --no-cache runs the tools: with the broken ones, the gate cannot decide.
    forced = run_cli("gate", bundle, "--policy", policy, "--out", tmp_path / "forced", "--no-cache", env=warm_env)
    assert forced.code == 3
    assert "exit 99" in forced.stdout + forced.stderr + (tmp_path / "forced" / "report.json").read_text()


def test_gate_on_a_bundle_with_hostile_tool_configs_is_still_denied(
    scanner_env: dict[str, str], expected: dict[str, Any], tmp_path: Path
) -> None:
    done = run_cli(
        "gate", BUNDLES / "config-override", "--policy", _policy(tmp_path), "--out", tmp_path / "o", env=scanner_env
    )
    assert done.code == 1, done.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    vulns = _step(report, "vulnerabilities")
    denying = sorted(f["properties"]["vulnerability"] for f in vulns["findings"] if f["severity"] == "error")
    assert denying == expected["denyAtHigh"]


def test_gate_applies_an_exception_from_the_policy_file(
    scanner_env: dict[str, str], expected: dict[str, Any], tmp_path: Path
) -> None:
    policy = _policy(
        tmp_path,
        "    exceptions:\n"
        "      - id: GHSA-pgpy-2q3r-0002\n"
        "        package: pkg:pypi/pyyaml@5.3.1\n"
        "        expires: 2099-12-31\n"
        "        reason: only safe_load is called\n",
    )
    done = run_cli("gate", BUNDLES / "vulnerable", "--policy", policy, "--out", tmp_path / "o", env=scanner_env)
    assert done.code == 1, done.stderr
    vulns = _step(json.loads((tmp_path / "o" / "report.json").read_text()), "vulnerabilities")
    denying = sorted(f["properties"]["vulnerability"] for f in vulns["findings"] if f["severity"] == "error")
    assert denying == sorted(set(expected["denyAtHigh"]) - {"GHSA-pgpy-2q3r-0002"})
    assert vulns["details"]["exceptionsApplied"] == [
        {
            "id": "GHSA-pgpy-2q3r-0002",
            "package": "pkg:pypi/pyyaml@5.3.1",
            "expires": "2099-12-31",
            "reason": "only safe_load is called",
        }
    ]
