"""The platform's policy, not the author's: attestations are signed only under a pinned or signed policy.

Unit tests drive ``run_gate`` with fake steps (the real twin is the integration test at the end, the
real CLI with syft and grype) and ``establish_trust`` with real keys and real signatures made by
``plugingate sign``. Each check is also tried the way an attacker would get around it: another
spelling of the digest, the variable instead of the option, a policy edited after signing, a key
file the policy names swapped under a pinned policy.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from plugingate.errors import ExitCode, InputError, VerificationError
from plugingate.findings import Step
from plugingate.gate import GateRequest, run_gate
from plugingate.pipeline import StepContext
from plugingate.policy import Mode, load_policy
from plugingate.policy.trust import (
    UNPINNED,
    PolicyTrust,
    PolicyTrustKind,
    PolicyTrustOptions,
    establish_trust,
)
from plugingate.result import GateResult, StepResult, StepStatus, Verdict
from plugingate.schemas import load_schema
from tests.conftest import run_cli
from tests.core.test_gate import PLUGIN, steps

REPO = Path(__file__).resolve().parents[2]
PASSWORD = {"PLUGINGATE_PASSWORD": "pw"}
POLICY = """apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {name: platform}
spec:
  signature: {required: false}
  vulnerabilities:
    database: {allowTestDatabase: true}  # NOTE: the suite's test database
