"""Shared pieces of the attestation tests: a gate predicate, key pairs, a signed attestation file."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from plugingate.attestation.predicate import (
    BundleRef,
    CheckRecord,
    CheckStatus,
    GatePredicate,
    PluginRef,
    PolicyRef,
    ToolVersions,
    VulnerabilitySummary,
    compute_valid_until,
)
from plugingate.attestation.signing import sign_statements
from plugingate.attestation.statement import gate_statement, sbom_statement
from plugingate.keys import private_key_from_pem
from plugingate.policy.model import Mode, VulnException
from plugingate.signature.identity import CertificateClaims, SignerIdentity, SignerKind
from plugingate.signature.result import SignatureResult

POLICY_SHA = hashlib.sha256(b"policy").hexdigest()
IMAGE_DIGEST = "sha256:" + hashlib.sha256(b"image").hexdigest()


def make_predicate(**changes: Any) -> GatePredicate:
    """A realistic passing predicate evaluated now, valid for 30 days (changes override fields)."""
    now = datetime.now(UTC).replace(microsecond=0)
    exception = VulnException(
        id="GHSA-abcd-efgh-ijkl", package="pkg:pypi/requests", expires=date(2099, 1, 31), reason="not reachable"
    )
    base = GatePredicate(
        passed=True,
        mode=Mode.ENFORCE,
        policy=PolicyRef(name="default", sha256=POLICY_SHA, version="1"),
        plugingate_version="0.1.0",
        tools=ToolVersions(syft="1.57.1", grype="0.121.2", grype_db_built=now - timedelta(hours=3)),
        signature=CheckRecord(
            status=CheckStatus.VERIFIED,
            required=True,
            result=SignatureResult(
                findings=(),
                signer=SignerIdentity(
                    kind=SignerKind.KEYLESS,
                    claims=CertificateClaims(
                        san="https://github.com/acme/exporter/.github/workflows/release.yml@refs/heads/main",
                        issuer="https://token.actions.githubusercontent.com",
                    ),
                ),
                trusted_signer="acme-ci",
            ),
        ),
        provenance=CheckRecord(status=CheckStatus.ABSENT, required=False),
        capabilities={"network": {"egress": [{"host": "api.acme.example", "ports": [443]}]}},
        vulnerabilities=VulnerabilitySummary(
            counts={"high": 0, "medium": 2}, fail_on="high", suppressed=1, exceptions_applied=[exception]
        ),
        sbom_sha256=hashlib.sha256(b"sbom").hexdigest(),
        evaluated_at=now,
        valid_until=compute_valid_until(now, timedelta(hours=720), [exception.expires]),
        plugin=PluginRef(name="acme-exporter", version="1.4.2", publisher="acme.example"),
        bundle=BundleRef(name="acme-exporter-1.4.2.tgz", sha256=hashlib.sha256(b"bundle").hexdigest()),
    )
    return replace(base, **changes)


@pytest.fixture(scope="session")
def ec_key_pem() -> tuple[bytes, bytes]:
    """An unencrypted ECDSA P-256 key pair (private PKCS#8 PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return _pems(key, serialization)


@pytest.fixture(scope="session")
def ed_key_pem() -> tuple[bytes, bytes]:
    """An unencrypted Ed25519 key pair."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return _pems(ed25519.Ed25519PrivateKey.generate(), serialization)


def _pems(key: Any, serialization: Any) -> tuple[bytes, bytes]:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


@pytest.fixture()
def pub(tmp_path: Path, ec_key_pem: tuple[bytes, bytes]) -> Path:
    """The public half of ``ec_key_pem``, as the file a verifier is given."""
    path = tmp_path / "gate.pub"
    path.write_bytes(ec_key_pem[1])
    return path


@pytest.fixture()
def bundle_file(tmp_path: Path) -> Path:
    """A stand-in bundle archive (its bytes only matter for the digest)."""
    path = tmp_path / "acme-exporter-1.4.2.tgz"
    path.write_bytes(b"\x1f\x8b not really a tarball, but a file with a digest")
    return path


SignFn = Callable[..., Path]


@pytest.fixture()
def sign_gate(tmp_path: Path, bundle_file: Path, ec_key_pem: tuple[bytes, bytes]) -> SignFn:
    """Sign a gate statement (plus an SBOM statement) about ``bundle_file``; returns the JSONL path."""

    def sign(predicate: GatePredicate | None = None, *, key_pem: bytes | None = None, name: str = "out") -> Path:
        digest = hashlib.sha256(bundle_file.read_bytes()).hexdigest()
        statements = [
            sbom_statement(
                bundle_name=bundle_file.name,
                bundle_sha256=digest,
                image_digests=[("registry.example.com/acme/exporter", IMAGE_DIGEST)],
                sbom={"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []},
            ),
            gate_statement(
                bundle_name=bundle_file.name,
                bundle_sha256=digest,
                image_digests=[("registry.example.com/acme/exporter@" + IMAGE_DIGEST, IMAGE_DIGEST)],
                predicate=predicate or make_predicate(),
            ),
        ]
        key = private_key_from_pem(key_pem or ec_key_pem[0], password=None)
        out = tmp_path / name
        return sign_statements(statements, key=key, out_dir=out)[0]

    return sign
