"""Every case under testdata/bundles/{pass,deny}/<case>/ gives its expected verdict and rule ids.

A case is an unsigned bundle folder with plugin.yaml, its manifests and ``expected.yaml``:
``verdict`` (passed | denied), ``rules`` (the exact, sorted ids of the error findings),
optionally ``warnings`` (ids that must be among the warnings) and ``policy`` (a file under
testdata/policies/; cases.yaml when absent). The integration test runs each case through the real
CLI (``plugingate gate``, with syft and grype); the fast test runs the capability and manifest checks
in-process, so that a regression in a check shows without the tools.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from plugingate.capabilities import check_capabilities
from plugingate.capabilities.rules import RULES as CAP_RULES
from plugingate.declaration import load_declaration
from plugingate.findings import Severity
from plugingate.manifests import check_manifests, load_manifests
from plugingate.manifests.rules import RULES as MAN_RULES
from plugingate.packaging.rules import RULES as PKG_RULES
from plugingate.policy import load_policy
from plugingate.policy.model import Mode

REPO = Path(__file__).resolve().parents[1]
CASES_DIR = REPO / "testdata" / "bundles"
POLICIES = REPO / "testdata" / "policies"
CASES = sorted(p.parent for p in CASES_DIR.glob("*/*/expected.yaml"))
EXAMPLE = REPO / "examples" / "acme-exporter"


def expected(case: Path) -> dict[str, Any]:
    """The case's expectations; the example plugin expects to pass."""
    if case == EXAMPLE:
        return {"verdict": "passed", "rules": []}
    data: dict[str, Any] = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    return data


def policy_path(case: Path) -> Path:
    return POLICIES / str(expected(case).get("policy", "cases.yaml"))


def case_id(case: Path) -> str:
    return "example" if case == EXAMPLE else f"{case.parent.name}/{case.name}"


def test_there_are_enough_cases() -> None:
    groups = {c.parent.name for c in CASES}
    assert groups == {"pass", "deny"} and len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case_is_well_formed(case: Path) -> None:
    data = expected(case)
    assert set(data) <= {"verdict", "rules", "policy", "warnings"}
    assert data["verdict"] == ("passed" if case.parent.name == "pass" else "denied")
    assert data["rules"] == sorted(set(data["rules"]))
    assert policy_path(case).is_file()
    assert (case / "plugin.yaml").is_file()


def test_every_rule_has_a_case() -> None:
    denied: set[str] = set()
    warned: set[str] = set()
    for case in CASES:
        data = expected(case)
        (denied if data["verdict"] == "denied" else set()).update(data["rules"])
        warned.update(data.get("warnings", []))
    for rule in (*CAP_RULES, *MAN_RULES, *PKG_RULES):
        bucket = denied if rule.severity is Severity.ERROR else warned
        assert rule.id in bucket, f"no case covers {rule.id}"


@pytest.mark.parametrize("case", [*CASES, EXAMPLE], ids=case_id)
def test_case_checks_in_process(case: Path) -> None:
    """The capability and manifest steps alone give exactly the expected error ids."""
    data = expected(case)
    policy = load_policy(policy_path(case))
    declaration = load_declaration(case)
    findings = check_capabilities(declaration, policy.capabilities)
    findings += check_manifests(load_manifests(case, declaration), declaration, policy.capabilities)
    errors = sorted({f.rule_id for f in findings if f.severity is Severity.ERROR})
    assert errors == data["rules"], [f"{f.rule_id} {f.location}: {f.message}" for f in findings]
    warnings = {f.rule_id for f in findings if f.severity is Severity.WARNING}
    assert set(data.get("warnings", [])) <= warnings
    denied = bool(errors) and policy.mode is Mode.ENFORCE
    assert denied is (data["verdict"] == "denied")
    for finding in findings:
        assert finding.location is not None and finding.location.line, finding


def _tools_or_skip() -> None:
    from plugingate.errors import ToolError
    from plugingate.tools.locate import Tool, locate

    for tool in (Tool.SYFT, Tool.GRYPE):
        try:
            locate(tool)
        except ToolError as exc:
            pytest.skip(f"{tool} cannot be found ({exc.message}); run scripts/setup-tools")


@dataclass(frozen=True)
class GateRun:
    """One finished ``plugingate gate`` run of a case."""

    code: int
    stderr: str
    report: dict[str, Any]


def _gate(case: Path, out: Path) -> GateRun:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "plugingate",
            "gate",
            str(case),
            "--policy",
            str(policy_path(case)),
            "--out",
            str(out),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report_file = out / "report.json"
    report = json.loads(report_file.read_text(encoding="utf-8")) if report_file.is_file() else {}
    return GateRun(proc.returncode, proc.stderr, report)


@pytest.fixture(scope="module")
def gate_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[Path, GateRun]:
    """Every selected case gated once, two at a time (syft and grype mostly wait on I/O and start-up)."""
    _tools_or_skip()
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_case_through_cli" and hasattr(item, "callspec")
    ]
    base = tmp_path_factory.mktemp("gate-cases")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {case: pool.submit(_gate, case, base / case_id(case).replace("/", "-")) for case in selected}
        return {case: future.result() for case, future in futures.items()}


@pytest.mark.integration
@pytest.mark.parametrize("case", [*CASES, EXAMPLE], ids=case_id)
def test_case_through_cli(case: Path, gate_runs: dict[Path, GateRun]) -> None:
    """``plugingate gate CASE --policy P --out OUT --format json``: exit code, verdict and error ids."""
    data = expected(case)
    run = gate_runs[case]
    errors = sorted(
        {
            f["ruleId"]
            for step in run.report.get("steps", [])
            for f in step.get("findings", [])
            if f.get("severity") == "error"
        }
    )
    detail = f"exit {run.code}\nstderr: {run.stderr[-3000:]}\nerrors: {errors}"
    assert run.code == (0 if data["verdict"] == "passed" else 1), detail
    assert run.report.get("verdict") == data["verdict"], detail
    assert errors == data["rules"], detail
