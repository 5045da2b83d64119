"""The gate's signature and provenance steps, driven by the policy model's sections."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from plugingate.errors import UndecidedError
from plugingate.findings import Step
from plugingate.keys import generate_key_pair, load_private_key, public_key_from_pem
from plugingate.policy import model
from plugingate.result import StepStatus
from plugingate.signature.identity import KeylessIdentity, TrustedSigner
from plugingate.signature.sign import sign_with_key
from plugingate.signature.step import signature_step, verify_bundle_signature
from tests.conftest import FIXTURES

FIX = FIXTURES / "sigstore"
WHEEL = "sha256:c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201"
WHEEL_ID = "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
GH = "https://token.actions.githubusercontent.com"


@pytest.fixture
def signed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.setenv("PLUGINGATE_PASSWORD", "")
    pair = generate_key_pair(b"")
    (tmp_path / "k.key").write_bytes(pair.private_pem)
    archive = tmp_path / "acme.tgz"
    archive.write_bytes(b"bundle archive bytes")
    sign_with_key(archive, load_private_key(tmp_path / "k.key"))
    return {
        "archive": archive,
        "digest": "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest(),
        "pem": pair.public_pem.decode(),
        "other": generate_key_pair(b"").public_pem.decode(),
    }


def _key_policy(pem: str, **kw: object) -> model.SignaturePolicy:
    signer = TrustedSigner(name="acme-release-key", key=public_key_from_pem(pem.encode(), source="keys/acme.pub"))
    return model.SignaturePolicy(trusted_signers=(signer,), **kw)  # type: ignore[arg-type]


def test_key_signed_bundle_passes(signed: dict[str, object]) -> None:
    archive = signed["archive"]
    assert isinstance(archive, Path)
    for kwargs in (
        {"bundle": Path(f"{archive}.sigstore.json"), "signature": None},
        {"bundle": None, "signature": Path(f"{archive}.sig")},
    ):
        result = verify_bundle_signature(archive, str(signed["digest"]), _key_policy(str(signed["pem"])), **kwargs)
        assert result.verified and not result.findings
        assert result.trusted_signer == "acme-release-key"
        assert result.to_dict()["signer"]["kind"] == "key"  # type: ignore[index]


def test_untrusted_key_is_denied_naming_both(signed: dict[str, object]) -> None:
    archive = signed["archive"]
    assert isinstance(archive, Path)
    result = verify_bundle_signature(
        archive, str(signed["digest"]), _key_policy(str(signed["other"])), bundle=None, signature=Path(f"{archive}.sig")
    )
    assert not result.verified
    assert [f.rule_id for f in result.findings] == ["PG-SIG-001"]
    assert "keys/acme.pub" in result.findings[0].message


def test_missing_signature_and_no_signers(signed: dict[str, object]) -> None:
    archive = signed["archive"]
    assert isinstance(archive, Path)
    result = verify_bundle_signature(
        archive, str(signed["digest"]), _key_policy(str(signed["pem"])), bundle=None, signature=None
    )
    assert [f.rule_id for f in result.findings] == ["PG-SIG-004"]
    optional = _key_policy(str(signed["pem"]), required=False)
    assert verify_bundle_signature(archive, str(signed["digest"]), optional, bundle=None, signature=None).findings == ()
    nobody = model.SignaturePolicy()
    result = verify_bundle_signature(
        archive, str(signed["digest"]), nobody, bundle=None, signature=Path(f"{archive}.sig")
    )
    assert [f.rule_id for f in result.findings] == ["PG-SIG-006"]


def test_keyless_policy_identity(signed: dict[str, object]) -> None:
    trusted = TrustedSigner(name="rfc8785", keyless=KeylessIdentity(issuer=GH, identity=WHEEL_ID))
    result = verify_bundle_signature(
        None,
        WHEEL,
        model.SignaturePolicy(trusted_signers=(trusted,), offline=True),
        bundle=FIX / "bundle_v3_github.whl.sigstore",
        signature=None,
    )
    assert result.verified, result.findings
    assert result.signer is not None and result.signer.claims is not None
    assert result.signer.claims.san == WHEEL_ID
    other = TrustedSigner(
        name="acme", keyless=KeylessIdentity(issuer=GH, identity_regex=r"https://github\.com/acme/.+")
    )
    result = verify_bundle_signature(
        None,
        WHEEL,
        model.SignaturePolicy(trusted_signers=(other,), offline=True),
        bundle=FIX / "bundle_v3_github.whl.sigstore",
        signature=None,
    )
    assert [f.rule_id for f in result.findings] == ["PG-SIG-008"]  # same issuer, another identity
    assert WHEEL_ID in result.findings[0].message and "acme" in result.findings[0].message


def test_unreadable_trusted_root_raises_undecided(tmp_path: Path) -> None:
    trusted = TrustedSigner(name="rfc8785", keyless=KeylessIdentity(issuer=GH, identity=WHEEL_ID))
    section = model.SignaturePolicy(trusted_signers=(trusted,), trusted_root=tmp_path / "missing.json")
    with pytest.raises(UndecidedError):
        verify_bundle_signature(None, WHEEL, section, bundle=FIX / "bundle_v3_github.whl.sigstore", signature=None)


def _ctx(archive: Path, digest: str, policy: object, signature: Path | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        bundle=SimpleNamespace(source=archive, sha256=digest.removeprefix("sha256:")),
        request=SimpleNamespace(policy=policy, signature=signature, provenance=None),
    )


def test_gate_adapter_finds_the_bundle_beside(signed: dict[str, object]) -> None:
    archive = signed["archive"]
    assert isinstance(archive, Path)
    policy = SimpleNamespace(signature=_key_policy(str(signed["pem"])))
    step = signature_step(_ctx(archive, str(signed["digest"]), policy))  # type: ignore[arg-type]
    assert step.step is Step.SIGNATURE and step.status is StepStatus.PASSED
    assert step.details["trustedSigner"] == "acme-release-key"
    Path(f"{archive}.sigstore.json").unlink()
    step = signature_step(_ctx(archive, str(signed["digest"]), policy))  # type: ignore[arg-type]
    assert step.status is StepStatus.PASSED  # NOTE: falls back to BUNDLE.sig
    Path(f"{archive}.sig").unlink()
    step = signature_step(_ctx(archive, str(signed["digest"]), policy))  # type: ignore[arg-type]
    assert step.status is StepStatus.FAILED and step.findings[0].rule_id == "PG-SIG-004"


def test_gate_adapter_given_signature_is_sniffed(signed: dict[str, object], tmp_path: Path) -> None:
    archive = signed["archive"]
    assert isinstance(archive, Path)
    policy = SimpleNamespace(signature=_key_policy(str(signed["pem"])))
    moved = tmp_path / "given.json"
    Path(f"{archive}.sigstore.json").rename(moved)
    assert json.loads(moved.read_text())["mediaType"]
    step = signature_step(_ctx(archive, str(signed["digest"]), policy, signature=moved))  # type: ignore[arg-type]
    assert step.status is StepStatus.PASSED


def test_provenance_gate_adapter(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    from plugingate.dsse import sign_envelope
    from plugingate.keys import public_pem
    from plugingate.provenance.step import provenance_step

    key = ec.generate_private_key(ec.SECP256R1())
    archive = tmp_path / "acme.tgz"
    archive.write_bytes(b"archive")
    digest = hashlib.sha256(b"archive").hexdigest()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "acme.tgz", "digest": {"sha256": digest}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "externalParameters": {
                    "workflow": {"repository": "https://github.com/acme/exporter", "ref": "refs/tags/v1.4.2"}
                }
            },
            "runDetails": {"builder": {"id": "https://ci.acme.example/builder@v2"}},
        },
    }
    env = sign_envelope(json.dumps(statement).encode(), "application/vnd.in-toto+json", key)
    (tmp_path / "acme.tgz.intoto.jsonl").write_text(json.dumps(env) + "\n")
    signer = TrustedSigner(name="acme-key", key=public_key_from_pem(public_pem(key.public_key()), source="acme-key"))
    sig = model.SignaturePolicy(trusted_signers=(signer,))
    good = model.ProvenancePolicy(
        required=True,
        trusted_builders=("https://ci.acme.example/builder@",),
        source_repositories=("github.com/acme/exporter",),
        source_refs=("v1.4.2",),
    )
    step = provenance_step(_ctx(archive, digest, SimpleNamespace(signature=sig, provenance=good)))  # type: ignore[arg-type]
    assert step.status is StepStatus.PASSED, step.summary
    assert step.details["sourceRepository"] == "github.com/acme/exporter"
    bad = model.ProvenancePolicy(
        required=True,
        trusted_builders=("https://slsa.example/builder@v1",),
        source_repositories=("github.com/acme/other",),
    )
    step = provenance_step(_ctx(archive, digest, SimpleNamespace(signature=sig, provenance=bad)))  # type: ignore[arg-type]
    assert step.status is StepStatus.FAILED
    assert {f.rule_id for f in step.findings} == {"PG-PRV-002", "PG-PRV-003"}
    (tmp_path / "acme.tgz.intoto.jsonl").unlink()
    step = provenance_step(_ctx(archive, digest, SimpleNamespace(signature=sig, provenance=good)))  # type: ignore[arg-type]
    assert [f.rule_id for f in step.findings] == ["PG-PRV-008"]
