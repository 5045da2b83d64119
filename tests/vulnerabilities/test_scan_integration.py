"""The real syft and grype against the project's own database (testdata/vulndb)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from plugingate.findings import Severity
from plugingate.sbom import generate_sbom
from plugingate.tools import ToolRunner
from plugingate.vulnerabilities import Disposition, ScanResult, scan_sbom

from .conftest import BUNDLES, exception, policy

pytestmark = pytest.mark.integration

# NOTE: a fixed clock; the policy in these tests accepts any database age (see conftest.policy).
NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)


def _as_expected(result: ScanResult) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "id": m.match.id,
                "severity": m.match.severity,
                "package": m.match.package_name,
                "version": m.match.package_version,
                "fixedVersions": list(m.match.fix_versions),
                "alias": m.match.aliases[0] if m.match.aliases else None,
            }
            for m in result.matches
        ),
        key=lambda d: d["id"],
    )


def _denying(result: ScanResult) -> list[str]:
    return sorted(str(f.properties["vulnerability"]) for f in result.findings if f.severity is Severity.ERROR)


def test_vulnerable_bundle_is_denied_with_exactly_the_expected_advisories(
    vulnerable_sbom: Path, runner: ToolRunner, expected: dict[str, Any], tmp_path: Path
) -> None:
    result = scan_sbom(vulnerable_sbom, policy(), runner=runner, now=NOW, out_dir=tmp_path)

    assert _as_expected(result) == sorted(expected["matches"], key=lambda d: d["id"])
    assert result.denied
    assert _denying(result) == expected["denyAtHigh"]
    assert {f.rule_id for f in result.findings if f.severity is Severity.ERROR} == {"PG-VUL-001"}
    assert result.counts == {"critical": 2, "high": 3, "medium": 3, "low": 1, "negligible": 0, "unknown": 0}
    # Python, npm and Go each contribute, from the file that declares them.
    locations = {f.location.path for f in result.findings if f.location}
    assert locations == {"app/py/requirements.txt", "app/js/package-lock.json", "app/go/go.mod"}
    # The report says which database was used and when it was built.
    assert result.database.schema.startswith("v6.")
    assert "plugingate test database" in result.database.source
    assert result.database.built.tzinfo is not None
    assert result.tools["grype"] == "0.121.2"
    written = json.loads((tmp_path / "vulns.json").read_text())
    assert written["denied"] is True
    assert written["scanner"]["db"]["built"] == result.database.built.isoformat().replace("+00:00", "Z")
    assert sorted(m["id"] for m in written["matches"]) == sorted(m["id"] for m in expected["matches"])
    assert {m["disposition"] for m in written["matches"]} == {"deny", "report"}


def test_an_exception_removes_one_advisory_until_its_expiry(
    vulnerable_sbom: Path, runner: ToolRunner, expected: dict[str, Any], tmp_path: Path
) -> None:
    lodash = exception("GHSA-pgjs-7w8x-0001", "pkg:npm/lodash", date(2027, 1, 31), "template() never called")
    rules = policy(exceptions=(lodash,))

    on_last_day = scan_sbom(
        vulnerable_sbom, rules, runner=runner, now=datetime(2027, 1, 31, 23, 59, tzinfo=UTC), out_dir=tmp_path
    )
    assert "GHSA-pgjs-7w8x-0001" not in _denying(on_last_day)
    assert _denying(on_last_day) == sorted(set(expected["denyAtHigh"]) - {"GHSA-pgjs-7w8x-0001"})
    assert on_last_day.exceptions_applied == (lodash,)
    assert on_last_day.expired_exceptions == ()
    applied = [m for m in on_last_day.matches if m.disposition is Disposition.EXCEPTION]
    assert [(m.match.id, m.exception) for m in applied] == [("GHSA-pgjs-7w8x-0001", lodash)]
    assert on_last_day.details()["exceptionsApplied"] == [
        {"id": "GHSA-pgjs-7w8x-0001", "package": "pkg:npm/lodash", "expires": "2027-01-31", "reason": lodash.reason}
    ]

    day_after = scan_sbom(
        vulnerable_sbom, rules, runner=runner, now=datetime(2027, 2, 1, 0, 0, tzinfo=UTC), out_dir=tmp_path
    )
    assert _denying(day_after) == expected["denyAtHigh"]
    assert day_after.exceptions_applied == ()
    assert day_after.expired_exceptions == (lodash,)
    expired = [f for f in day_after.findings if f.rule_id == "PG-VUL-011"]
    assert len(expired) == 1 and "expired on 2027-01-31" in expired[0].message


def test_an_exception_for_another_version_does_not_apply(
    vulnerable_sbom: Path, runner: ToolRunner, tmp_path: Path
) -> None:
    other = exception("GHSA-pgjs-7w8x-0001", "pkg:npm/lodash@4.17.19", date(2027, 12, 31))
    result = scan_sbom(vulnerable_sbom, policy(exceptions=(other,)), runner=runner, now=NOW, out_dir=tmp_path)
    assert "GHSA-pgjs-7w8x-0001" in _denying(result)
    assert result.exceptions_applied == ()


def _openvex(path: Path, statements: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://acme.example/vex/2027-01",
                "author": "acme security",
                "timestamp": "2027-01-01T00:00:00Z",
                "version": 1,
                "statements": statements,
            }
        )
    )
    return path


def test_a_vex_not_affected_statement_removes_one(
    vulnerable_sbom: Path, runner: ToolRunner, expected: dict[str, Any], tmp_path: Path
) -> None:
    vex = _openvex(
        tmp_path / "acme.openvex.json",
        [
            {
                # NOTE: named by its CVE alias: VEX documents often use CVE ids where grype reports GHSA.
                "vulnerability": {"name": "CVE-2026-90002"},
                "products": [{"@id": "pkg:pypi/PyYAML@5.3.1"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
            },
            {
                "vulnerability": {"name": "GHSA-pgjs-7w8x-0002"},
                "products": [{"@id": "pkg:npm/minimist@1.2.5"}],
                "status": "under_investigation",
            },
        ],
    )
    result = scan_sbom(vulnerable_sbom, policy(vex=(vex,)), runner=runner, now=NOW, out_dir=tmp_path / "out")

    assert _denying(result) == sorted(set(expected["denyAtHigh"]) - {"GHSA-pgpy-2q3r-0002"})
    vexed = [m for m in result.matches if m.disposition is Disposition.VEX]
    assert [m.match.id for m in vexed] == ["GHSA-pgpy-2q3r-0002"]
    assert vexed[0].vex is not None and vexed[0].vex.justification == "vulnerable_code_not_in_execute_path"
    assert result.suppressed == 1
    assert result.counts["critical"] == 1


def test_bundle_config_files_change_nothing(
    scanners: dict[str, str], runner: ToolRunner, expected: dict[str, Any], tmp_path: Path
) -> None:
    hostile = BUNDLES / "config-override"
    # First, the bundle's files really would switch the tools off if a tool read them: run raw
    # syft and grype the naive way, from inside the bundle.
    naive_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GRYPE_DB_CACHE_DIR": scanners["GRYPE_DB_CACHE_DIR"]}
    naive_sbom = tmp_path / "naive.cdx.json"
    subprocess.run(
        [scanners["PLUGINGATE_SYFT"], "scan", "dir:.", "-q", "-o", f"cyclonedx-json={naive_sbom}"],
        cwd=hostile,
        env=naive_env,
        check=True,
        timeout=300,
    )
    assert (
        "components" not in json.loads(naive_sbom.read_text()) or not json.loads(naive_sbom.read_text())["components"]
    )
    full_sbom = tmp_path / "full.cdx.json"
    subprocess.run(
        [
            scanners["PLUGINGATE_SYFT"],
            "scan",
            f"dir:{BUNDLES / 'vulnerable'}",
            "-q",
            "-o",
            f"cyclonedx-json={full_sbom}",
        ],
        cwd=tmp_path,
        env=naive_env,
        check=True,
        timeout=300,
    )
    naive_scan = subprocess.run(
        [scanners["PLUGINGATE_GRYPE"], f"sbom:{full_sbom}", "-q", "-o", "json"],
        cwd=hostile,
        env=naive_env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    naive = json.loads(naive_scan.stdout)
    assert naive["matches"] == [] and len(naive["ignoredMatches"]) == len(expected["matches"])

    # plugingate, on the same bundle: the same findings as the plain vulnerable bundle.
    sbom = generate_sbom(hostile, name="config-override-demo", version="0.3.0", out_dir=tmp_path / "out", runner=runner)
    result = scan_sbom(sbom.cyclonedx_path, policy(), runner=runner, now=NOW, out_dir=tmp_path / "out")
    assert result.denied
    assert _denying(result) == expected["denyAtHigh"]
    assert sorted(m.match.id for m in result.matches) == sorted(m["id"] for m in expected["matches"])


def test_the_sbom_names_the_plugin_in_every_format(runner: ToolRunner, tmp_path: Path) -> None:
    result = generate_sbom(BUNDLES / "vulnerable", name="vuln-demo", version="0.3.0", out_dir=tmp_path, runner=runner)
    cdx = json.loads(result.cyclonedx_path.read_text())
    spdx = json.loads(result.spdx_path.read_text())
    native = json.loads(result.syft_path.read_text())
    # NOTE: CycloneDX and SPDX are converted from syft's own JSON: the same packages in all three
    # (SPDX adds one package for the scanned folder itself).
    assert native["source"]["name"] == "vuln-demo" and native["source"]["version"] == "0.3.0"
    assert len(native["artifacts"]) == result.packages == len(spdx["packages"]) - 1
    assert result.scan_input == result.syft_path
    assert cdx["bomFormat"] == "CycloneDX"
    assert cdx["metadata"]["component"]["name"] == "vuln-demo"
    assert cdx["metadata"]["component"]["version"] == "0.3.0"
    assert spdx["spdxVersion"].startswith("SPDX-")
    assert spdx["name"].startswith("vuln-demo")
    purls = {c.get("purl", "").split("?")[0] for c in cdx["components"]}
    assert {"pkg:pypi/pyyaml@5.3.1", "pkg:npm/lodash@4.17.20", "pkg:golang/golang.org/x/text@v0.3.7"} <= purls
    spdx_names = {p["name"] for p in spdx["packages"]}
    assert {"pyyaml", "lodash", "golang.org/x/text"} <= spdx_names
    assert result.packages >= 10
    assert result.syft_version == "1.57.1"
    assert sorted(os.listdir(tmp_path)) == ["sbom.cdx.json", "sbom.spdx.json", "sbom.syft.json"]
