"""The gate's attestation step: from a decided ``GateResult`` to signed statements in ``--out``."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from plugingate.attestation.predicate import PREDICATE_SCHEMA
from plugingate.attestation.step import attest_step
from plugingate.errors import ExitCode
from plugingate.findings import Location, Severity, Step
from plugingate.pipeline import StepContext
from plugingate.policy.loader import parse_policy
from plugingate.result import BundleInfo, GateResult, PluginInfo, PolicyInfo, StepResult, StepStatus, Verdict
from plugingate.schemas import load_schema

from .cli import run

NOW = datetime(2026, 11, 29, 21, 0, tzinfo=UTC)
IMAGE = "registry.example.com/acme/exporter@sha256:" + "c" * 64
POLICY_YAML = b"""apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: unit, version: "7"}
spec:
  mode: MODE
  vulnerabilities: {failOn: critical, onlyFixed: true}
  attestation: {validFor: 720h}
"""


def context(tmp_path: Path, *, mode: str = "enforce", **request: Any) -> StepContext:
    from plugingate.pipeline import GateRequest

    policy = parse_policy(POLICY_YAML.replace(b"MODE", mode.encode()), source="unit.yaml", base_dir=tmp_path)
    req = GateRequest(bundle=tmp_path / "b.tgz", policy=policy, out_dir=tmp_path / "out", **request)
    (tmp_path / "out").mkdir(exist_ok=True)
    return StepContext(request=req, bundle=None, declaration=None, now=NOW)  # type: ignore[arg-type]


def gate_result(
    *, verdict: Verdict = Verdict.PASSED, exception_expires: str = "2026-12-05", mode: str = "enforce"
) -> GateResult:
    """A decided result whose steps carry details in the shapes the other steps record."""
    from plugingate.capabilities.rules import RULES as CAP_RULES

    denial = CAP_RULES[0].finding("egress not allowed", location=Location("plugin.yaml", 3))
    steps = (
        StepResult(
            Step.SIGNATURE,
            StepStatus.PASSED,
            "signed",
            details={
                "verified": True,
                "trustedSigner": "acme-ci",
                "signer": {
                    "kind": "keyless",
                    "identity": "https://github.com/acme/x/.github/workflows/release.yml@refs/heads/main",
                    "issuer": "https://token.actions.githubusercontent.com",
                },
            },
        ),
        StepResult(
            Step.PROVENANCE,
            StepStatus.PASSED,
            "built",
            details={
                "verified": True,
                "builderId": "https://github.com/slsa-framework/slsa-github-generator@refs/tags/v2.1.0",
                "sourceRepository": "github.com/acme/x",
                "sourceRef": "refs/tags/v1.4.2",
                "signer": {"kind": "key", "keySha256": "d" * 64, "keyAlgorithm": "ecdsa-p256"},
            },
        ),
        StepResult(
            Step.CAPABILITIES,
            StepStatus.FAILED if verdict is Verdict.DENIED else StepStatus.PASSED,
            "caps",
            findings=(denial,) if verdict is Verdict.DENIED else (),
            details={"granted": {"network": {"egress": [{"host": "api.acme.example", "ports": [443]}]}}},
        ),
        StepResult(Step.SBOM, StepStatus.PASSED, "sbom", details={"sha256": "e" * 64, "tools": {"syft": "1.57.1"}}),
        StepResult(
            Step.VULNERABILITIES,
            StepStatus.PASSED,
            "vulns",
            details={
                "tools": {"grype": "0.121.2", "grypeDbBuilt": "2026-11-29T18:00:00Z", "grypeDbSchema": "v6.1.10"},
                "counts": {"critical": 0, "high": 1, "medium": 3, "low": 0, "negligible": 0, "unknown": 0},
                "suppressed": 2,
                "exceptionsApplied": [
                    {
                        "id": "GHSA-aaaa-bbbb-cccc",
                        "package": "pkg:pypi/requests",
                        "expires": exception_expires,
                        "reason": "not reachable",
                    },
                ],
            },
            seconds=1.5,
        ),
    )
    return GateResult(
        bundle=BundleInfo(source="b.tgz", name="b.tgz", sha256="a" * 64, size=10, kind="tgz"),
        policy=PolicyInfo(name="unit", sha256="b" * 64, source="unit.yaml", mode=mode),
        verdict=verdict,
        exit_code=ExitCode.PASSED if verdict is Verdict.PASSED else ExitCode.DENIED,
        steps=steps,
        evaluated_at=NOW,
        plugingate_version="0.1.0",
        plugin=PluginInfo(
            name="acme-exporter",
            version="1.4.2",
            publisher="acme.example",
            images=(("exporter", IMAGE), ("tagged", "registry.example.com/acme/x:1")),
        ),
        tools={"syft": "1.57.1", "grype": "0.121.2"},
    )


def statements_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(base64.b64decode(json.loads(line)["payload"])) for line in path.read_text().splitlines()]


def write_scan_outputs(out: Path) -> None:
    (out / "sbom.cdx.json").write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}))
    (out / "vulns.json").write_text(json.dumps({"matches": []}))


def test_signs_three_statements_with_a_key(tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> None:
    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    ctx = context(tmp_path, attest_key=key)
    write_scan_outputs(ctx.out_dir)
    step, outputs = attest_step(ctx, gate_result())
    assert step.status is StepStatus.PASSED, step
    assert outputs["attestation"] == str(ctx.out_dir / "attestations.intoto.jsonl")
    assert outputs["attestation-gate"].endswith("attestation-gate.dsse.json")
    gate, sbom, vuln = statements_of(Path(outputs["attestation"]))
    assert [gate["predicateType"], sbom["predicateType"], vuln["predicateType"]] == [
        "https://plugingate.dev/attestation/gate/v1",
        "https://cyclonedx.org/bom",
        "https://cosign.sigstore.dev/attestation/vuln/v1",
    ]
    assert gate["subject"] == [
        {"name": "b.tgz", "digest": {"sha256": "a" * 64}},
        {"name": "registry.example.com/acme/exporter", "digest": {"sha256": "c" * 64}},
    ]
    predicate = gate["predicate"]
    jsonschema.Draft202012Validator(load_schema(PREDICATE_SCHEMA)).validate(predicate)
    # the window is 720h, but an exception expiring on 2026-12-05 was applied
    assert predicate["validUntil"] == "2026-12-06T00:00:00Z"
    assert step.details["validUntil"] == "2026-12-06T00:00:00Z"
    assert predicate["policy"] == {"name": "unit", "sha256": "b" * 64, "version": "7"}
    assert predicate["signature"]["signer"]["name"] == "acme-ci"
    assert predicate["signature"]["status"] == "verified" and predicate["signature"]["required"] is True
    assert predicate["provenance"]["builderId"].startswith("https://github.com/slsa-framework/")
    assert predicate["provenance"]["signer"] == {"kind": "key", "keyFingerprint": "d" * 64}
    assert predicate["vulnerabilities"]["failOn"] == "critical" and predicate["vulnerabilities"]["onlyFixed"]
    assert predicate["vulnerabilities"]["counts"]["medium"] == 3
    assert predicate["tools"]["grype"]["dbBuiltAt"] == "2026-11-29T18:00:00Z"
    assert predicate["sbom"]["sha256"] == "e" * 64
    assert vuln["predicate"]["metadata"] == {
        "scanStartedOn": "2026-11-29T20:59:58Z",
        "scanFinishedOn": "2026-11-29T21:00:00Z",
    }


def test_denied_gate_is_attested_as_not_passed(tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> None:
    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    ctx = context(tmp_path, attest_key=key)
    write_scan_outputs(ctx.out_dir)
    _, outputs = attest_step(ctx, gate_result(verdict=Verdict.DENIED))
    gate = statements_of(Path(outputs["attestation"]))[0]["predicate"]
    assert gate["passed"] is False and gate["violations"] == ["PG-CAP-001"]


def test_nothing_signed_without_a_key(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    write_scan_outputs(ctx.out_dir)
    step, outputs = attest_step(ctx, gate_result())
    assert step.status is StepStatus.SKIPPED and outputs == {}
    assert [f.rule_id for f in step.findings] == ["PG-ATT-020"]
    assert all(f.severity is Severity.NOTE for f in step.findings)
    assert not list(ctx.out_dir.glob("attestation*"))


def test_dry_run_signs_only_when_asked(tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> None:
    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    ctx = context(tmp_path, mode="dry-run", attest_key=key)
    write_scan_outputs(ctx.out_dir)
    step, outputs = attest_step(ctx, gate_result())
    assert step.status is StepStatus.SKIPPED and "dry-run" in step.summary and outputs == {}
    asked = context(tmp_path, mode="dry-run", attest_key=key, attest_in_dry_run=True)
    step, outputs = attest_step(asked, gate_result(mode="dry-run"))
    assert step.status is StepStatus.PASSED
    assert statements_of(Path(outputs["attestation"]))[0]["predicate"]["mode"] == "dry-run"


def test_undecided_gate_is_not_attested(tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> None:
    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    step, outputs = attest_step(context(tmp_path, attest_key=key), gate_result(verdict=Verdict.UNDECIDED))
    assert step.status is StepStatus.SKIPPED and outputs == {}


def test_missing_scan_outputs_are_noted(tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> None:
    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    ctx = context(tmp_path, attest_key=key)
    step, outputs = attest_step(ctx, gate_result())
    assert step.status is StepStatus.PASSED
    assert [f.rule_id for f in step.findings] == ["PG-ATT-021", "PG-ATT-021"]
    assert len(statements_of(Path(outputs["attestation"]))) == 1


def test_keyless_without_identity_is_an_error_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SIGSTORE_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "GITLAB_CI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    ctx = context(tmp_path, attest_keyless=True)
    write_scan_outputs(ctx.out_dir)
    step, outputs = attest_step(ctx, gate_result())
    assert step.status is StepStatus.ERROR and outputs == {}
    assert "OIDC identity token" in step.summary
    assert not list(ctx.out_dir.glob("attestation*"))


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme-exporter"
PASSING_POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: e2e, version: "1"}
spec:
  signature: {required: false}
  vulnerabilities: {onSkippedImage: warn}
  capabilities:
    network: {egressAllow: ["api-acme.example"]}
  attestation: {validFor: 24h}
"""


