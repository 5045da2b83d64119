"""A keyless signature made when its certificate had expired (or was not yet valid) is denied with its
own rule id by verify-signature and the gate (PG-SIG-009) and by verify-attestation (PG-ATT-015).

The certificate is a copy of one the private Fulcio issued, dates changed, under the same root, with
an SCT from the same CT log; the signature is timestamped by the same TSA and logged in the same Rekor
(tests/support/minted_cert.py). The control — the same minting with dates around now — verifies, so
the dates are what is denied.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from plugingate.attestation.statement import gate_statement
from tests.attestation.conftest import make_predicate
from tests.signature.cliutil import invoke
from tests.support.minted_cert import mint_certificate, sign_with
from tests.support.oidc_issuer import github_claims, github_identity
from tests.support.sigstore_local import LocalSigstore

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NOW = timedelta(0)
WINDOWS = {
    "expired": (timedelta(minutes=-30), timedelta(minutes=-15)),
    "not-yet-valid": (timedelta(minutes=15), timedelta(minutes=25)),
    "valid": (timedelta(minutes=-1), timedelta(minutes=9)),
}


@pytest.fixture(scope="module")
def fulcio_template(local_sigstore: LocalSigstore, tmp_path_factory: pytest.TempPathFactory) -> x509.Certificate:
    """A certificate the private Fulcio really issued for the trusted workflow."""
    work = tmp_path_factory.mktemp("template")
    artifact = work / "template.bin"
    artifact.write_bytes(b"template")
    token = work / "token.jwt"
    token.write_text(local_sigstore.issuer.mint("/github", github_claims()))
    outcome = invoke("sign", artifact, "--keyless", "--trust-config", local_sigstore.trust_config,
                     "--identity-token", token)  # fmt: skip
    assert outcome.code == 0, outcome.output
    bundle = json.loads((work / "template.bin.sigstore.json").read_text())
    return x509.load_der_x509_certificate(base64.b64decode(bundle["verificationMaterial"]["certificate"]["rawBytes"]))


def _minted(sigstore: LocalSigstore, template: x509.Certificate, window: str) -> tuple[object, x509.Certificate]:
    start, end = WINDOWS[window]
    now = datetime.now(UTC)
    return mint_certificate(sigstore, template, not_before=now + start, not_after=now + end)


@pytest.mark.parametrize("window", list(WINDOWS))
def test_verify_signature(local_sigstore: LocalSigstore, fulcio_template: x509.Certificate, tmp_path: Path,
                          window: str) -> None:  # fmt: skip
    key, cert = _minted(local_sigstore, fulcio_template, window)
    artifact = tmp_path / "acme-exporter.tgz"
    artifact.write_bytes(b"a bundle " + str(time.time_ns()).encode())
    bundle = tmp_path / "acme-exporter.tgz.sigstore.json"
    bundle.write_text(sign_with(local_sigstore, key, cert, artifact=artifact.read_bytes()))  # type: ignore[arg-type]
    outcome = invoke(
        "verify-signature", artifact, "--bundle", bundle, "--identity", github_identity(),
        "--issuer", local_sigstore.github_issuer(), "--trusted-root", local_sigstore.trusted_root,
    )  # fmt: skip
    if window == "valid":
        assert outcome.code == 0, outcome.output
        return
    assert outcome.code == 1, outcome.output
    assert "PG-SIG-009" in outcome.output, outcome.output
    words = "after its certificate expired" if window == "expired" else "before its certificate was valid"
    assert words in outcome.output, outcome.output


@pytest.mark.parametrize("window", list(WINDOWS))
def test_verify_attestation(local_sigstore: LocalSigstore, fulcio_template: x509.Certificate, tmp_path: Path,
                            window: str) -> None:  # fmt: skip
    key, cert = _minted(local_sigstore, fulcio_template, window)
    artifact = tmp_path / "acme-exporter.tgz"
    artifact.write_bytes(b"a bundle " + str(time.time_ns()).encode())
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    statement = gate_statement(bundle_name=artifact.name, bundle_sha256=digest, image_digests=[],
                               predicate=make_predicate())  # fmt: skip
    attestation = tmp_path / "attestation-gate.sigstore.json"
    attestation.write_text(sign_with(local_sigstore, key, cert, statement=statement))  # type: ignore[arg-type]
    outcome = invoke(
        "verify-attestation", artifact, "--attestation", attestation, "--identity", github_identity(),
        "--issuer", local_sigstore.github_issuer(), "--trusted-root", local_sigstore.trusted_root,
    )  # fmt: skip
    if window == "valid":
        assert outcome.code == 0, outcome.output
        return
    assert outcome.code == 1, outcome.output
    assert "PG-ATT-015" in outcome.output, outcome.output


def test_the_gate_denies_a_bundle_signed_with_an_expired_certificate(
    local_sigstore: LocalSigstore, fulcio_template: x509.Certificate, tmp_path: Path
) -> None:
    """The gate's trusted-signer check: the identity and issuer match, the dates do not."""
    from tests.conftest import run_cli

    repo = Path(__file__).resolve().parents[2]
    artifact = tmp_path / "acme-exporter.tgz"
    shutil.copyfile(repo / "examples" / "acme-exporter.tgz", artifact)
    key, cert = _minted(local_sigstore, fulcio_template, "expired")
    signature = tmp_path / "acme-exporter.tgz.sigstore.json"
    signature.write_text(sign_with(local_sigstore, key, cert, artifact=artifact.read_bytes()))  # type: ignore[arg-type]
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"""apiVersion: plugingate.dev/v1
kind: GatePolicy
metadata: {{name: keyless-expired}}
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
    database: {{allowTestDatabase: true, minAdvisories: 1}}
"""
    )
    result = run_cli("gate", artifact, "--policy", policy, "--out", tmp_path / "out", "--format", "json")
    report = json.loads(result.stdout)
    steps = {s["step"]: s for s in report["steps"]}
    assert result.code == 1, result.stderr
    findings = [f["ruleId"] for f in steps["signature"].get("findings", [])]
    assert findings == ["PG-SIG-009"], steps["signature"]
