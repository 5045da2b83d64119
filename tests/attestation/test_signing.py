"""Signing: the JSONL of DSSE envelopes as cosign reads it, and keyless signing that fails closed."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from plugingate.attestation.signing import ATTESTATIONS_FILE, keyless_bundle_name, sign_statements
from plugingate.attestation.statement import statement_bytes
from plugingate.dsse import pae
from plugingate.errors import ExitCode, UndecidedError
from plugingate.keys import private_key_from_pem, public_key_from_pem, verify_bytes
from tests.conftest import FIXTURES

from .cli import run
from .conftest import make_predicate

STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "a.tgz", "digest": {"sha256": "a" * 64}}],
    "predicateType": "https://plugingate.dev/attestation/gate/v2",
    "predicate": make_predicate().to_dict(),
}


@pytest.mark.parametrize("which", ["ec_key_pem", "ed_key_pem"])
def test_key_signed_jsonl(which: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    private, public = request.getfixturevalue(which)
    second = {**STATEMENT, "predicateType": "https://cyclonedx.org/bom", "predicate": {"bomFormat": "CycloneDX"}}
    paths = sign_statements([STATEMENT, second], key=private_key_from_pem(private, password=None), out_dir=tmp_path)
    assert paths == [
        tmp_path / ATTESTATIONS_FILE,
        tmp_path / "attestation-gate.dsse.json",
        tmp_path / "attestation-sbom.dsse.json",
    ]
    lines = paths[0].read_text().splitlines()
    assert len(lines) == 2
    key = public_key_from_pem(public)
    for line, statement in zip(lines, [STATEMENT, second], strict=True):
        envelope = json.loads(line)
        assert envelope["payloadType"] == "application/vnd.in-toto+json"
        payload = base64.b64decode(envelope["payload"])
        assert payload == statement_bytes(statement)
        (signature,) = envelope["signatures"]
        assert signature["keyid"] == ""
        assert verify_bytes(key.key, base64.b64decode(signature["sig"]), pae(envelope["payloadType"], payload))
    for single, line in zip(paths[1:], lines, strict=True):
        assert single.read_text() == line + "\n"
    # no temporary file left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_exactly_one_signing_method(tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        sign_statements([STATEMENT], out_dir=tmp_path)
    with pytest.raises(ValueError, match="exactly one"):
        sign_statements(
            [STATEMENT], key=private_key_from_pem(ec_key_pem[0], password=None), keyless=True, out_dir=tmp_path
        )


def test_keyless_bundle_names() -> None:
    assert keyless_bundle_name(STATEMENT, 0) == "attestation-gate.sigstore.json"
    assert keyless_bundle_name({"predicateType": "https://cyclonedx.org/bom"}, 1) == "attestation-sbom.sigstore.json"
    assert keyless_bundle_name({"predicateType": "x"}, 7) == "attestation-7.sigstore.json"


@pytest.fixture()
def no_ambient_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "SIGSTORE_ID_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "GITHUB_ACTIONS",
        "GITLAB_CI",
        "SIGSTORE_ID_TOKEN_AUDIENCE",
        "BUILDKITE",
        "CIRCLECI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # NOTE: no sigstore TUF cache to fall back on


def _jwt() -> str:
    def b64(doc: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "iss": "https://token.actions.githubusercontent.com",
        "aud": "sigstore",
        "sub": "repo:acme/x",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    return b64({"alg": "RS256", "typ": "JWT"}) + "." + b64(claims) + ".c2ln"


def test_keyless_without_identity_token_fails_closed(no_ambient_identity: None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(UndecidedError, match="needs an OIDC identity token") as info:
        sign_statements([STATEMENT], keyless=True, out_dir=out)
    assert info.value.exit_code == ExitCode.UNDECIDED
    assert "id-token: write" in (info.value.hint or "")
    assert not out.exists()


def test_keyless_without_network_fails_closed(no_ambient_identity: None, tmp_path: Path) -> None:
    # a well-formed token, but Sigstore's TUF repository, Fulcio and Rekor cannot be reached from here
    out = tmp_path / "out"
    with pytest.raises(UndecidedError, match="keyless signing failed") as info:
        sign_statements([STATEMENT], keyless=True, out_dir=out, identity_token=_jwt())
    assert info.value.exit_code == 3
    assert "no attestation was written" in info.value.message
    assert not out.exists()


KEYLESS_FIXTURE = FIXTURES / "sigstore" / "a.dsse.staging-rekor-v2.txt.sigstore.json"
BEACON = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)


@pytest.mark.skipif(not KEYLESS_FIXTURE.exists(), reason="shared Sigstore fixtures not found beside the repo")
def test_keyless_bundle_verification(
    no_ambient_identity: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real staging DSSE bundle (SLSA provenance): identity, regex, wrong identity, wrong type."""
    subject = str(KEYLESS_FIXTURE.parent / "dsse-subject-a.txt")
    base = ["verify-attestation", subject, "--attestation", str(KEYLESS_FIXTURE), "--staging"]
    slsa = ["--type", "https://slsa.dev/provenance/v1"]
    ok = run([*base, "--identity", BEACON, *slsa], monkeypatch, capsys)
    assert ok.code == 0, ok.err
    ok = run([*base, "--identity-regex", r"https://github\.com/sigstore-conformance/.+", *slsa], monkeypatch, capsys)
    assert ok.code == 0, ok.err
    bad = run([*base, "--identity-regex", r"https://github\.com/acme/.+", *slsa], monkeypatch, capsys)
    assert bad.code == 1 and "PG-ATT-013" in bad.err
    part = r"https://github\.com/sigstore-conformance/"
    bad = run([*base, "--identity-regex", part, *slsa], monkeypatch, capsys)
    assert bad.code == 1 and "PG-ATT-013" in bad.err and "must match the whole identity" in bad.err
    ok = run([*base, "--identity-regex", part, "--identity-regex-search", *slsa], monkeypatch, capsys)
    assert ok.code == 0, ok.err
    bad = run([*base, "--identity", "https://github.com/evil/x", *slsa], monkeypatch, capsys)
    assert bad.code == 1 and "PG-ATT-013" in bad.err
    gate = run([*base, "--identity", BEACON], monkeypatch, capsys)
    assert gate.code == 1 and "PG-ATT-003" in gate.err
    other = run(
        ["verify-attestation", "sha256:" + "0" * 64, *base[2:], "--identity", BEACON, *slsa], monkeypatch, capsys
    )
    assert other.code == 1 and "PG-ATT-002" in other.err
    keyed = run([*base, "--key", str(KEYLESS_FIXTURE.parent / "dsse-subject-a.txt")], monkeypatch, capsys)
    assert keyed.code == 2  # not a public key
