"""``plugingate revoke`` and ``verify-attestation --revoked``: a quarantined digest is refused before ``validUntil``."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
import yaml

from .cli import Result, run
from .conftest import IMAGE_DIGEST, SignFn

Env = tuple[pytest.MonkeyPatch, pytest.CaptureFixture[str]]


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Env:
    return monkeypatch, capsys


@pytest.fixture()
def keys(tmp_path: Path, ec_key_pem: tuple[bytes, bytes], ed_key_pem: tuple[bytes, bytes]) -> dict[str, Path]:
    """The gate's key pair (EC) and the revocation key pair (Ed25519: another key on purpose)."""
    out = {}
    for name, data in (
        ("gate.pub", ec_key_pem[1]),
        ("revoke.key", ed_key_pem[0]),
        ("revoke.pub", ed_key_pem[1]),
    ):
        out[name] = tmp_path / name
        out[name].write_bytes(data)
    return out


def cli(env: Env, *args: str | Path) -> Result:
    return run([str(a) for a in args], *env)


def revoke(env: Env, keys: dict[str, Path], tmp_path: Path, *digests: str) -> Path:
    out = tmp_path / "revoked.json"
    result = cli(env, "revoke", *digests, "--key", keys["revoke.key"], "-o", out, "--reason", "malware")
    assert result.code == 0, result.err
    return out


def verify(env: Env, keys: dict[str, Path], subject: str | Path, att: Path, revoked: Path, *more: str) -> Result:
    return cli(
        env,
        "verify-attestation",
        subject,
        "--attestation",
        att,
        "--key",
        keys["gate.pub"],
        "--revoked",
        revoked,
        "--revocation-key",
        keys["revoke.pub"],
        *more,
    )


def test_an_unrelated_list_changes_nothing(
    env: Env, keys: dict[str, Path], tmp_path: Path, sign_gate: SignFn, bundle_file: Path
) -> None:
    revoked = revoke(env, keys, tmp_path, "sha256:" + "9" * 64)
    assert verify(env, keys, bundle_file, sign_gate(), revoked).code == 0


@pytest.mark.parametrize("which", ["bundle", "image", "image-ref", "bare-hex"])
def test_a_revoked_bundle_or_image_is_refused_whichever_subject_is_asked(
    env: Env, keys: dict[str, Path], tmp_path: Path, sign_gate: SignFn, bundle_file: Path, which: str
) -> None:
    bundle_digest = "sha256:" + hashlib.sha256(bundle_file.read_bytes()).hexdigest()
    listed = {
        "bundle": bundle_digest,
        "image": IMAGE_DIGEST,
        "image-ref": f"registry.example.com/acme/exporter@{IMAGE_DIGEST}",
        "bare-hex": IMAGE_DIGEST.removeprefix("sha256:").upper(),  # another spelling of the same digest
    }[which]
    revoked = revoke(env, keys, tmp_path, listed)
    att = sign_gate()
    # asked about the bundle or about the image: revoking either quarantines both
    for subject in (bundle_file, IMAGE_DIGEST):
        result = verify(env, keys, subject, att, revoked)
        assert result.code == 1, result.out
        assert "PG-ATT-009" in result.err and "revoked" in result.err and "malware" in result.err


def test_the_list_must_be_signed_by_the_revocation_key(
    env: Env, keys: dict[str, Path], tmp_path: Path, sign_gate: SignFn, bundle_file: Path
) -> None:
    revoked = revoke(env, keys, tmp_path, IMAGE_DIGEST)
    att = sign_gate()
    # another key: the list cannot be honoured, so nothing is verified (fail closed)
    result = cli(
        env,
        "verify-attestation",
        bundle_file,
        "--attestation",
        att,
        "--key",
        keys["gate.pub"],
        "--revoked",
        revoked,
        "--revocation-key",
        keys["gate.pub"],
    )
    assert result.code == 3 and "not signed by the revocation key" in result.err
    # a list with the digest taken out, its signature kept: refused the same way
    envelope = json.loads(revoked.read_text())
    doc = json.loads(base64.b64decode(envelope["payload"]))
    doc["revoked"] = []
    envelope["payload"] = base64.b64encode(json.dumps(doc).encode()).decode()
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(envelope))
    assert verify(env, keys, bundle_file, att, tampered).code == 3
    # --revoked alone cannot be checked: a usage error, not a silent pass
    result = cli(
        env, "verify-attestation", bundle_file, "--attestation", att, "--key", keys["gate.pub"], "--revoked", revoked
    )
    assert result.code == 2 and "--revocation-key" in result.err
    not_json = tmp_path / "x.json"
    not_json.write_text("nope")
    assert verify(env, keys, bundle_file, att, not_json).code == 2


def test_revoke_refuses_what_is_not_a_digest(env: Env, keys: dict[str, Path], tmp_path: Path) -> None:
    result = cli(env, "revoke", "sha256:abc", "--key", keys["revoke.key"], "-o", tmp_path / "r.json")
    assert result.code == 2 and "not a digest" in result.err
    assert not (tmp_path / "r.json").exists()


def test_configmap_lists_the_digests(env: Env, keys: dict[str, Path], tmp_path: Path) -> None:
    cm = tmp_path / "cm.yaml"
    result = cli(
        env,
        "revoke",
        IMAGE_DIGEST,
        f"registry.example.com/x@{IMAGE_DIGEST}",
        "sha256:" + "1" * 64,
        "--key",
        keys["revoke.key"],
        "-o",
        tmp_path / "r.json",
        "--configmap",
        cm,
    )
    assert result.code == 0, result.err
    doc = yaml.safe_load(cm.read_text())
    assert doc["kind"] == "ConfigMap" and doc["metadata"] == {
        "name": "plugingate-revocations",
        "namespace": "kyverno",
        "annotations": doc["metadata"]["annotations"],
    }
    assert json.loads(doc["data"]["digests"]) == sorted({IMAGE_DIGEST, "sha256:" + "1" * 64})