"""


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    (root / "plugin.yaml").write_text(PLUGIN)
    return root


@pytest.fixture
def keypair(tmp_path: Path) -> tuple[Path, Path]:
    res = run_cli("keygen", "--output-prefix", tmp_path / "platform", env=PASSWORD)
    assert res.code == 0, res.stderr
    return tmp_path / "platform.key", tmp_path / "platform.pub"


@pytest.fixture
def other_keypair(tmp_path: Path) -> tuple[Path, Path]:
    res = run_cli("keygen", "--output-prefix", tmp_path / "author", env=PASSWORD)
    assert res.code == 0, res.stderr
    return tmp_path / "author.key", tmp_path / "author.pub"


def sign(path: Path, key: Path) -> None:
    res = run_cli("sign", path, "--key", key, env=PASSWORD)
    assert res.code == 0, res.stderr


class Recorder:
    """An attestation step that records whether the gate called it."""

    def __init__(self) -> None:
        self.called = False

    def __call__(self, ctx: StepContext, result: GateResult) -> tuple[StepResult, dict[str, str]]:
        self.called = True
        return StepResult(Step.ATTESTATION, StepStatus.PASSED, "signed (fake)"), {}


def _gate(bundle: Path, tmp_path: Path, trust: PolicyTrust, attest: Recorder) -> GateResult:
    request = GateRequest(
        bundle=bundle,
        policy=load_policy(None),
        out_dir=tmp_path / "out",
        attest_key=tmp_path / "unused.key",
        policy_trust=trust,
    )
    return run_gate(request, steps(attest=attest))


def test_an_unpinned_policy_runs_and_reports_but_signs_nothing(bundle: Path, tmp_path: Path) -> None:
    attest = Recorder()
    result = _gate(bundle, tmp_path, UNPINNED, attest)
    assert not attest.called
    assert result.verdict is Verdict.DENIED and result.exit_code is ExitCode.DENIED
    step = result.step(Step.ATTESTATION)
    assert step is not None and step.status is StepStatus.FAILED
    assert [f.rule_id for f in step.findings] == ["PG-POL-004"]
    assert "policy not pinned" in step.summary
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    jsonschema.validate(report, load_schema("report.schema.json"))
    assert report["policy"]["trust"]["kind"] == "unpinned" and report["exitCode"] == 1
    assert "Policy not pinned" in (tmp_path / "out" / "summary.md").read_text()


def test_a_pinned_policy_reaches_the_signing_step(bundle: Path, tmp_path: Path) -> None:
    attest = Recorder()
    trust = PolicyTrust(PolicyTrustKind.PINNED, "pinned by test")
    result = _gate(bundle, tmp_path, trust, attest)
    assert attest.called and result.exit_code is ExitCode.PASSED
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["policy"]["trust"] == {"kind": "pinned-digest", "detail": "pinned by test"}


def test_without_signing_an_unpinned_policy_passes_as_before(bundle: Path, tmp_path: Path) -> None:
    attest = Recorder()
    request = GateRequest(bundle=bundle, policy=load_policy(None), out_dir=tmp_path / "out")
    result = run_gate(request, steps(attest=attest))
    assert attest.called and result.exit_code is ExitCode.PASSED


def _policy(tmp_path: Path, text: str = POLICY) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


def _trust(path: Path, **options: object) -> PolicyTrust:
    return establish_trust(load_policy(path), path, PolicyTrustOptions(**options))  # type: ignore[arg-type]


def test_no_option_is_unpinned(tmp_path: Path) -> None:
    assert _trust(_policy(tmp_path)) is UNPINNED


@pytest.mark.parametrize("spelling", ["{}", "{}".upper(), "  {}\n"])
def test_the_pinned_digest_in_any_spelling(tmp_path: Path, spelling: str) -> None:
    path = _policy(tmp_path)
    value = spelling.replace("{}", f"sha256:{sha(path)}").replace("SHA256:", "sha256:")
    trust = _trust(path, digest=value)
    assert trust.kind is PolicyTrustKind.PINNED and sha(path) in trust.detail


def test_an_edited_policy_is_not_the_pinned_one(tmp_path: Path) -> None:
    path = _policy(tmp_path)
    approved = sha(path)
    # NOTE: a change that means nothing to YAML (a comment) is still another policy.
    path.write_text(POLICY + "# harmless?\n")
    with pytest.raises(VerificationError) as caught:
        _trust(path, digest=f"sha256:{approved}")
    assert caught.value.rule_id == "PG-POL-001" and approved in caught.value.message


@pytest.mark.parametrize("value", ["sha256:abc", "deadbeef" * 8, "sha512:" + "0" * 64])
def test_a_malformed_digest_is_bad_input(tmp_path: Path, value: str) -> None:
    with pytest.raises(InputError) as caught:
        _trust(_policy(tmp_path), digest=value)
    assert "--policy-digest" in caught.value.message


def test_a_policy_signed_by_the_platform_key(tmp_path: Path, keypair: tuple[Path, Path]) -> None:
    path = _policy(tmp_path)
    sign(path, keypair[0])
    for signature in (None, path.with_name("policy.yaml.sig"), path.with_name("policy.yaml.sigstore.json")):
        trust = _trust(path, keys=(keypair[1],), signature=signature)
        assert trust.kind is PolicyTrustKind.SIGNED and trust.signer == f"--key {keypair[1]}"


def test_a_policy_edited_after_signing_is_denied(tmp_path: Path, keypair: tuple[Path, Path]) -> None:
    path = _policy(tmp_path)
    sign(path, keypair[0])
    path.write_text(POLICY.replace("required: false", "required: false "))
    for signature in (path.with_name("policy.yaml.sig"), path.with_name("policy.yaml.sigstore.json")):
        with pytest.raises(VerificationError) as caught:
            _trust(path, keys=(keypair[1],), signature=signature)
        assert caught.value.rule_id == "PG-POL-002"


def test_a_policy_signed_by_another_key_is_denied(
    tmp_path: Path, keypair: tuple[Path, Path], other_keypair: tuple[Path, Path]
) -> None:
    path = _policy(tmp_path)
    sign(path, other_keypair[0])
    for signature in (path.with_name("policy.yaml.sig"), path.with_name("policy.yaml.sigstore.json")):
        with pytest.raises(VerificationError) as caught:
            _trust(path, keys=(keypair[1],), signature=signature)
        assert caught.value.rule_id == "PG-POL-002"


def test_a_named_signer_without_a_signature_is_denied(tmp_path: Path, keypair: tuple[Path, Path]) -> None:
    with pytest.raises(VerificationError) as caught:
        _trust(_policy(tmp_path), keys=(keypair[1],))
    assert caught.value.rule_id == "PG-POL-002" and "no signature" in caught.value.message


def test_a_signature_without_a_signer_is_bad_input(tmp_path: Path, keypair: tuple[Path, Path]) -> None:
    path = _policy(tmp_path)
    sign(path, keypair[0])
    with pytest.raises(InputError) as caught:
        _trust(path, signature=path.with_name("policy.yaml.sig"))
    assert "--policy-signature" in caught.value.message


def _policy_with_key_file(tmp_path: Path, publisher: Path) -> Path:
    return _policy(
        tmp_path,
        POLICY.replace(
            "spec:\n  signature: {required: false}\n",
            f"spec:\n  signature:\n    required: true\n    trustedSigners:\n"
            f"      - name: publisher\n        key: {{path: {publisher.name}}}\n",
        ),
    )


def test_a_key_file_the_pinned_policy_names_must_be_pinned_too(
    tmp_path: Path, other_keypair: tuple[Path, Path], keypair: tuple[Path, Path]
) -> None:
    publisher = other_keypair[1]
    path = _policy_with_key_file(tmp_path, publisher)
    pin = f"sha256:{sha(path)}"
    with pytest.raises(VerificationError) as caught:
        _trust(path, digest=pin)
    assert caught.value.rule_id == "PG-POL-003" and str(publisher) in caught.value.message
    approved = f"sha256:{sha(publisher)}"
    trust = _trust(path, digest=pin, file_digests=(approved,))
    assert trust.kind is PolicyTrustKind.PINNED and any(str(publisher) in f for f in trust.files)
    # NOTE: the attack: the policy's bytes stay the same, the key file it names is swapped.
    publisher.write_bytes(keypair[1].read_bytes())
    with pytest.raises(VerificationError) as caught:
        _trust(path, digest=pin, file_digests=(approved,))
    assert caught.value.rule_id == "PG-POL-003"


def test_a_key_file_the_signed_policy_names_is_signed_beside_it(
    tmp_path: Path, keypair: tuple[Path, Path], other_keypair: tuple[Path, Path]
) -> None:
    publisher = other_keypair[1]
    path = _policy_with_key_file(tmp_path, publisher)
    sign(path, keypair[0])
    with pytest.raises(VerificationError) as caught:
        _trust(path, keys=(keypair[1],))
    assert caught.value.rule_id == "PG-POL-003"
    sign(publisher, keypair[0])
    trust = _trust(path, keys=(keypair[1],))
    assert trust.kind is PolicyTrustKind.SIGNED and any("signed by" in f for f in trust.files)
    publisher.write_bytes(publisher.read_bytes() + b"\n")
    with pytest.raises(VerificationError) as caught:
        _trust(path, keys=(keypair[1],))
    assert caught.value.rule_id == "PG-POL-003"


def test_cli_denies_a_wrong_pinned_digest_before_scanning(tmp_path: Path) -> None:
    path = _policy(tmp_path)
    wrong = "sha256:" + "0" * 64
    bundle = REPO / "examples" / "acme-exporter.tgz"
    by_option = run_cli("gate", bundle, "--policy", path, "--policy-digest", wrong, "--out", tmp_path / "a")
    by_variable = run_cli(
        "gate", bundle, "--policy", path, "--out", tmp_path / "b", env={"PLUGINGATE_POLICY_DIGEST": wrong}
    )
    for res, out in ((by_option, "a"), (by_variable, "b")):
        assert res.code == 1, res.stderr
        assert "PG-POL-001" in res.stderr + res.stdout and sha(path) in res.stderr + res.stdout
        assert not (tmp_path / out).exists()


def test_cli_malformed_digest_is_exit_2(tmp_path: Path) -> None:
    res = run_cli("gate", REPO / "examples" / "acme-exporter.tgz", "--policy-digest", "abc", "--out", tmp_path / "o")
    assert res.code == 2 and "--policy-digest" in res.stderr


@pytest.mark.integration
def test_cli_refuses_to_sign_under_an_unpinned_policy_and_signs_under_a_pinned_one(
    tmp_path: Path, keypair: tuple[Path, Path]
) -> None:
    bundle = REPO / "examples" / "acme-exporter.tgz"
    policy = REPO / "policies" / "default.yaml"
    common = ("--policy", policy, "--attest-key", keypair[0], "--format", "json")
    # NOTE: the shipped policy refuses the test database: the Go vulnerability database scripts/test built.
    built = os.environ.get("PLUGINGATE_TEST_BUILT_DB", "")
    if not built:
        pytest.skip("PLUGINGATE_TEST_BUILT_DB is not set: scripts/test builds it (PLUGINGATE_DB_SOURCE=build)")
    env = {**PASSWORD, "GRYPE_DB_CACHE_DIR": built}
    refused = run_cli("gate", bundle, *common, "--out", tmp_path / "unpinned", env=env)
    assert refused.code == 1, refused.stderr
    assert "policy not pinned" in refused.stderr and "PG-POL-004" in refused.stderr
    report = json.loads((tmp_path / "unpinned" / "report.json").read_text())
    assert report["policy"]["trust"]["kind"] == "unpinned"
    assert not list((tmp_path / "unpinned").glob("attestation*"))
    pinned = run_cli(
        "gate", bundle, *common, "--policy-digest", f"sha256:{sha(policy)}", "--out", tmp_path / "pinned", env=env
    )
    assert pinned.code == 0, pinned.stderr
    envelope = json.loads((tmp_path / "pinned" / "attestation-gate.dsse.json").read_text())
    predicate = json.loads(base64.b64decode(envelope["payload"]))["predicate"]
    assert predicate["policy"]["sha256"] == sha(policy)
    assert predicate["policy"]["trust"]["kind"] == "pinned-digest"
    jsonschema.validate(predicate, load_schema("gate-attestation-predicate.schema.json"))


def test_a_vex_document_the_pinned_policy_names_must_be_pinned_too(tmp_path: Path) -> None:
    vex = tmp_path / "vex.openvex.json"
    vex.write_text('{"@context": "https://openvex.dev/ns/v0.2.0", "statements": []}')
    path = _policy(tmp_path, POLICY + "    vex: [vex.openvex.json]\n")
    pin = f"sha256:{sha(path)}"
    with pytest.raises(VerificationError) as caught:
        _trust(path, digest=pin)
    assert caught.value.rule_id == "PG-POL-003" and "vex.openvex.json" in caught.value.message
    assert _trust(path, digest=pin, file_digests=(f"sha256:{sha(vex)}",)).kind is PolicyTrustKind.PINNED


def test_a_dry_run_that_signs_nothing_anyway_is_not_refused(bundle: Path, tmp_path: Path) -> None:
    attest = Recorder()
    request = GateRequest(
        bundle=bundle,
        policy=replace(load_policy(None), mode=Mode.DRY_RUN),
        out_dir=tmp_path / "out",
        attest_key=tmp_path / "unused.key",
    )
    assert run_gate(request, steps(attest=attest)).exit_code is ExitCode.PASSED and attest.called
    asked = replace(request, attest_in_dry_run=True, out_dir=tmp_path / "out2")
    result = run_gate(asked, steps(attest=Recorder()))
    assert result.exit_code is ExitCode.DENIED and "policy not pinned" in str(result.step(Step.ATTESTATION))
