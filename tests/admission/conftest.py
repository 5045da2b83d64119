"""The admission side's fixtures: a loopback registry holding an attested image, an unattested one,
one whose gate said ``passed: false`` and one whose attestation expired; and the gate's key."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.registry import push_test_image, start_registry

from plugingate.attestation.signing import sign_statements
from plugingate.attestation.statement import gate_statement
from plugingate.keys import private_key_from_pem
from plugingate.oci.attach import attach, read_attestations
from plugingate.oci.client import RegistryClient
from plugingate.oci.reference import parse_image_ref

POLICIES = Path(__file__).resolve().parents[2] / "policies"
KEY_PLACEHOLDER = (
    "-----BEGIN PUBLIC KEY-----\n{indent}REPLACE-WITH-THE-GATE-PUBLIC-KEY\n{indent}-----END PUBLIC KEY-----"
)
TOOLS = Path.home() / ".cache" / "plugingate" / "tools"


@dataclass(frozen=True)
class Images:
    """Image references (``127.0.0.1:PORT/plugins/...@sha256:...``) in each state."""

    registry: str
    attested: str
    unattested: str
    denied: str
    expired: str
    mixed: str  # one passing and one failing gate attestation
    public_key_pem: str


def tool(env: str, name: str, version: str) -> str:
    """``$ENV``, else ``~/.cache/plugingate/tools/<name>-<version>/<name>``; skip with the way to get it."""
    path = os.environ.get(env) or str(TOOLS / f"{name}-{version}" / name)
    if not Path(path).is_file():
        pytest.skip(f"{name} {version} not found at {path}: run scripts/setup-admission-tools (or set {env})")
    return path


def render(policy: Path, public_key_pem: str, registry: str) -> str:
    """A shipped policy with the test's gate key and registry in place of the placeholders."""
    text = policy.read_text()
    for indent in ("                          ", "          "):
        placeholder = KEY_PLACEHOLDER.format(indent=indent)
        if placeholder in text:
            key = ("\n" + indent).join(public_key_pem.strip().splitlines())
            text = text.replace(placeholder, key)
    assert "REPLACE-WITH" not in text, "the key placeholder was not found"
    return text.replace("registry.example.com/plugins", f"{registry}/plugins")


def _sign_and_attach(
    client: RegistryClient, ref: str, key_pem: bytes, out: Path, *, passed: bool, expired: bool = False
) -> None:
    from attestation.conftest import make_predicate

    changes: dict[str, object] = {"passed": passed}
    if not passed:
        changes["violations"] = ["PG-CAP-010"]
    if expired:
        then = datetime.now(UTC) - timedelta(days=40)
        changes.update(evaluated_at=then, valid_until=then + timedelta(days=30))
    image = parse_image_ref(ref)
    statement = gate_statement(
        bundle_name="acme-exporter.tgz",
        bundle_sha256=hashlib.sha256(b"bundle").hexdigest(),
        image_digests=[(ref, image.digest)],
        predicate=make_predicate(**changes),
    )
    jsonl = sign_statements([statement], key=private_key_from_pem(key_pem, password=None), out_dir=out)[0]
    attach(client, image, read_attestations(jsonl.read_bytes(), source=str(jsonl)))


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Images]:
    """Start the registry, push five images, and attest four of them with a fresh gate key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    work = tmp_path_factory.mktemp("admission")
    registry = start_registry(work / "registry")
    try:
        key = ec.generate_private_key(ec.SECP256R1())
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        client = RegistryClient(registry.host)
        refs = {}
        for name in ("attested", "unattested", "denied", "expired", "mixed"):
            digest = push_test_image(registry.host, f"plugins/{name}", f"{name} image".encode())
            refs[name] = f"{registry.host}/plugins/{name}@{digest}"
        _sign_and_attach(client, refs["attested"], private, work / "a", passed=True)
        _sign_and_attach(client, refs["denied"], private, work / "d", passed=False)
        _sign_and_attach(client, refs["expired"], private, work / "e", passed=True, expired=True)
        _sign_and_attach(client, refs["mixed"], private, work / "m1", passed=True)
        _sign_and_attach(client, refs["mixed"], private, work / "m2", passed=False)
        yield Images(registry=registry.host, public_key_pem=public, **refs)
    finally:
        registry.stop()
