"""The real cosign reads what plugingate writes: blob attestations, and image attestations via attach.

Everything runs on loopback: Debian's docker-registry started by the test, images built and pushed
by the test with plugingate's own OCI client.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.registry import Registry, push_test_image, start_registry

from plugingate.attestation.predicate import GATE_PREDICATE_TYPE
from plugingate.attestation.signing import sign_statements
from plugingate.attestation.statement import gate_statement, sbom_statement, vuln_statement
from plugingate.keys import private_key_from_pem
from plugingate.oci.client import RegistryClient

from .cli import run
from .conftest import make_predicate
from .tools import run_cosign

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    reg = start_registry(tmp_path_factory.mktemp("registry"))
    yield reg
    reg.stop()


@pytest.fixture()
def keys(tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> tuple[bytes, Path]:
    pub = tmp_path / "gate.pub"
    pub.write_bytes(ec_key_pem[1])
    return ec_key_pem[0], pub


def sign_for(
    tmp_path: Path, private_pem: bytes, bundle: Path, images: list[tuple[str, str]], **changes: object
) -> list[Path]:
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    statements = [
        gate_statement(
            bundle_name=bundle.name, bundle_sha256=digest, image_digests=images, predicate=make_predicate(**changes)
        ),
        sbom_statement(
            bundle_name=bundle.name,
            bundle_sha256=digest,
            image_digests=images,
            sbom={"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []},
        ),
    ]
    out = tmp_path / f"out-{len(list(tmp_path.iterdir()))}"
    return sign_statements(statements, key=private_key_from_pem(private_pem, password=None), out_dir=out)


def test_cosign_verify_blob_attestation(tmp_path: Path, keys: tuple[bytes, Path], bundle_file: Path) -> None:
    private, pub = keys
    paths = sign_for(tmp_path, private, bundle_file, [])
    gate_envelope = next(p for p in paths if p.name == "attestation-gate.dsse.json")
    args = ["verify-blob-attestation", "--key", str(pub), "--type", GATE_PREDICATE_TYPE, "--insecure-ignore-tlog"]
    ok = run_cosign(*args, "--signature", str(gate_envelope), str(bundle_file))
    assert ok.returncode == 0, ok.stderr
    assert "Verified OK" in ok.stderr + ok.stdout
    other = tmp_path / "other.tgz"
    other.write_bytes(bundle_file.read_bytes() + b"\0")
    bad = run_cosign(*args, "--signature", str(gate_envelope), str(other))
    assert bad.returncode != 0
    assert "no matching subject digest" in bad.stderr
    wrong_type = run_cosign(
        "verify-blob-attestation",
        "--key",
        str(pub),
        "--type",
        "https://slsa.dev/provenance/v1",
        "--insecure-ignore-tlog",
        "--signature",
        str(gate_envelope),
        str(bundle_file),
    )
    assert wrong_type.returncode != 0


def cosign_verify_image(pub: Path, ref: str) -> tuple[int, str, str]:
    proc = run_cosign(
        "verify-attestation", "--key", str(pub), "--type", GATE_PREDICATE_TYPE, "--insecure-ignore-tlog", ref
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_attach_then_cosign_verify_attestation(
    registry: Registry,
    tmp_path: Path,
    keys: tuple[bytes, Path],
    bundle_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    private, pub = keys
    repo = f"{registry.host}/acme/exporter"
    attested = push_test_image(registry.host, "acme/exporter", b"attested image", tag="v1")
    other = push_test_image(registry.host, "acme/exporter", b"another image", tag="v2")
    ref = f"{repo}@{attested}"
    jsonl = sign_for(tmp_path, private, bundle_file, [(repo, attested)])[0]

    result = run(["attach", ref, "--attestation", str(jsonl)], monkeypatch, capsys)
    assert result.code == 0, result.err
    assert "attached 2 attestation(s)" in result.out and f"sha256-{attested[7:]}.att" in result.out

    code, out, err = cosign_verify_image(pub, ref)
    assert code == 0, err
    statement = json.loads(base64.b64decode(json.loads(out.splitlines()[0])["payload"]))
    assert statement["predicateType"] == GATE_PREDICATE_TYPE and statement["predicate"]["passed"] is True

    # another image has no attestation: denied
    code, _, err = cosign_verify_image(pub, f"{repo}@{other}")
    assert code != 0 and "no matching attestations" in err.lower()

    # attaching again keeps what is there and adds nothing; a new attestation is appended
    again = run(["attach", ref, "--attestation", str(jsonl), "--format", "json"], monkeypatch, capsys)
    assert again.code == 0 and json.loads(again.out)["added"] == 0 and json.loads(again.out)["kept"] == 2
    digest = hashlib.sha256(bundle_file.read_bytes()).hexdigest()
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    vuln = vuln_statement(
        bundle_name=bundle_file.name,
        bundle_sha256=digest,
        image_digests=[(repo, attested)],
        scanner_version="0.121.2",
        db_built=now,
        db_uri="",
        result={"matches": []},
        started=now,
        finished=now,
    )
    vuln_jsonl = sign_statements([vuln], key=private_key_from_pem(private, password=None), out_dir=tmp_path / "vuln")[0]
    third = run(["attach", ref, "--attestation", str(vuln_jsonl), "--format", "json"], monkeypatch, capsys)
    assert json.loads(third.out)["added"] == 1 and json.loads(third.out)["kept"] == 2
    manifest = RegistryClient(registry.host).get_manifest("acme/exporter", f"sha256-{attested[7:]}.att")
    assert manifest is not None
    layers = manifest.json()["layers"]
    assert [layer["annotations"]["predicateType"] for layer in layers] == [
        GATE_PREDICATE_TYPE,
        "https://cyclonedx.org/bom",
        "https://cosign.sigstore.dev/attestation/vuln/v1",
    ]
    assert all(layer["annotations"]["dev.cosignproject.cosign/signature"] == "" for layer in layers)
    assert all(layer["mediaType"] == "application/vnd.dsse.envelope.v1+json" for layer in layers)
    code, _, err = cosign_verify_image(pub, ref)
    assert code == 0, err
    # ... and a different key is refused
    other_pub = tmp_path / "other.pub"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other_pub.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    code, _, _ = cosign_verify_image(other_pub, ref)
    assert code != 0


def test_tampered_attestation_fails_cosign(
    registry: Registry,
    tmp_path: Path,
    keys: tuple[bytes, Path],
    bundle_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
    private, pub = keys
    repo = f"{registry.host}/acme/tampered"
    image = push_test_image(registry.host, "acme/tampered", b"tampered image")
    jsonl = sign_for(tmp_path, private, bundle_file, [(repo, image)], passed=False)[0]
    envelope = json.loads(jsonl.read_text().splitlines()[0])
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["passed"] = True  # NOTE: the forger flips the verdict, keeps the signature
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    forged = tmp_path / "forged.jsonl"
    forged.write_text(json.dumps(envelope) + "\n")
    result = run(["attach", f"{repo}@{image}", "--attestation", str(forged)], monkeypatch, capsys)
    assert result.code == 0, result.err  # attach publishes; verification is the cluster's job
    code, _, err = cosign_verify_image(pub, f"{repo}@{image}")
    assert code != 0, err
    assert "signature" in err.lower() or "no matching attestations" in err.lower()
