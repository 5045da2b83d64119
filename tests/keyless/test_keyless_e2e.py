"""Keyless for real: sign with a token our OIDC issuer minted, through a private Fulcio, CT log,
timestamp authority and Rekor on loopback, then verify through plugingate's own paths and cosign.

Each denial is tried the way an attacker would get around it: a token for another repository (a
valid certificate, for the wrong identity), a token from another issuer, an expired token.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from pathlib import Path

import pytest

from plugingate.attestation.predicate import GATE_PREDICATE_TYPE
from plugingate.attestation.signing import sign_statements
from plugingate.attestation.statement import gate_statement
from plugingate.pipeline import KeylessSettings
from tests.attestation.conftest import make_predicate
from tests.attestation.tools import cosign
from tests.signature.cliutil import invoke
from tests.support.oidc_issuer import github_claims, github_identity, gitlab_claims, gitlab_identity
from tests.support.sigstore_local import LocalSigstore

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _bundle(tmp_path: Path) -> Path:
    path = tmp_path / "acme-exporter-1.4.2.tgz"
    path.write_bytes(b"\x1f\x8b a plugin bundle's bytes " + str(time.time_ns()).encode())
    return path


def _token(sigstore: LocalSigstore, tmp_path: Path, path: str = "/github", **kwargs: object) -> Path:
    claims = github_claims(**kwargs) if path == "/github" else gitlab_claims(**kwargs)  # type: ignore[arg-type]
    token = tmp_path / f"token-{time.time_ns()}.jwt"
    token.write_text(sigstore.issuer.mint(path, claims))
    return token


def _sign(sigstore: LocalSigstore, artifact: Path, token: Path, *extra: str | Path) -> tuple[int, str, float]:
    began = time.monotonic()
    outcome = invoke(
        "sign", artifact, "--keyless", "--trust-config", sigstore.trust_config, "--identity-token", token, *extra
    )
    return outcome.code, outcome.output, time.monotonic() - began


def _verify(sigstore: LocalSigstore, artifact: Path, identity: str, issuer: str) -> tuple[int, str]:
    outcome = invoke(
        "verify-signature", artifact, "--bundle", artifact.with_name(artifact.name + ".sigstore.json"),
        "--identity", identity, "--issuer", issuer, "--trusted-root", sigstore.trusted_root,
    )  # fmt: skip
    return outcome.code, outcome.output


def test_sign_keyless_then_verify_signature(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    artifact = _bundle(tmp_path)
    code, output, took = _sign(local_sigstore, artifact, _token(local_sigstore, tmp_path))
    assert code == 0, output
    bundle = json.loads(artifact.with_name(artifact.name + ".sigstore.json").read_text())
    material = bundle["verificationMaterial"]
    assert len(material["tlogEntries"]) == 1  # logged in the private Rekor
    assert material["timestampVerificationData"]["rfc3161Timestamps"]  # and timestamped by the private TSA
    code, output = _verify(local_sigstore, artifact, github_identity(), local_sigstore.github_issuer())
    assert code == 0, output
    assert github_identity() in output
    print(f"\nkeyless signature (sign --keyless): {took:.2f}s; start-up {local_sigstore.started_in:.2f}s")


def test_trusted_root_and_signing_config_as_two_files(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    artifact = _bundle(tmp_path)
    token = _token(local_sigstore, tmp_path, "/gitlab")
    outcome = invoke(
        "sign", artifact, "--keyless", "--trusted-root", local_sigstore.trusted_root,
        "--signing-config", local_sigstore.signing_config, "--identity-token", token,
    )  # fmt: skip
    assert outcome.code == 0, outcome.output
    code, output = _verify(local_sigstore, artifact, gitlab_identity(), local_sigstore.gitlab_issuer())
    assert code == 0, output


def test_token_from_the_environment(
    local_sigstore: LocalSigstore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifact = _bundle(tmp_path)
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", local_sigstore.issuer.mint("/github", github_claims()))
    outcome = invoke("sign", artifact, "--keyless", "--trust-config", local_sigstore.trust_config)
    assert outcome.code == 0, outcome.output


def test_token_for_another_repository_is_an_identity_mismatch(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    artifact = _bundle(tmp_path)
    token = _token(local_sigstore, tmp_path, repository="acme-evil/exporter")
    code, output, _ = _sign(local_sigstore, artifact, token)
    assert code == 0, output  # Fulcio certifies whoever holds a valid token: the verifier must refuse
    code, output = _verify(local_sigstore, artifact, github_identity(), local_sigstore.github_issuer())
    assert code == 1, output
    assert "PG-SIG-008" in output and "acme-evil/exporter" in output


def test_another_issuer_is_an_issuer_mismatch(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    artifact = _bundle(tmp_path)
    # NOTE: the same repository path from GitLab: only the issuer tells them apart.
    code, output, _ = _sign(local_sigstore, artifact, _token(local_sigstore, tmp_path, "/gitlab"))
    assert code == 0, output
    code, output = _verify(local_sigstore, artifact, gitlab_identity(), local_sigstore.github_issuer())
    assert code == 1, output
    assert "PG-SIG-007" in output


def test_expired_token_cannot_sign(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    artifact = _bundle(tmp_path)
    token = tmp_path / "expired.jwt"
    token.write_text(
        local_sigstore.issuer.mint("/github", github_claims(), issued_at=int(time.time()) - 3600, lifetime=600)
    )
    code, output, _ = _sign(local_sigstore, artifact, token)
    assert code == 3, output
    assert not artifact.with_name(artifact.name + ".sigstore.json").exists()


def test_signature_from_another_instance_does_not_verify(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    """The private bundle against the public-good root (embedded, offline) is not trusted."""
    artifact = _bundle(tmp_path)
    code, output, _ = _sign(local_sigstore, artifact, _token(local_sigstore, tmp_path))
    assert code == 0, output
    outcome = invoke(
        "verify-signature", artifact, "--bundle", artifact.with_name(artifact.name + ".sigstore.json"),
        "--identity", github_identity(), "--issuer", local_sigstore.github_issuer(), "--offline",
    )  # fmt: skip
    assert outcome.code == 1, outcome.output
    assert "PG-SIG-005" in outcome.output


def _sha256_uri(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _gate_statement(artifact: Path) -> dict[str, object]:
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    return gate_statement(bundle_name=artifact.name, bundle_sha256=digest, image_digests=[], predicate=make_predicate())


def _sign_gate_keyless(sigstore: LocalSigstore, artifact: Path, tmp_path: Path) -> Path:
    settings = KeylessSettings(trust_config=sigstore.trust_config, identity_token=_token(sigstore, tmp_path))
    statement = _gate_statement(artifact)
    paths = sign_statements([statement], keyless=True, out_dir=tmp_path / "out", keyless_settings=settings)
    assert [p.name for p in paths] == ["attestation-gate.sigstore.json"]
    return paths[0]


def test_attestations_signed_keyless_verify(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    artifact = _bundle(tmp_path)
    attestation = _sign_gate_keyless(local_sigstore, artifact, tmp_path)
    base: list[str | Path] = ["verify-attestation", artifact, "--attestation", attestation]
    base += ["--trusted-root", local_sigstore.trusted_root]
    good = invoke(*base, "--identity", github_identity(), "--issuer", local_sigstore.github_issuer())
    assert good.code == 0, good.output
    other = invoke(*base, "--identity", github_identity("acme/other"), "--issuer", local_sigstore.github_issuer())
    assert other.code == 1, other.output
    assert "PG-ATT-013" in other.output and github_identity() in other.output
    regex = invoke(
        *base, "--identity-regex", r"https://github\.com/acme/other/.*", "--issuer", local_sigstore.github_issuer()
    )
    assert regex.code == 1 and "PG-ATT-013" in regex.output, regex.output
    issuer = invoke(*base, "--identity", github_identity(), "--issuer", local_sigstore.gitlab_issuer())
    assert issuer.code == 1, issuer.output
    assert "PG-ATT-012" in issuer.output and local_sigstore.github_issuer() in issuer.output
    public = invoke("verify-attestation", artifact, "--attestation", attestation, "--identity", github_identity(),
                    "--issuer", local_sigstore.github_issuer())  # fmt: skip
    assert public.code == 1 and "PG-ATT-014" in public.output, public.output  # the public root covers none of it


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda m: m["tlogEntries"][0].update(integratedTime=str(int(time.time()) + 86400)), id="log-time"),
        pytest.param(lambda m: m["tlogEntries"][0]["inclusionProof"].update(logIndex="999"), id="inclusion-proof"),
        pytest.param(lambda m: m.update(tlogEntries=[]), id="no-log-entry"),
    ],
)
def test_an_attestation_whose_log_entry_does_not_cover_it_is_denied(
    local_sigstore: LocalSigstore, tmp_path: Path, tamper: object
) -> None:
    """verify-attestation says what the gate says for a signature (PG-SIG-005): PG-ATT-014, not a wrong signer."""
    artifact = _bundle(tmp_path)
    attestation = _sign_gate_keyless(local_sigstore, artifact, tmp_path)
    bundle = json.loads(attestation.read_text())
    tamper(bundle["verificationMaterial"])  # type: ignore[operator]
    attestation.write_text(json.dumps(bundle))
    outcome = invoke(
        "verify-attestation", artifact, "--attestation", attestation, "--identity", github_identity(),
        "--issuer", local_sigstore.github_issuer(), "--trusted-root", local_sigstore.trusted_root,
    )  # fmt: skip
    assert outcome.code == 1, outcome.output
    assert "PG-ATT-014" in outcome.output, outcome.output


def test_cosign_verifies_the_keyless_gate_attestation(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    program = cosign()
    artifact = _bundle(tmp_path)
    attestation = _sign_gate_keyless(local_sigstore, artifact, tmp_path)

    def run(identity: str) -> subprocess.CompletedProcess[str]:
        argv = [
            program, "verify-blob-attestation", "--bundle", str(attestation),
            "--trusted-root", str(local_sigstore.trusted_root), "--type", GATE_PREDICATE_TYPE,
            "--certificate-oidc-issuer", local_sigstore.github_issuer(), "--certificate-identity", identity,
            str(artifact),
        ]  # fmt: skip
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    ok = run(github_identity())
    assert ok.returncode == 0, ok.stderr
    wrong = run(github_identity("acme/other"))
    assert wrong.returncode != 0


def test_gate_verifies_a_keyless_signature_and_signs_its_attestations_keyless(
    local_sigstore: LocalSigstore, tmp_path: Path
) -> None:
    """The whole gate: a bundle signed keyless, trusted by identity + issuer, attested keyless."""
    import shutil

    from tests.conftest import run_cli

    repo = Path(__file__).resolve().parents[2]
    artifact = tmp_path / "acme-exporter.tgz"
    shutil.copyfile(repo / "examples" / "acme-exporter.tgz", artifact)
    code, output, _ = _sign(local_sigstore, artifact, _token(local_sigstore, tmp_path))
    assert code == 0, output
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"""apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {{name: keyless-e2e}}
spec:
  signature:
    required: true
    trustedRoot: {local_sigstore.trusted_root}
    trustedSigners:
      - name: acme-ci
        keyless: {{identity: "{github_identity()}", issuer: "{local_sigstore.github_issuer()}"}}
  vulnerabilities:
    failOn: critical
    onSkippedImage: warn
    database: {{allowTestDatabase: true, minAdvisories: 1}}  # NOTE: the suite scans with testdata/vulndb
