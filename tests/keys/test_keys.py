"""Keys in cosign's formats: the encrypted private key, PEM public keys, raw signatures, DSSE."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from plugingate import keys
from plugingate.dsse import pae, sign_envelope, verify_envelope
from plugingate.errors import InputError, VerificationError
from tests.signature.cliutil import invoke


def test_generated_pair_round_trips_with_password(tmp_path: Path) -> None:
    pair = keys.generate_key_pair(b"s3cret")
    assert pair.private_pem.startswith(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    private = keys.private_key_from_pem(pair.private_pem, password=b"s3cret")
    public = keys.public_key_from_pem(pair.public_pem)
    sig = keys.sign_bytes(private, b"message")
    assert keys.verify_bytes(public.key, sig, b"message")
    assert not keys.verify_bytes(public.key, sig, b"messagf")


def test_encrypted_body_is_cosign_shaped() -> None:
    pair = keys.generate_key_pair(b"")
    body = base64.b64decode(b"".join(pair.private_pem.splitlines()[1:-1]))
    doc = json.loads(body)
    assert doc["kdf"]["name"] == "scrypt" and doc["kdf"]["params"] == {"N": 65536, "r": 8, "p": 1}
    assert doc["cipher"]["name"] == "nacl/secretbox"
    assert len(base64.b64decode(doc["cipher"]["nonce"])) == 24


def test_wrong_and_missing_password_are_input_errors() -> None:
    pair = keys.generate_key_pair(b"right")
    with pytest.raises(InputError, match="wrong passphrase"):
        keys.private_key_from_pem(pair.private_pem, password=b"wrong")
    with pytest.raises(InputError, match="no passphrase"):
        keys.private_key_from_pem(pair.private_pem, password=None)


def test_empty_password_is_allowed() -> None:
    pair = keys.generate_key_pair(b"")
    assert keys.private_key_from_pem(pair.private_pem, password=b"") is not None


def test_hostile_scrypt_parameters_are_refused() -> None:
    doc = {
        "kdf": {"name": "scrypt", "params": {"N": 1 << 30, "r": 8, "p": 1}, "salt": "AA=="},
        "cipher": {"name": "nacl/secretbox", "nonce": "AA=="},
        "ciphertext": "AA==",
    }
    with pytest.raises(ValueError, match="out of range"):
        keys.decrypt_cosign_key(json.dumps(doc).encode(), b"")


@pytest.mark.parametrize(
    "make",
    [
        lambda: ec.generate_private_key(ec.SECP256R1()),
        ed25519.Ed25519PrivateKey.generate,
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ],
    ids=["ecdsa-p256", "ed25519", "rsa-2048"],
)
def test_sign_verify_each_algorithm(make: object) -> None:
    private = make()  # type: ignore[operator]
    pem = keys.encrypted_private_pem(private, b"pw")
    loaded = keys.private_key_from_pem(pem, password=b"pw")
    public = keys.public_key_from_pem(keys.public_pem(private.public_key()))
    sig = keys.sign_bytes(loaded, b"data")
    assert keys.verify_bytes(public.key, sig, b"data")


def test_digest_verification_and_ed25519_refusal() -> None:
    import hashlib

    private = ec.generate_private_key(ec.SECP256R1())
    sig = keys.sign_bytes(private, b"data")
    assert keys.verify_digest(private.public_key(), sig, hashlib.sha256(b"data").digest())
    ed = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(VerificationError):
        keys.verify_digest(ed.public_key(), keys.sign_bytes(ed, b"data"), hashlib.sha256(b"data").digest())


def test_oversized_and_garbage_key_files(tmp_path: Path) -> None:
    big = tmp_path / "big.pub"
    big.write_bytes(b"A" * (keys.MAX_KEY_FILE_BYTES + 1))
    with pytest.raises(InputError, match="larger"):
        keys.load_public_key(big)
    junk = tmp_path / "junk.pub"
    junk.write_text("hello")
    with pytest.raises(InputError, match="not a PEM public key"):
        keys.load_public_key(junk)


def test_dsse_envelope_round_trip_and_tamper() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    public = keys.public_key_from_pem(keys.public_pem(private.public_key()))
    env = sign_envelope(b'{"a":1}', "application/vnd.in-toto+json", private)
    assert env["signatures"][0]["keyid"] == ""
    assert verify_envelope(env, [public]) == ("application/vnd.in-toto+json", b'{"a":1}')
    assert verify_envelope(json.dumps(env).encode(), [public])[1] == b'{"a":1}'
    env["payloadType"] = "text/plain"
    with pytest.raises(VerificationError):
        verify_envelope(env, [public])


def test_pae_matches_the_dsse_spec() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_oversized_envelope_is_refused() -> None:
    from plugingate.dsse import MAX_ENVELOPE_BYTES

    with pytest.raises(InputError):
        verify_envelope(b" " * (MAX_ENVELOPE_BYTES + 1), [])


def test_keygen_sign_verify_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINGATE_PASSWORD", "pw")
    monkeypatch.chdir(tmp_path)
    assert invoke("keygen", "--output-prefix", "k").code == 0
    assert (tmp_path / "k.key").stat().st_mode & 0o077 == 0
    assert invoke("keygen", "--output-prefix", "k").code == 2
    art = tmp_path / "plugin.tgz"
    art.write_bytes(b"bundle")
    assert invoke("sign", art, "--key", "k.key").code == 0
    assert invoke("verify-signature", art, "--signature", f"{art}.sig", "--key", "k.pub").code == 0
    assert invoke("verify-signature", art, "--bundle", f"{art}.sigstore.json", "--key", "k.pub").code == 0
    other = tmp_path / "other.tgz"
    other.write_bytes(b"another bundle")
    denied = invoke("verify-signature", other, "--signature", f"{art}.sig", "--key", "k.pub")
    assert denied.code == 1 and "PG-SIG-001" in denied.output
    denied = invoke("verify-signature", other, "--bundle", f"{art}.sigstore.json", "--key", "k.pub")
    assert denied.code == 1 and "PG-SIG-002" in denied.output
    sig = (tmp_path / "plugin.tgz.sig").read_text().strip()
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 1
    (tmp_path / "bad.sig").write_text(base64.b64encode(bytes(raw)).decode())
    denied = invoke("verify-signature", art, "--signature", "bad.sig", "--key", "k.pub")
    assert denied.code == 1 and "PG-SIG-001" in denied.output
    monkeypatch.setenv("PLUGINGATE_PASSWORD", "other")
    assert invoke("keygen", "--output-prefix", "k2").code == 0
    denied = invoke("verify-signature", art, "--signature", f"{art}.sig", "--key", "k2.pub")
    assert denied.code == 1 and "k2.pub" in denied.output


def test_keyless_sign_without_credential_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "SIGSTORE_ID_TOKEN",
        "GITHUB_ACTIONS",
        "GITLAB_CI",
    ):
        monkeypatch.delenv(name, raising=False)
    art = tmp_path / "plugin.tgz"
    art.write_bytes(b"bundle")
    outcome = invoke("sign", art)
    assert outcome.code == 3
    assert "OIDC identity token" in outcome.output and "id-token: write" in outcome.output
    assert not (tmp_path / "plugin.tgz.sigstore.json").exists()


def test_keyless_sign_with_token_but_no_sigstore_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    claims = (
        base64.urlsafe_b64encode(
            json.dumps(
                {
                    "iss": "https://token.actions.githubusercontent.com",
                    "aud": "sigstore",
                    "sub": "x",
                    "exp": 4102444800,
                    "iat": 1700000000,
                    "nbf": 1700000000,
                }
            ).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", f"{header}.{claims}.c2ln")
    art = tmp_path / "plugin.tgz"
    art.write_bytes(b"bundle")
    outcome = invoke("sign", art)
    assert outcome.code == 3, outcome.output
    assert not (tmp_path / "plugin.tgz.sigstore.json").exists()


def test_verify_signature_with_policy_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLUGINGATE_PASSWORD", "")
    monkeypatch.chdir(tmp_path)
    assert invoke("keygen", "--output-prefix", "k").code == 0
    (tmp_path / "policy.yaml").write_text(
        "apiVersion: plugingate.dev/v1\nkind: GatePolicy\nmetadata: {name: t}\n"
        "spec:\n  signature:\n    trustedSigners:\n      - name: acme\n        key: {path: k.pub}\n"
    )
    art = tmp_path / "plugin.tgz"
    art.write_bytes(b"bundle")
    assert invoke("sign", art, "--key", "k.key").code == 0
    outcome = invoke(
        "verify-signature", art, "--bundle", f"{art}.sigstore.json", "--policy", "policy.yaml", "--format", "json"
    )
    assert outcome.code == 0, outcome.output
    doc = json.loads(outcome.output)
    assert doc["verified"] is True and doc["trustedSigner"] == "acme" and doc["signer"]["kind"] == "key"
    art.write_bytes(b"changed")
    outcome = invoke(
        "verify-signature", art, "--bundle", f"{art}.sigstore.json", "--policy", "policy.yaml", "--format", "json"
    )
    assert outcome.code == 1
    assert json.loads(outcome.output.split("\n}")[0] + "\n}")["ruleId"] == "PG-SIG-002"


@pytest.mark.parametrize("algorithm", ["ed25519", "rsa"])
def test_sign_and_verify_non_default_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, algorithm: str) -> None:
    import hashlib

    monkeypatch.setenv("PLUGINGATE_PASSWORD", "pw")
    private = (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == "ed25519"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    (tmp_path / "k.key").write_bytes(keys.encrypted_private_pem(private, b"pw"))
    (tmp_path / "k.pub").write_bytes(keys.public_pem(private.public_key()))
    art = tmp_path / "plugin.tgz"
    art.write_bytes(b"bundle")
    assert invoke("sign", art, "--key", tmp_path / "k.key").code == 0
    for flag, path in (("--signature", f"{art}.sig"), ("--bundle", f"{art}.sigstore.json")):
        assert invoke("verify-signature", art, flag, path, "--key", tmp_path / "k.pub").code == 0
    digest = "sha256:" + hashlib.sha256(b"bundle").hexdigest()
    by_digest = invoke("verify-signature", digest, "--signature", f"{art}.sig", "--key", tmp_path / "k.pub")
    if algorithm == "ed25519":
        assert by_digest.code == 1 and "Ed25519" in by_digest.output
    else:
        assert by_digest.code == 0, by_digest.output
