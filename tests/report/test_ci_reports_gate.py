"""The CI reports of real gate runs (the real twin of the hand-built results in the unit tests).

``plugingate gate`` with the real syft and grype on the example plugin (passes) and on the
vulnerable bundle (denied by real grype matches): SARIF and the GitLab dependency-scanning report
validate against their schemas, and the vulnerabilities land in the GitLab report.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .sample import SCHEMAS
from .test_junit import check_structure

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _schema_errors(doc: object, name: str) -> list[str]:
    import jsonschema

    schema = json.loads((SCHEMAS / name).read_text())
    cls = jsonschema.validators.validator_for(schema)
    return [str(e) for e in cls(schema).iter_errors(doc)]


def _gate(bundle: str, out: Path) -> subprocess.CompletedProcess[str]:
    setup = subprocess.run(
        [str(REPO / "scripts" / "setup-tools"), "--print-env", "--quiet"], capture_output=True, text=True, timeout=900
    )
    if setup.returncode != 0:
        pytest.fail(f"scripts/setup-tools failed: {setup.stderr[-2000:]}")
    env = dict(os.environ)
    for line in setup.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0]
    env.pop("GITHUB_OUTPUT", None)
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "plugingate",
            "gate",
            bundle,
            "--policy",
            "testdata/policies/default-test-db.yaml",
            "--out",
            str(out),
            "-q",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize(
    ("bundle", "code", "verdict"),
    [("examples/acme-exporter.tgz", 0, "passed"), ("testdata/vuln-bundles/vulnerable", 1, "denied")],
)
def test_real_gate_reports_validate(bundle: str, code: int, verdict: str, tmp_path: Path) -> None:
    if not (REPO / bundle).exists():
        pytest.fail(f"{bundle} is missing")
    out = tmp_path / "out"
    proc = _gate(bundle, out)
    assert proc.returncode == code, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == verdict

    sarif = json.loads((out / "results.sarif").read_text())
    assert not _schema_errors(sarif, "sarif-schema-2.1.0.json")
    results = sarif["runs"][0]["results"]
    assert len(results) == sum(len(s["findings"]) for s in report["steps"])

    ds = json.loads((out / "gl-dependency-scanning-report.json").read_text())
    assert not _schema_errors(ds, "gitlab-dependency-scanning-report-format.json")
    root = ET.parse(out / "junit.xml").getroot()
    check_structure(root)
    quality = json.loads((out / "gl-code-quality-report.json").read_text())
    assert len(quality) <= len(results)

    if verdict == "denied":
        matches = [f for s in report["steps"] for f in s["findings"] if f["ruleId"] in ("PG-VUL-001", "PG-VUL-002")]
        assert matches, "the vulnerable bundle has grype matches"
        ids = {v["identifiers"][0]["value"] for v in ds["vulnerabilities"]}
        assert {f["properties"]["vulnerability"] for f in matches} <= ids
        assert all(v["location"]["file"].startswith("testdata/vuln-bundles/vulnerable/") for v in ds["vulnerabilities"])
        assert int(root.get("failures", "0")) >= 1
    else:
        assert ds["vulnerabilities"] == []
        assert root.get("failures") == "0"
