"""The gate's decision and outputs, with fake steps (the real twin: tests/test_bundle_cases.py).

These pin the logic that turns step results into a verdict and an exit code, whatever the steps
found: enforce denies on an error finding, warn and dry-run pass and report, and a step that could
not be made fails closed with exit 3 — and the report still says why.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from plugingate.errors import ExitCode, UndecidedError
from plugingate.findings import Location, Rule, Step
from plugingate.gate import run_gate
from plugingate.pipeline import GateRequest, GateSteps, StepContext, status_of
from plugingate.policy import Mode, load_policy
from plugingate.report.step import write_outputs
from plugingate.result import GateResult, StepResult, StepStatus, Verdict
from plugingate.schemas import load_schema

RULE = Rule("PG-CAP-999", Step.CAPABILITIES, "test rule", "help")
PLUGIN = """apiVersion: plugingate.dev/v1
kind: Plugin
metadata: {name: demo, version: 1.0.0, publisher: acme.example}
spec:
  capabilities: {}
"""


def ok(step: Step) -> object:
    return lambda ctx: StepResult(step, StepStatus.PASSED, f"{step} ok")


def violation(ctx: StepContext) -> StepResult:
    finding = RULE.finding("found X, expected Y", location=Location("plugin.yaml", 5))
    return StepResult(Step.CAPABILITIES, status_of([finding]), "1 violation", (finding,))


def broken(ctx: StepContext) -> StepResult:
    raise UndecidedError("grype is not installed", hint="run scripts/setup-tools")


def no_attestation(ctx: StepContext, result: GateResult) -> tuple[StepResult, dict[str, str]]:
    return StepResult(Step.ATTESTATION, StepStatus.SKIPPED, "not signed"), {}


def only_core_outputs(ctx: StepContext, result: GateResult) -> dict[str, str]:
    from plugingate.report.json import write_json
    from plugingate.report.markdown import write_markdown

    write_json(result, ctx.out_dir / "report.json")
    write_markdown(result, ctx.out_dir / "summary.md")
    return {"report": str(ctx.out_dir / "report.json")}


def steps(**overrides: object) -> GateSteps:
    base = GateSteps(
        signature=ok(Step.SIGNATURE),  # type: ignore[arg-type]
        provenance=ok(Step.PROVENANCE),  # type: ignore[arg-type]
        capabilities=ok(Step.CAPABILITIES),  # type: ignore[arg-type]
        manifests=ok(Step.MANIFESTS),  # type: ignore[arg-type]
        sbom=ok(Step.SBOM),  # type: ignore[arg-type]
        vulnerabilities=ok(Step.VULNERABILITIES),  # type: ignore[arg-type]
        attest=no_attestation,
        outputs=only_core_outputs,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    (root / "plugin.yaml").write_text(PLUGIN)
    return root


def gate(bundle: Path, tmp_path: Path, mode: Mode, parts: GateSteps) -> GateResult:
    policy = replace(load_policy(None), mode=mode)
    return run_gate(GateRequest(bundle=bundle, policy=policy, out_dir=tmp_path / "out"), parts)


def test_clean_bundle_passes_and_report_validates(bundle: Path, tmp_path: Path) -> None:
    result = gate(bundle, tmp_path, Mode.ENFORCE, steps())
    assert result.verdict is Verdict.PASSED and result.exit_code is ExitCode.PASSED
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    jsonschema.validate(report, load_schema("report.schema.json"))
    assert report["bundle"]["name"] == "demo.tgz" and len(report["bundle"]["sha256"]) == 64
    assert [s["step"] for s in report["steps"]] == [
        "bundle",
        "signature",
        "provenance",
        "capabilities",
        "manifests",
        "sbom",
        "vulnerabilities",
        "attestation",
    ]
    assert "# plugingate: ✅ PASSED" in (tmp_path / "out" / "summary.md").read_text()


@pytest.mark.parametrize(
    ("mode", "verdict", "code"),
    [
        (Mode.ENFORCE, Verdict.DENIED, ExitCode.DENIED),
        (Mode.WARN, Verdict.PASSED, ExitCode.PASSED),
        (Mode.DRY_RUN, Verdict.PASSED, ExitCode.PASSED),
    ],
)
def test_modes(bundle: Path, tmp_path: Path, mode: Mode, verdict: Verdict, code: ExitCode) -> None:
    result = gate(bundle, tmp_path, mode, steps(capabilities=violation))
    assert (result.verdict, result.exit_code) == (verdict, code)
    assert [f.rule_id for f in result.findings] == ["PG-CAP-999"]
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "PG-CAP-999" in summary and "found X, expected Y" in summary and "`plugin.yaml:5`" in summary


def test_a_step_that_cannot_be_made_fails_closed(bundle: Path, tmp_path: Path) -> None:
    result = gate(bundle, tmp_path, Mode.WARN, steps(vulnerabilities=broken))
    assert result.verdict is Verdict.UNDECIDED and result.exit_code is ExitCode.UNDECIDED
    assert result.error is not None and "grype is not installed" in result.error
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["verdict"] == "undecided" and report["exitCode"] == 3


def test_no_sbom_means_no_scan(bundle: Path, tmp_path: Path) -> None:
    result = gate(bundle, tmp_path, Mode.ENFORCE, steps(sbom=broken))
    vulns = result.step(Step.VULNERABILITIES)
    assert vulns is not None and vulns.status is StepStatus.SKIPPED
    assert result.exit_code is ExitCode.UNDECIDED


def test_the_scan_starts_as_soon_as_the_sbom_is_handed_over(bundle: Path, tmp_path: Path) -> None:
    # The SBOM step hands its SBOM over, then waits (as syft's conversion does) until the scan has
    # started: a gate that scanned only after the SBOM step ended would never get there.
    scanning = threading.Event()
    seen: list[Path] = []

    def sbom(ctx: StepContext) -> StepResult:
        ctx.scan_input.set_result(tmp_path / "sbom.syft.json")
        converted = scanning.wait(timeout=10)
        return StepResult(Step.SBOM, StepStatus.PASSED if converted else StepStatus.ERROR, "converted")

    def vulnerabilities(ctx: StepContext) -> StepResult:
        scanning.set()
        seen.append(ctx.scan_input.result())
        return StepResult(Step.VULNERABILITIES, StepStatus.PASSED, "scanned")

    result = gate(bundle, tmp_path, Mode.ENFORCE, steps(sbom=sbom, vulnerabilities=vulnerabilities))
    assert result.verdict is Verdict.PASSED, result.error
    assert seen == [tmp_path / "sbom.syft.json"]
    assert [s.step for s in result.steps][5:7] == [Step.SBOM, Step.VULNERABILITIES]


def test_an_sbom_step_that_fails_after_the_hand_over_still_fails_closed(bundle: Path, tmp_path: Path) -> None:
    def sbom(ctx: StepContext) -> StepResult:
        ctx.scan_input.set_result(tmp_path / "sbom.syft.json")
        raise UndecidedError("syft convert failed")

    result = gate(bundle, tmp_path, Mode.ENFORCE, steps(sbom=sbom))
    assert result.exit_code is ExitCode.UNDECIDED and result.error is not None
    assert "syft convert failed" in result.error
    scanned = result.step(Step.VULNERABILITIES)
    assert scanned is not None and scanned.status is StepStatus.PASSED


def test_attestation_failure_fails_closed(bundle: Path, tmp_path: Path) -> None:
    def failing(ctx: StepContext, result: GateResult) -> tuple[StepResult, dict[str, str]]:
        return StepResult(Step.ATTESTATION, StepStatus.ERROR, "key unreadable"), {}

    result = gate(bundle, tmp_path, Mode.ENFORCE, steps(attest=failing))
    assert result.exit_code is ExitCode.UNDECIDED and result.error == "attestation: key unreadable"


def test_real_outputs_are_all_written(bundle: Path, tmp_path: Path) -> None:
    result = gate(bundle, tmp_path, Mode.ENFORCE, steps(capabilities=violation, outputs=write_outputs))
    out = tmp_path / "out"
    for key in ("report", "summary", "sarif", "junit", "gitlabDependencyScanning", "gitlabCodeQuality"):
        assert Path(result.outputs[key]).is_file(), key
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_the_report_takes_valid_until_from_the_attestation_outcome_not_its_text(bundle: Path, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from plugingate.attestation.step import AttestationOutcome

    until = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

    def attest(ctx: StepContext, result: GateResult) -> tuple[StepResult, dict[str, str]]:
        # NOTE: the JSON rendering says something else: the gate must not read it back.
        outcome = AttestationOutcome(valid_until=until, predicate_types=())
        details = {"validUntil": "2099-12-31T00:00:00Z"}
        return StepResult(Step.ATTESTATION, StepStatus.SKIPPED, "not signed", details=details, outcome=outcome), {}

    result = gate(bundle, tmp_path, Mode.ENFORCE, steps(attest=attest))
    assert result.valid_until == until


def test_a_valid_until_only_in_the_attestation_text_is_not_read_back(bundle: Path, tmp_path: Path) -> None:
    def attest(ctx: StepContext, result: GateResult) -> tuple[StepResult, dict[str, str]]:
        details = {"validUntil": "2099-12-31T00:00:00Z"}
        return StepResult(Step.ATTESTATION, StepStatus.SKIPPED, "not signed", details=details), {}

    result = gate(bundle, tmp_path, Mode.ENFORCE, steps(attest=attest))
    assert result.valid_until is not None and result.valid_until.year != 2099


def test_tool_versions_come_from_the_typed_results(bundle: Path, tmp_path: Path) -> None:
    class Ran:
        def tool_versions(self) -> dict[str, str]:
            return {"syft": "9.9.9"}

    def sbom(ctx: StepContext) -> StepResult:
        # NOTE: a "tools" key in the JSON rendering alone is not a record of a tool run.
        details = {"tools": {"grype": "0.0.0"}}
        return StepResult(Step.SBOM, StepStatus.PASSED, "sbom", details=details, outcome=Ran())

    result = gate(bundle, tmp_path, Mode.ENFORCE, steps(sbom=sbom))
    assert dict(result.tools) == {"syft": "9.9.9"}
