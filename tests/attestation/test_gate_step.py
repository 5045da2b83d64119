"""The gate's attestation step: from a decided ``GateResult`` to signed statements in ``--out``."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from plugingate.attestation.predicate import PREDICATE_SCHEMA
from plugingate.attestation.step import attest_step
from plugingate.capabilities.step import CapabilitiesOutcome
from plugingate.errors import ExitCode
from plugingate.findings import Location, Severity, Step
from plugingate.keys import LoadedPublicKey, fingerprint
from plugingate.pipeline import StepContext
from plugingate.policy.loader import parse_policy
from plugingate.policy.model import VulnException
from plugingate.policy.trust import UNPINNED
from plugingate.provenance.result import ProvenanceResult
from plugingate.provenance.slsa import ProvenanceFacts
from plugingate.result import BundleInfo, GateResult, PluginInfo, PolicyInfo, StepResult, StepStatus, Verdict
from plugingate.sbom.generate import SbomResult, ScannedImage
from plugingate.schemas import load_schema
from plugingate.signature.identity import CertificateClaims, SignerIdentity, SignerKind
from plugingate.signature.result import SignatureResult
from plugingate.vulnerabilities.database import DatabaseInfo
from plugingate.vulnerabilities.scan import ScanResult

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


def _provenance_key() -> LoadedPublicKey:
    from cryptography.hazmat.primitives.asymmetric import ec

    return LoadedPublicKey(key=ec.generate_private_key(ec.SECP256R1()).public_key(), source="provenance.pub")


PROVENANCE_KEY = _provenance_key()


def gate_result(
    *,
    verdict: Verdict = Verdict.PASSED,
    exception_expires: str = "2026-12-05",
    mode: str = "enforce",
    violating: bool | None = None,
    cached: bool = False,
) -> GateResult:
    """A decided result whose steps carry the typed results the other steps hand on.

    ``violating`` (default: a denied verdict) adds a denying capability finding: with ``mode`` warn
    or dry-run and a passed verdict, it is a run that let a violation through.
    """
    from plugingate.capabilities.rules import RULES as CAP_RULES

    violating = verdict is Verdict.DENIED if violating is None else violating
    denial = CAP_RULES[0].finding("egress not allowed", location=Location("plugin.yaml", 3))
    signature = SignatureResult(
        findings=(),
        signer=SignerIdentity(
            kind=SignerKind.KEYLESS,
            claims=CertificateClaims(
                san="https://github.com/acme/x/.github/workflows/release.yml@refs/heads/main",
                issuer="https://token.actions.githubusercontent.com",
            ),
        ),
        trusted_signer="acme-ci",
    )
    provenance = ProvenanceResult(
        findings=(),
        facts=ProvenanceFacts(
            predicate_type="https://slsa.dev/provenance/v1",
            builder_id="https://github.com/slsa-framework/slsa-github-generator@refs/tags/v2.1.0",
            source_repository="github.com/acme/x",
            source_ref="refs/tags/v1.4.2",
            build_type=None,
            subjects=("b.tgz",),
        ),
        signer=SignerIdentity(kind=SignerKind.KEY, key=PROVENANCE_KEY),
    )
    granted = CapabilitiesOutcome(granted={"network": {"egress": [{"host": "api.acme.example", "ports": [443]}]}})
    sbom = SbomResult(
        cyclonedx_path=Path("sbom.cdx.json"),
        spdx_path=Path("sbom.spdx.json"),
        syft_path=Path("sbom.syft.json"),
        sha256="e" * 64,
        packages=0,
        # NOTE: proven by the SBOM step (its blobs hashed to the digest): only then a subject.
        images=(ScannedImage(name="exporter", ref=IMAGE, origin="bundle:x.tar", packages=0, digest=IMAGE[-71:]),),
        skipped_images=(),
        findings=(),
        syft_version="1.57.1",
        cached=cached,
        seconds=1.0,
        max_rss_kib=0,
    )
    scan = ScanResult(
        findings=(),
        matches=(),
        counts={"critical": 0, "high": 1, "medium": 3, "low": 0, "negligible": 0, "unknown": 0},
        exceptions_applied=(
            VulnException(
                id="GHSA-aaaa-bbbb-cccc",
                package="pkg:pypi/requests",
                expires=date.fromisoformat(exception_expires),
                reason="not reachable",
            ),
        ),
        expired_exceptions=(),
        database=DatabaseInfo(
            cache_dir=Path("grype-db"),
            schema="v6.1.10",
            built=datetime(2026, 11, 29, 18, 0, tzinfo=UTC),
            source="test",
            digest="f" * 64,
        ),
        database_stale=False,
        tools={"grype": "0.121.2"},
        vulns_path=Path("vulns.json"),
        sbom_sha256="e" * 64,
        cached=False,
        seconds=1.5,
        max_rss_kib=0,
    )
    steps = (
        StepResult(Step.SIGNATURE, StepStatus.PASSED, "signed", details=signature.to_dict(), outcome=signature),
        StepResult(Step.PROVENANCE, StepStatus.PASSED, "built", details=provenance.to_dict(), outcome=provenance),
        StepResult(
            Step.CAPABILITIES,
            StepStatus.FAILED if violating else StepStatus.PASSED,
            "caps",
            findings=(denial,) if violating else (),
            details={"granted": granted.granted},
            outcome=granted,
        ),
        StepResult(Step.SBOM, StepStatus.PASSED, "sbom", details=sbom.to_dict(), outcome=sbom),
        StepResult(Step.VULNERABILITIES, StepStatus.PASSED, "vulns", details=scan.details(), seconds=1.5, outcome=scan),
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


def test_signs_four_statements_with_a_key(tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> None:
    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    provenance = tmp_path / "b.tgz.intoto.jsonl"
    provenance.write_text('{"payloadType": "application/vnd.in-toto+json"}\n')
    ctx = context(tmp_path, attest_key=key, provenance=provenance)
    write_scan_outputs(ctx.out_dir)
    step, outputs = attest_step(ctx, gate_result())
    assert step.status is StepStatus.PASSED, step
    assert outputs["attestation"] == str(ctx.out_dir / "attestations.intoto.jsonl")
    assert outputs["attestation-gate"].endswith("attestation-gate.dsse.json")
    assert outputs["attestation-vsa"].endswith("attestation-vsa.dsse.json")
    gate, sbom, vuln, vsa = statements_of(Path(outputs["attestation"]))
    assert [gate["predicateType"], sbom["predicateType"], vuln["predicateType"], vsa["predicateType"]] == [
        "https://plugingate.dev/attestation/gate/v2",
        "https://cyclonedx.org/bom",
        "https://cosign.sigstore.dev/attestation/vuln/v1",
        "https://slsa.dev/verification_summary/v1",
    ]
    assert vsa["subject"] == gate["subject"]
    summary = vsa["predicate"]
    assert summary["verificationResult"] == "PASSED" and summary["timeVerified"] == "2026-11-29T21:00:00Z"
    assert summary["policy"]["digest"] == {"sha256": "b" * 64}
    assert summary["verifiedLevels"] == ["SLSA_BUILD_LEVEL_2", "PLUGINGATE_GATE_PASSED", "PLUGINGATE_BUNDLE_SIGNED"]
    canonical = [json.dumps(s, sort_keys=True, separators=(",", ":")).encode() for s in (sbom, vuln)]
    assert summary["inputAttestations"] == [
        {"uri": "file:b.tgz.intoto.jsonl", "digest": {"sha256": hashlib.sha256(provenance.read_bytes()).hexdigest()}},
        {"uri": "https://cyclonedx.org/bom", "digest": {"sha256": hashlib.sha256(canonical[0]).hexdigest()}},
        {
            "uri": "https://cosign.sigstore.dev/attestation/vuln/v1",
            "digest": {"sha256": hashlib.sha256(canonical[1]).hexdigest()},
        },
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
    assert predicate["policy"] == {"name": "unit", "sha256": "b" * 64, "version": "7", "trust": UNPINNED.to_dict()}
    assert predicate["signature"]["signer"]["name"] == "acme-ci"
    assert predicate["signature"]["status"] == "verified" and predicate["signature"]["required"] is True
    assert predicate["provenance"]["builderId"].startswith("https://github.com/slsa-framework/")
    assert predicate["provenance"]["signer"] == {"kind": "key", "keyFingerprint": fingerprint(PROVENANCE_KEY.key)}
    assert predicate["vulnerabilities"]["failOn"] == "critical" and predicate["vulnerabilities"]["onlyFixed"]
    assert predicate["vulnerabilities"]["counts"]["medium"] == 3
    assert predicate["tools"]["grype"]["dbBuiltAt"] == "2026-11-29T18:00:00Z"
    assert predicate["sbom"]["sha256"] == "e" * 64
    assert vuln["predicate"]["metadata"] == {
        "scanStartedOn": "2026-11-29T20:59:58Z",
        "scanFinishedOn": "2026-11-29T21:00:00Z",
    }


def _predicate(tmp_path: Path, result: GateResult) -> dict[str, Any]:
    from plugingate.attestation.step import build_statements

    tmp_path.mkdir(exist_ok=True)
    ctx = context(tmp_path)
    write_scan_outputs(ctx.out_dir)
    statements, _, _ = build_statements(result, ctx, ctx.out_dir)
    predicate: dict[str, Any] = statements[0]["predicate"]
    return predicate


def test_the_predicate_reads_the_typed_results_never_their_json(tmp_path: Path) -> None:
    honest = gate_result()
    # NOTE: every key the attestation once read by name, now saying something else.
    lying = {
        "verified": False,
        "trustedSigner": "mallory",
        "signer": {"kind": "key", "keySha256": "0" * 64},
        "builderId": "https://evil.example/builder",
        "granted": {"privileges": {"hostNetwork": True}},
        "counts": {"critical": 99},
        "suppressed": 0,
        "exceptionsApplied": [],
        "sha256": "0" * 64,
        "tools": {"syft": "0.0.0", "grype": "0.0.0", "grypeDbBuilt": "2000-01-01T00:00:00Z"},
    }
    lied = replace(honest, steps=tuple(replace(s, details=lying) for s in honest.steps), tools={})
    assert _predicate(tmp_path / "lied", lied) == _predicate(tmp_path / "honest", replace(honest, tools={}))


def test_json_alone_makes_no_signer_and_no_exception(tmp_path: Path) -> None:
    honest = gate_result()
    untyped = replace(honest, steps=tuple(replace(s, outcome=None) for s in honest.steps))
    predicate = _predicate(tmp_path, untyped)
    assert predicate["signature"] == {"status": "absent", "required": True}
    assert predicate["vulnerabilities"]["exceptionsApplied"] == []
    assert predicate["capabilities"] == {}


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
    predicate = statements_of(Path(outputs["attestation"]))[0]["predicate"]
    # NOTE: even a clean dry-run is not an enforced decision: signed, but never as a pass
    assert predicate["mode"] == "dry-run" and predicate["passed"] is False


@pytest.mark.parametrize("mode", ["warn", "dry-run"])
def test_a_run_that_let_violations_through_is_signed_as_not_passed(
    tmp_path: Path, ec_key_pem: tuple[bytes, bytes], mode: str
) -> None:
    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    ctx = context(tmp_path, mode=mode, attest_key=key, attest_in_dry_run=True)
    write_scan_outputs(ctx.out_dir)
    result = gate_result(mode=mode, violating=True)
    assert result.passed  # the gate let it through: warn and dry-run exit 0
    step, outputs = attest_step(ctx, result)
    assert step.status is StepStatus.PASSED
    statements = statements_of(Path(outputs["attestation"]))
    gate = statements[0]["predicate"]
    assert gate["passed"] is False and gate["mode"] == mode and gate["violations"] == ["PG-CAP-001"]
    vsa = next(s for s in statements if s["predicateType"] == "https://slsa.dev/verification_summary/v1")
    assert vsa["predicate"]["verificationResult"] == "FAILED"


def test_cached_results_are_recorded(tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> None:
    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    ctx = context(tmp_path, attest_key=key)
    write_scan_outputs(ctx.out_dir)
    _, outputs = attest_step(ctx, gate_result(cached=True))
    assert statements_of(Path(outputs["attestation"]))[0]["predicate"]["fromCache"] is True
    _, outputs = attest_step(ctx, gate_result())
    assert statements_of(Path(outputs["attestation"]))[0]["predicate"]["fromCache"] is False


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
    assert len(statements_of(Path(outputs["attestation"]))) == 2  # the gate's and the VSA


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
  vulnerabilities: {onSkippedImage: warn, database: {allowTestDatabase: true}}
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
    digest = f"sha256:{hashlib.sha256(policy.read_bytes()).hexdigest()}"
    # NOTE: --policy-digest: attestations are signed only under a pinned (or signed) policy.
    gate = run(
        [
            *("gate", str(bundle), "--policy", str(policy), "--policy-digest", digest, "--out", str(out)),
            *("--attest-key", str(key), "--no-cache", "-q"),
        ],
        monkeypatch,
        capsys,
    )
    # NOTE: no skip on exit 3: with the tools installed (scripts/test) it is a failure to see, not hide.
    assert gate.code != 3, gate.out + gate.err
    assert gate.code == 0, gate.out + gate.err
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
        "https://plugingate.dev/attestation/gate/v2",
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


VIOLATING_POLICY = PASSING_POLICY.replace(
    'egressAllow: ["api-acme.example"]', 'egressAllow: ["only.elsewhere.example"]'
)


@pytest.mark.integration
@pytest.mark.parametrize("how", ["--mode warn", "environment dry-run"])
def test_real_warn_and_dry_run_attestations_are_refused(
    tmp_path: Path,
    ec_key_pem: tuple[bytes, bytes],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    """Issue 12's attack through the real CLI and tools: the gate lets a violation through (exit 0) and
    signs, but what it signs says passed: false, and verify-attestation and cosign-level checks refuse it."""
    assert VIOLATING_POLICY != PASSING_POLICY
    if not EXAMPLE.is_dir():
        pytest.skip(f"example plugin not found at {EXAMPLE}")
    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    pub = tmp_path / "gate.pub"
    pub.write_bytes(ec_key_pem[1])
    policy = tmp_path / "policy.yaml"
    policy.write_text(VIOLATING_POLICY)
    shutil.copytree(EXAMPLE, tmp_path / "acme")
    bundle = tmp_path / "acme.tgz"
    assert run(["pack", str(tmp_path / "acme"), "-o", str(bundle)], monkeypatch, capsys).code == 0
    out = tmp_path / "out"
    digest = f"sha256:{hashlib.sha256(policy.read_bytes()).hexdigest()}"
    args = ["gate", str(bundle), "--policy", str(policy), "--policy-digest", digest, "--out", str(out)]
    args += ["--attest-key", str(key), "-q"]
    if how == "--mode warn":
        args += ["--mode", "warn"]
    else:
        # NOTE: only the variables, as a merge request could set them in the pipeline
        monkeypatch.setenv("PLUGINGATE_MODE", "dry-run")
        monkeypatch.setenv("PLUGINGATE_ATTEST_DRY_RUN", "1")
    gate = run(args, monkeypatch, capsys)
    # NOTE: no skip on exit 3: with the tools installed (scripts/test) it is a failure to see, not hide.
    assert gate.code != 3, gate.out + gate.err
    assert gate.code == 0, gate.out + gate.err  # warn and dry-run let it through: that is their point
    monkeypatch.delenv("PLUGINGATE_MODE", raising=False)
    monkeypatch.delenv("PLUGINGATE_ATTEST_DRY_RUN", raising=False)
    mode = "warn" if how == "--mode warn" else "dry-run"
    statement = statements_of(out / "attestations.intoto.jsonl")[0]
    predicate = statement["predicate"]
    assert predicate["mode"] == mode and predicate["passed"] is False
    # the egress the policy does not allow: a capability violation, listed
    assert predicate["violations"] and all(v.startswith("PG-CAP-") for v in predicate["violations"]), predicate
    vsa = statements_of(out / "attestations.intoto.jsonl")[-1]
    assert vsa["predicate"]["verificationResult"] == "FAILED"
    for extra in ([], ["--type", "https://slsa.dev/verification_summary/v1"]):
        refused = run(
            [
                "verify-attestation",
                str(bundle),
                "--attestation",
                str(out / "attestations.intoto.jsonl"),
                "--key",
                str(pub),
                *extra,
            ],
            monkeypatch,
            capsys,
        )
        assert refused.code == 1, refused.out
        assert "PG-ATT-004" in refused.err, refused.err


@pytest.mark.parametrize("trust", ["pinned-digest", "signed", None])
def test_policy_trust_is_what_the_policy_check_established(
    tmp_path: Path, ec_key_pem: tuple[bytes, bytes], trust: str | None
) -> None:
    """The attestation records how the gate trusted the policy (``GateResult.policy.trust``); none: unpinned."""
    from dataclasses import replace

    from plugingate.policy.trust import PolicyTrust, PolicyTrustKind

    key = tmp_path / "gate.key"
    key.write_bytes(ec_key_pem[0])
    ctx = context(tmp_path, attest_key=key)
    write_scan_outputs(ctx.out_dir)
    result = gate_result()
    established = None if trust is None else PolicyTrust(PolicyTrustKind(trust), f"{trust} by the test")
    result = replace(result, policy=replace(result.policy, trust=established))
    _, outputs = attest_step(ctx, result)
    statements = statements_of(Path(outputs["attestation"]))
    assert statements[0]["predicate"]["policy"]["trust"]["kind"] == (trust or "unpinned")
    levels = statements[-1]["predicate"]["verifiedLevels"]
    assert ("PLUGINGATE_POLICY_TRUSTED" in levels) is (trust is not None)
