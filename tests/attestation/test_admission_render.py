"""``plugingate policy admission``: what each shipped keyless policy gets, and the inputs it refuses (exit 2).

The rendered policies are run by the real engines against a private Sigstore in
tests/keyless/test_keyless_admission.py; these check the rendering itself, offline.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.signature.cliutil import invoke

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SUBJECT = "https://github.com/acme/plugins/.github/workflows/plugingate.yml@refs/heads/main"
ISSUER = "https://token.actions.githubusercontent.com"


def _ca() -> x509.Certificate:
    from datetime import UTC, datetime, timedelta

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "test-ca")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _log(url: str) -> dict[str, Any]:
    der = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return {
        "baseUrl": url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {"rawBytes": base64.b64encode(der).decode(), "keyDetails": "PKIX_ECDSA_P256_SHA_256"},
        "logId": {"keyId": base64.b64encode(hashlib.sha256(der).digest()).decode()},
    }


@pytest.fixture
def trusted_root(tmp_path: Path) -> Path:
    ca = _ca()
    chain = {"certificates": [{"rawBytes": base64.b64encode(ca.public_bytes(serialization.Encoding.DER)).decode()}]}
    doc = {
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [_log("http://127.0.0.1:3000")],
        "certificateAuthorities": [{"subject": {"organization": "acme", "commonName": "fulcio"},
                                    "uri": "http://127.0.0.1:5555", "certChain": chain}],
        "ctlogs": [_log("http://127.0.0.1:6962")],
        "timestampAuthorities": [{"subject": {"organization": "acme", "commonName": "tsa"},
                                  "uri": "http://127.0.0.1:3004", "certChain": chain}],
    }  # fmt: skip
    path = tmp_path / "trusted_root.json"
    path.write_text(json.dumps(doc))
    return path


def render(*args: str | Path) -> tuple[int, str]:
    outcome = invoke("policy", "admission", *args)
    return outcome.code, outcome.output


def test_cluster_policy_gets_the_identity_roots_and_log_keys(trusted_root: Path) -> None:
    code, out = render(
        POLICIES / "kyverno" / "clusterpolicy-keyless.yaml", "--identity", SUBJECT, "--issuer", ISSUER,
        "--trusted-root", trusted_root,
    )  # fmt: skip
    assert code == 0, out
    (doc,) = yaml.safe_load_all(out)
    keyless = doc["spec"]["rules"][1]["verifyImages"][0]["attestations"][0]["attestors"][0]["entries"][0]["keyless"]
    assert keyless["subject"] == SUBJECT and keyless["issuer"] == ISSUER
    assert keyless["roots"].startswith("-----BEGIN CERTIFICATE-----")
    assert keyless["rekor"]["url"] == "http://127.0.0.1:3000"
    assert "PUBLIC KEY" in keyless["rekor"]["pubkey"] and "PUBLIC KEY" in keyless["ctlog"]["pubkey"]
    assert keyless["rekor"]["pubkey"] != keyless["ctlog"]["pubkey"]
    assert "REPLACE" not in out


def test_identity_regex_and_no_private_root(trusted_root: Path) -> None:
    code, out = render(
        POLICIES / "kyverno" / "imagevalidatingpolicy-keyless.yaml",
        "--identity-regex",
        "^https://github\\.com/acme/.*$",
    )
    assert code == 0, out
    (doc,) = yaml.safe_load_all(out)
    cosign = doc["spec"]["attestors"][0]["cosign"]
    # anchored: the engines search, plugingate's --identity-regex matches the whole identity
    assert cosign["keyless"]["identities"] == [
        {"issuer": ISSUER, "subjectRegExp": "^(?:^https://github\\.com/acme/.*$)$"}
    ]
    assert "trustedRoot" not in cosign and "tuf" not in cosign  # the public instance, as shipped


def test_image_validating_policy_needs_the_tuf_repository(trusted_root: Path, tmp_path: Path) -> None:
    template = POLICIES / "kyverno" / "imagevalidatingpolicy-keyless.yaml"
    code, out = render(template, "--identity", SUBJECT, "--trusted-root", trusted_root)
    assert code == 2 and "--tuf-mirror" in out, out
    root = tmp_path / "root.json"
    root.write_text('{"signed": {}}')
    code, out = render(template, "--identity", SUBJECT, "--trusted-root", trusted_root, "--tuf-mirror", "http://x")
    assert code == 2 and "go together" in out, out
    code, out = render(
        template, "--identity", SUBJECT, "--trusted-root", trusted_root, "--tuf-mirror", "http://127.0.0.1:8080",
        "--tuf-root", root,
    )  # fmt: skip
    assert code == 0, out
    cosign = yaml.safe_load(out)["spec"]["attestors"][0]["cosign"]
    assert json.loads(cosign["trustedRoot"]["value"]) == json.loads(trusted_root.read_text())
    assert cosign["ctlog"] == {"url": "http://127.0.0.1:3000"}
    assert base64.b64decode(cosign["tuf"]["root"]["data"]) == root.read_bytes()


def test_cluster_image_policy_comes_with_its_trust_root(trusted_root: Path) -> None:
    code, out = render(
        POLICIES / "policy-controller" / "clusterimagepolicy-keyless.yaml", "--identity", SUBJECT,
        "--trusted-root", trusted_root,
    )  # fmt: skip
    assert code == 0, out
    trust_root, policy = yaml.safe_load_all(out)
    assert trust_root["kind"] == "TrustRoot"
    keys = trust_root["spec"]["sigstoreKeys"]
    assert [len(keys[k]) for k in ("certificateAuthorities", "tLogs", "ctLogs", "timestampAuthorities")] == [1] * 4
    name = trust_root["metadata"]["name"]
    for authority in policy["spec"]["authorities"]:
        assert authority["keyless"]["trustRootRef"] == name and "url" not in authority["keyless"]
        assert authority["ctlog"] == {"trustRootRef": name}
        assert authority["keyless"]["identities"] == [{"issuer": ISSUER, "subject": SUBJECT}]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda d: d.update(tlogs=d["tlogs"] * 2), id="two-tlogs"),
        pytest.param(lambda d: d.update(ctlogs=[]), id="no-ctlog"),
        pytest.param(lambda d: d.update(mediaType="application/json"), id="not-a-trusted-root"),
        pytest.param(lambda d: d["tlogs"][0]["publicKey"].update(rawBytes="AAAA"), id="bad-key"),
    ],
)
def test_a_trusted_root_it_cannot_use_is_bad_input(trusted_root: Path, edit: Any) -> None:
    doc = json.loads(trusted_root.read_text())
    edit(doc)
    trusted_root.write_text(json.dumps(doc))
    code, out = render(
        POLICIES / "kyverno" / "clusterpolicy-keyless.yaml", "--identity", SUBJECT, "--trusted-root", trusted_root
    )
    assert code == 2, out
    assert str(trusted_root) in out


def test_other_templates_and_identities_are_bad_input(tmp_path: Path) -> None:
    code, out = render(POLICIES / "kyverno" / "clusterpolicy-key.yaml", "--identity", SUBJECT)
    assert code == 2 and "no keyless attestor" in out, out
    code, out = render(POLICIES / "policy-controller" / "gate.rego", "--identity", SUBJECT)
    assert code == 2, out
    code, out = render(POLICIES / "kyverno" / "clusterpolicy-keyless.yaml")
    assert code == 2 and "--identity" in out, out
    other = tmp_path / "deployment.yaml"
    other.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n")
    code, out = render(other, "--identity", SUBJECT)
    assert code == 2 and "Deployment" in out, out
