"""SLSA provenance: the real attestations in testdata/fixtures/provenance, and key-signed DSSE envelopes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from plugingate.dsse import sign_envelope
from tests.conftest import FIXTURES
from tests.signature.cliutil import invoke

FIX = FIXTURES / "provenance"
RW_DIGEST = "sha256:49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25"
RW_SIGNER = r"^https://github\.com/github/artifact-attestations-workflows/\.github/workflows/attest\.yml@.+$"
GEN = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@"
HELLO = "sha256:2892146b063a94cb4a4318c0e98d38af12dcf2b1e29237486b58463b59607bbd"

needs_fixtures = pytest.mark.skipif(not FIX.is_dir(), reason=f"provenance fixtures not found at {FIX}")


def rw(*extra: str | Path, artifact: str = RW_DIGEST) -> object:
    return invoke(
        "verify-provenance",
        artifact,
        "--attestation",
        FIX / "rw.sigstore.json",
        "--offline",
        "--identity-regex",
        RW_SIGNER,
        *extra,
    )


@needs_fixtures
def test_github_artifact_attestation_verifies() -> None:
    outcome = rw(
        "--source-uri",
        "github.com/malancas/attest-demo",
        "--source-ref",
        "refs/heads/main",
        "--builder-id",
        "https://github.com/actions/runner/github-hosted",
    )
    assert outcome.code == 0, outcome.output
    assert "github.com/malancas/attest-demo" in outcome.output


@needs_fixtures
def test_wrong_source_repository_is_denied() -> None:
    outcome = rw("--source-uri", "git+https://github.com/acme/exporter")
    assert outcome.code == 1
    assert "PG-PRV-003" in outcome.output
    assert "github.com/malancas/attest-demo" in outcome.output and "github.com/acme/exporter" in outcome.output


@needs_fixtures
def test_wrong_ref_is_denied() -> None:
    outcome = rw("--source-ref", "refs/tags/v1.0.0")
    assert outcome.code == 1 and "PG-PRV-004" in outcome.output


@needs_fixtures
def test_untrusted_builder_is_denied() -> None:
    outcome = rw("--builder-id", GEN)
    assert outcome.code == 1
    assert "PG-PRV-002" in outcome.output and "github-hosted" in outcome.output


@needs_fixtures
def test_subject_with_another_digest_is_denied() -> None:
    outcome = rw(artifact="sha256:" + "0" * 64)
    assert outcome.code == 1
    assert "PG-PRV-001" in outcome.output and "49a3aa6075e0" in outcome.output


@needs_fixtures
def test_untrusted_signer_is_denied() -> None:
    outcome = invoke(
        "verify-provenance",
        RW_DIGEST,
        "--attestation",
        FIX / "rw.sigstore.json",
        "--offline",
        "--identity",
        "https://github.com/acme/exporter/.github/workflows/release.yml@refs/heads/main",
    )
    assert outcome.code == 1
    assert "PG-PRV-005" in outcome.output and "artifact-attestations-workflows" in outcome.output


@needs_fixtures
def test_custom_issuer_only_when_asked() -> None:
    ident = "https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main"
    base = [
        "verify-provenance",
        FIX / "custom-issuer-artifact",
        "--attestation",
        FIX / "custom-issuer.sigstore.json",
        "--offline",
        "--identity",
        ident,
    ]
    assert invoke(*base).code == 1
    ok = invoke(
        *base,
        "--issuer",
        "https://token.actions.githubusercontent.com/hammer-time",
        "--source-uri",
        "github.com/too-legit/attest",
    )
    assert ok.code == 0, ok.output


@needs_fixtures
def test_slsa_v02_generator_provenance() -> None:
    base = [
        "verify-provenance",
        HELLO,
        "--attestation",
        FIX / "verifiers_internal_gha_testdata_bundle_valid-v0.3.intoto.sigstore",
        "--offline",
        "--identity-regex",
        r"^https://github\.com/slsa-framework/slsa-github-generator/.+$",
    ]
    ok = invoke(*base, "--builder-id", GEN, "--source-uri", "github.com/slsa-framework/example-package")
    assert ok.code == 0, ok.output
    assert invoke(*base, "--builder-id", GEN + "refs/tags/v2.1.0").code == 1


@needs_fixtures
def test_npm_provenance_with_intoto_log_entry_and_sha512() -> None:
    digest = (
        "sha512:90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8"
        "a258463b1e55c0f7469f730265008fa6633f"
    )
    outcome = invoke(
        "verify-provenance",
        digest,
        "--attestation",
        FIX / "sjs.sigstore.json",
        "--offline",
        "--identity-regex",
        r"^https://github\.com/sigstore/sigstore-js/.+$",
        "--source-uri",
        "github.com/sigstore/sigstore-js",
    )
    assert outcome.code == 0, outcome.output


@needs_fixtures
def test_github_private_instance_bundle_is_not_trusted_with_public_root() -> None:
    outcome = invoke(
        "verify-provenance",
        "sha256:ae57936def59bc4c75edd3a837d89bcefc6d3a5e31d55a6fa7a71624f92c3c3b",
        "--attestation",
        FIX / "ghdemo.sigstore.json",
        "--offline",
        "--identity-regex",
        ".*",
    )
    assert outcome.code != 0


def _statement(subject_sha256: str, builder: str, repo: str, ref: str = "refs/heads/main") -> bytes:
    return json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "plugin.tgz", "digest": {"sha256": subject_sha256}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {
                    "buildType": "https://example.com/build/v1",
                    "externalParameters": {"workflow": {"repository": f"https://{repo}", "ref": ref, "path": "x.yml"}},
                },
                "runDetails": {"builder": {"id": builder}},
            },
        }
    ).encode()


@pytest.fixture
def keyed(tmp_path: Path) -> dict[str, Path]:
    import hashlib

    from cryptography.hazmat.primitives.asymmetric import ec

    from plugingate.keys import public_pem

    key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    artifact = tmp_path / "plugin.tgz"
    artifact.write_bytes(b"bundle")
    digest = hashlib.sha256(b"bundle").hexdigest()
    env = sign_envelope(
        _statement(digest, "https://ci.example.com/builder@v1", "github.com/acme/exporter"),
        "application/vnd.in-toto+json",
        key,
    )
    (tmp_path / "prov.intoto.jsonl").write_text(json.dumps(env) + "\n")
    (tmp_path / "key.pub").write_bytes(public_pem(key.public_key()))
    (tmp_path / "other.pub").write_bytes(public_pem(other.public_key()))
    return {"dir": tmp_path, "artifact": artifact}


def test_key_signed_envelope_verifies(keyed: dict[str, Path]) -> None:
    d = keyed["dir"]
    outcome = invoke(
        "verify-provenance",
        keyed["artifact"],
        "--attestation",
        d / "prov.intoto.jsonl",
        "--key",
        d / "key.pub",
        "--builder-id",
        "https://ci.example.com/builder@",
        "--source-uri",
        "github.com/acme/exporter",
    )
    assert outcome.code == 0, outcome.output


def test_key_signed_envelope_with_other_key_is_denied(keyed: dict[str, Path]) -> None:
    d = keyed["dir"]
    outcome = invoke(
        "verify-provenance", keyed["artifact"], "--attestation", d / "prov.intoto.jsonl", "--key", d / "other.pub"
    )
    assert outcome.code == 1 and "PG-PRV-006" in outcome.output


def test_tampered_envelope_payload_is_denied(keyed: dict[str, Path]) -> None:
    d = keyed["dir"]
    env = json.loads((d / "prov.intoto.jsonl").read_text())
    statement = json.loads(base64.b64decode(env["payload"]))
    statement["predicate"]["runDetails"]["builder"]["id"] = "https://evil.example.com/builder"
    env["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (d / "tampered.json").write_text(json.dumps(env))
    outcome = invoke(
        "verify-provenance", keyed["artifact"], "--attestation", d / "tampered.json", "--key", d / "key.pub"
    )
    assert outcome.code == 1 and "PG-PRV-006" in outcome.output


def test_key_signed_envelope_for_changed_artifact_is_denied(keyed: dict[str, Path]) -> None:
    d = keyed["dir"]
    keyed["artifact"].write_bytes(b"bundle!")
    outcome = invoke(
        "verify-provenance", keyed["artifact"], "--attestation", d / "prov.intoto.jsonl", "--key", d / "key.pub"
    )
    assert outcome.code == 1 and "PG-PRV-001" in outcome.output


CONTAINER = (
    "cli_slsa-verifier_testdata_gha_container-based_v1.7.0_gha_container-based-binary-linux-amd64-v14.2.intoto.sigstore"
)
CONTAINER_BUILDER = (
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml"
    "@refs/tags/v1.7.0"
)
EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _container(attestation: Path, *extra: str) -> object:
    return invoke(
        "verify-provenance", EMPTY, "--attestation", attestation, "--offline", "--identity", CONTAINER_BUILDER, *extra
    )


@needs_fixtures
def test_v01_bundle_with_promise_only_verifies() -> None:
    outcome = _container(
        FIX / CONTAINER,
        "--builder-id",
        CONTAINER_BUILDER,
        "--source-uri",
        "github.com/slsa-framework/example-package",
        "--source-ref",
        "refs/tags/v14.2",
    )
    assert outcome.code == 0, outcome.output


@needs_fixtures
@pytest.mark.parametrize("field", ["signedEntryTimestamp", "integratedTime", "logIndex"])
def test_v01_bundle_with_altered_promise_fails(tmp_path: Path, field: str) -> None:
    doc = json.loads((FIX / CONTAINER).read_text())
    entry = doc["verificationMaterial"]["tlogEntries"][0]
    if field == "signedEntryTimestamp":
        sig = bytearray(base64.b64decode(entry["inclusionPromise"]["signedEntryTimestamp"]))
        sig[-1] ^= 1
        entry["inclusionPromise"]["signedEntryTimestamp"] = base64.b64encode(bytes(sig)).decode()
    else:
        entry[field] = str(int(entry[field]) + 1)
    altered = tmp_path / "altered.sigstore"
    altered.write_text(json.dumps(doc))
    outcome = _container(altered)
    assert outcome.code == 1
    assert "PG-PRV-006" in outcome.output


@needs_fixtures
def test_v02_bundle_without_inclusion_proof_still_fails(tmp_path: Path) -> None:
    doc = json.loads((FIX / CONTAINER).read_text())
    doc["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2"
    altered = tmp_path / "v02.sigstore"
    altered.write_text(json.dumps(doc))
    assert _container(altered).code == 1
