"""Interoperability with the real cosign (pinned v3.1.3): keys, blob signatures, bundles, attestations.

cosign is found through ``PLUGINGATE_COSIGN``, then the pinned build in plugingate's tools cache,
then plugingate's tools folder and PATH. Nothing here talks to a network: signatures skip the
transparency log, and verification passes ``--insecure-ignore-tlog``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from plugingate.dsse import sign_envelope
from plugingate.keys import load_private_key
from tests.signature.cliutil import invoke

pytestmark = pytest.mark.integration

PINNED = Path.home() / ".cache" / "plugingate" / "tools" / "cosign-v3.1.3" / "cosign"


def _cosign() -> Path | None:
    explicit = os.environ.get("PLUGINGATE_COSIGN")
    if explicit and Path(explicit).is_file():
        return Path(explicit)
    if PINNED.is_file():
        return PINNED
    from plugingate.errors import ToolError
    from plugingate.tools.locate import Tool, locate

    try:
        return locate(Tool.COSIGN)[0]
    except ToolError:
        return None


COSIGN = _cosign()
needs_cosign = pytest.mark.skipif(
    COSIGN is None, reason="cosign not found (PLUGINGATE_COSIGN, the tools cache, PATH): run scripts/setup-tools"
)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLUGINGATE_PASSWORD", "pw")
    (tmp_path / "home").mkdir()
    (tmp_path / "plugin.tgz").write_bytes(b"a plugin bundle\n")
    return tmp_path


def cosign(work: Path, *args: str | Path, password: str = "pw") -> subprocess.CompletedProcess[str]:
    assert COSIGN is not None
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work / "home"), "COSIGN_PASSWORD": password}
    return subprocess.run(
        [str(COSIGN), *map(str, args)], capture_output=True, text=True, env=env, cwd=work, timeout=120
    )


def _sign_blob(work: Path, key: str, *out: str) -> None:
    proc = cosign(
        work, "sign-blob", "--key", key, "--tlog-upload=false", "--use-signing-config=false", *out, "plugin.tgz", "-y"
    )
    assert proc.returncode == 0, proc.stderr


@needs_cosign
def test_cosign_key_and_signature_verify_with_plugingate(work: Path) -> None:
    assert cosign(work, "generate-key-pair", "--output-key-prefix", "ck").returncode == 0
    _sign_blob(work, "ck.key", "--new-bundle-format=false", "--output-signature", "plugin.tgz.sig")
    _sign_blob(work, "ck.key", "--bundle", "plugin.tgz.sigstore.json")
    assert invoke("verify-signature", "plugin.tgz", "--signature", "plugin.tgz.sig", "--key", "ck.pub").code == 0
    outcome = invoke("verify-signature", "plugin.tgz", "--bundle", "plugin.tgz.sigstore.json", "--key", "ck.pub")
    assert outcome.code == 0, outcome.output
    (work / "plugin.tgz").write_bytes(b"a plugin bundle, changed\n")
    assert invoke("verify-signature", "plugin.tgz", "--signature", "plugin.tgz.sig", "--key", "ck.pub").code == 1
    assert invoke("verify-signature", "plugin.tgz", "--bundle", "plugin.tgz.sigstore.json", "--key", "ck.pub").code == 1


@needs_cosign
def test_plugingate_signature_and_bundle_verify_with_cosign(work: Path) -> None:
    assert invoke("keygen", "--output-prefix", "pg").code == 0
    assert invoke("sign", "plugin.tgz", "--key", "pg.key").code == 0
    proc = cosign(
        work, "verify-blob", "--key", "pg.pub", "--signature", "plugin.tgz.sig", "--insecure-ignore-tlog", "plugin.tgz"
    )
    assert proc.returncode == 0, proc.stderr
    proc = cosign(
        work,
        "verify-blob",
        "--key",
        "pg.pub",
        "--bundle",
        "plugin.tgz.sigstore.json",
        "--insecure-ignore-tlog",
        "plugin.tgz",
    )
    assert proc.returncode == 0, proc.stderr
    (work / "plugin.tgz").write_bytes(b"tampered\n")
    proc = cosign(
        work, "verify-blob", "--key", "pg.pub", "--signature", "plugin.tgz.sig", "--insecure-ignore-tlog", "plugin.tgz"
    )
    assert proc.returncode != 0


@needs_cosign
def test_keys_cross_over(work: Path) -> None:
    """A plugingate key signs with cosign; a cosign key signs with plugingate."""
    assert invoke("keygen", "--output-prefix", "pg").code == 0
    _sign_blob(work, "pg.key", "--new-bundle-format=false", "--output-signature", "by-cosign.sig")
    assert invoke("verify-signature", "plugin.tgz", "--signature", "by-cosign.sig", "--key", "pg.pub").code == 0
    assert cosign(work, "generate-key-pair", "--output-key-prefix", "ck").returncode == 0
    assert invoke("sign", "plugin.tgz", "--key", "ck.key", "--output-signature", "by-pg.sig").code == 0
    proc = cosign(
        work, "verify-blob", "--key", "ck.pub", "--signature", "by-pg.sig", "--insecure-ignore-tlog", "plugin.tgz"
    )
    assert proc.returncode == 0, proc.stderr
    assert load_private_key(work / "ck.key", password=b"pw") is not None
    # NOTE: cosign refuses a key file whose passphrase is wrong, and so does plugingate.
    assert (
        cosign(
            work, "sign-blob", "--key", "pg.key", "--tlog-upload=false", "plugin.tgz", "-y", password="wrong"
        ).returncode
        != 0
    )


@needs_cosign
def test_empty_passphrase_keys_interoperate(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINGATE_PASSWORD", "")
    assert invoke("keygen", "--output-prefix", "nopw").code == 0
    proc = cosign(
        work,
        "sign-blob",
        "--key",
        "nopw.key",
        "--tlog-upload=false",
        "--use-signing-config=false",
        "--new-bundle-format=false",
        "--output-signature",
        "s.sig",
        "plugin.tgz",
        "-y",
        password="",
    )
    assert proc.returncode == 0, proc.stderr
    assert invoke("verify-signature", "plugin.tgz", "--signature", "s.sig", "--key", "nopw.pub").code == 0


@needs_cosign
def test_cosign_attest_blob_verifies_as_provenance(work: Path) -> None:
    assert cosign(work, "generate-key-pair", "--output-key-prefix", "ck").returncode == 0
    predicate = {
        "buildDefinition": {
            "buildType": "https://example.com/build/v1",
            "externalParameters": {
                "workflow": {
                    "repository": "https://github.com/acme/exporter",
                    "ref": "refs/heads/main",
                    "path": "release.yml",
                }
            },
        },
        "runDetails": {"builder": {"id": "https://ci.example.com/builder@v1"}},
    }
    (work / "pred.json").write_text(json.dumps(predicate))
    proc = cosign(
        work,
        "attest-blob",
        "--key",
        "ck.key",
        "--predicate",
        "pred.json",
        "--type",
        "slsaprovenance1",
        "--tlog-upload=false",
        "--use-signing-config=false",
        "--bundle",
        "prov.sigstore.json",
        "plugin.tgz",
        "-y",
    )
    assert proc.returncode == 0, proc.stderr
    ok = invoke(
        "verify-provenance",
        "plugin.tgz",
        "--attestation",
        "prov.sigstore.json",
        "--key",
        "ck.pub",
        "--source-uri",
        "github.com/acme/exporter",
        "--builder-id",
        "https://ci.example.com/builder@",
    )
    assert ok.code == 0, ok.output
    bad = invoke(
        "verify-provenance",
        "plugin.tgz",
        "--attestation",
        "prov.sigstore.json",
        "--key",
        "ck.pub",
        "--source-uri",
        "github.com/acme/other",
    )
    assert bad.code == 1 and "PG-PRV-003" in bad.output


@needs_cosign
def test_plugingate_envelope_verifies_with_cosign_attestation_check(work: Path) -> None:
    import hashlib

    assert invoke("keygen", "--output-prefix", "pg").code == 0
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "plugin.tgz", "digest": {"sha256": hashlib.sha256(b"a plugin bundle\n").hexdigest()}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {"runDetails": {"builder": {"id": "https://ci.example.com/builder@v1"}}},
    }
    key = load_private_key(work / "pg.key", password=b"pw")
    env = sign_envelope(json.dumps(statement).encode(), "application/vnd.in-toto+json", key)
    (work / "env.json").write_text(json.dumps(env))
    proc = cosign(
        work,
        "verify-blob-attestation",
        "--key",
        "pg.pub",
        "--signature",
        "env.json",
        "--type",
        "https://slsa.dev/provenance/v1",
        "--insecure-ignore-tlog",
        "plugin.tgz",
    )
    assert proc.returncode == 0, proc.stderr
    env["payload"] = base64.b64encode(json.dumps({**statement, "predicate": {}}).encode()).decode()
    (work / "env.json").write_text(json.dumps(env))
    proc = cosign(
        work,
        "verify-blob-attestation",
        "--key",
        "pg.pub",
        "--signature",
        "env.json",
        "--type",
        "https://slsa.dev/provenance/v1",
        "--insecure-ignore-tlog",
        "plugin.tgz",
    )
    assert proc.returncode != 0