"""
    )
    out = tmp_path / "out"
    # NOTE: attestations are signed only under a pinned policy, and the files it names are pinned too.
    pins = ["--policy-digest", _sha256_uri(policy), "--policy-file-digest", _sha256_uri(local_sigstore.trusted_root)]
    result = run_cli(
        "gate", artifact, "--policy", policy, *pins, "--mode", "warn", "--attest-keyless",
        "--trust-config", local_sigstore.trust_config, "--identity-token", _token(local_sigstore, tmp_path),
        "--out", out, "--format", "json",
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert result.code == 0, result.stderr + json.dumps([s for s in report["steps"] if s["status"] == "error"])
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["signature"]["status"] == "passed", steps["signature"]
    assert steps["attestation"]["status"] == "passed", steps["attestation"]
    attestation = out / "attestation-gate.sigstore.json"
    assert attestation.exists()
    argv: list[str] = [
        cosign(), "verify-blob-attestation", "--bundle", str(attestation),
        "--trusted-root", str(local_sigstore.trusted_root), "--type", GATE_PREDICATE_TYPE,
        "--certificate-oidc-issuer", local_sigstore.github_issuer(), "--certificate-identity", github_identity(),
        str(artifact),
    ]  # fmt: skip
    checked = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda m: m.update(tlogEntries=[]), id="no-log-entry"),
        pytest.param(lambda m: m["tlogEntries"][0].update(integratedTime=str(int(time.time()) + 86400)), id="log-time"),
        pytest.param(lambda m: m["tlogEntries"][0]["inclusionProof"].update(logIndex="999"), id="inclusion-proof"),
        pytest.param(lambda m: m.pop("timestampVerificationData"), id="no-timestamp-but-log"),
    ],
)
def test_a_log_entry_that_does_not_cover_the_signature_is_denied(
    local_sigstore: LocalSigstore, tmp_path: Path, tamper: object
) -> None:
    """Take away or alter the log's (or the timestamp's) account of the signature: PG-SIG-005.

    Without its RFC 3161 timestamp the bundle still has the log's signed time, so that case must pass:
    it shows the others fail for what was altered, not for being touched at all.
    """
    artifact = _bundle(tmp_path)
    code, output, _ = _sign(local_sigstore, artifact, _token(local_sigstore, tmp_path))
    assert code == 0, output
    path = artifact.with_name(artifact.name + ".sigstore.json")
    bundle = json.loads(path.read_text())
    tamper(bundle["verificationMaterial"])  # type: ignore[operator]
    path.write_text(json.dumps(bundle))
    code, output = _verify(local_sigstore, artifact, github_identity(), local_sigstore.github_issuer())
    if "timestampVerificationData" not in bundle["verificationMaterial"]:
        assert code == 0, output
    else:
        assert code == 1, output
        assert "PG-SIG-005" in output


def test_keyless_slsa_provenance_verifies_with_the_private_root(local_sigstore: LocalSigstore, tmp_path: Path) -> None:
    """SLSA v1 provenance signed by the workflow (as slsa-github-generator's is), checked as slsa-verifier does."""
    artifact = _bundle(tmp_path)
    workflow = github_identity()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": artifact.name, "digest": {"sha256": hashlib.sha256(artifact.read_bytes()).hexdigest()}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": "refs/heads/main",
                        "repository": "https://github.com/acme/exporter",
                        "path": ".github/workflows/release.yml",
                    }
                },
                "resolvedDependencies": [],
            },
            "runDetails": {"builder": {"id": workflow}, "metadata": {"invocationId": "1000"}},
        },
    }
    settings = KeylessSettings(
        trust_config=local_sigstore.trust_config, identity_token=_token(local_sigstore, tmp_path)
    )
    provenance = sign_statements([statement], keyless=True, out_dir=tmp_path / "prov", keyless_settings=settings)[0]
    base: list[str | Path] = ["verify-provenance", artifact, "--attestation", provenance, "--builder-id", workflow]
    base += [
        "--identity",
        workflow,
        "--issuer",
        local_sigstore.github_issuer(),
        "--trusted-root",
        local_sigstore.trusted_root,
    ]
    good = invoke(*base, "--source-uri", "github.com/acme/exporter")
    assert good.code == 0, good.output
    other = invoke(*base, "--source-uri", "github.com/acme/other")
    assert other.code == 1, other.output
    assert "acme/other" in other.output