@pytest.mark.integration
def test_real_gate_attestation_verifies(
    tmp_path: Path, ec_key_pem: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole gate with the real syft and grype, then verify-attestation and cosign on its output."""
    from .tools import run_cosign

    if not EXAMPLE.is_dir():
        pytest.skip(f"example plugin not found at {EXAMPLE}")
    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    pub = tmp_path / "gate.pub"
    pub.write_bytes(ec_key_pem[1])
    policy = tmp_path / "policy.yaml"
    policy.write_text(PASSING_POLICY)
    bundle = tmp_path / "acme.tgz"
    shutil.copytree(EXAMPLE, tmp_path / "acme")
    assert run(["pack", str(tmp_path / "acme"), "-o", str(bundle)], monkeypatch, capsys).code == 0
    out = tmp_path / "out"
    gate = run(
        ["gate", str(bundle), "--policy", str(policy), "--out", str(out), "--attest-key", str(key), "--no-cache", "-q"],
        monkeypatch,
        capsys,
    )
    if gate.code == 3:
        pytest.skip(f"the gate could not run its tools here: {gate.err[-500:]}")
    assert gate.code == 0, gate.out + gate.err
    digest = f"sha256:{hashlib.sha256(policy.read_bytes()).hexdigest()}"
    ok = run(
        [
            "verify-attestation",
            str(bundle),
            "--attestation",
            str(out / "attestations.intoto.jsonl"),
            "--key",
            str(pub),
            "--policy-digest",
            digest,
        ],
        monkeypatch,
        capsys,
    )
    assert ok.code == 0, ok.err
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] is True
    cosign = run_cosign(
        "verify-blob-attestation",
        "--key",
        str(pub),
        "--type",
        "https://plugingate.dev/attestation/gate/v1",
        "--insecure-ignore-tlog",
        "--signature",
        str(out / "attestation-gate.dsse.json"),
        str(bundle),
    )
    assert cosign.returncode == 0, cosign.stderr
    image_digest = json.loads((out / "attestation-gate.dsse.json").read_text())
    statement = json.loads(base64.b64decode(image_digest["payload"]))
    assert len(statement["subject"]) == 2  # the bundle and the example's one image
    assert (
        datetime.fromisoformat(statement["predicate"]["validUntil"].replace("Z", "+00:00"))
        - datetime.fromisoformat(statement["predicate"]["evaluatedAt"].replace("Z", "+00:00"))
    ) == timedelta(hours=24)
