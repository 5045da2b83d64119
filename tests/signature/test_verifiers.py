"""The signature verifier registries: which verifier reads what, and that a form cannot pass for another.

Real signatures throughout (a DSSE envelope and a raw cosign-style signature made with a fresh key);
the Sigstore bundle forms are exercised against the conformance fixtures by the other signature tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from plugingate.errors import VerificationError
from plugingate.keys import public_key_from_pem, public_pem, sign_bytes
from plugingate.signature import rules
from plugingate.signature.artifact import Artifact
from plugingate.signature.identity import TrustedSigner
from plugingate.signature.trust import TrustSettings
from plugingate.signature.verifiers import (
    BUNDLE_FORMS,
    SIGNATURE_FILES,
    VERIFIERS,
    SignatureFileKind,
    SignatureForm,
    VerificationRequest,
    find_beside,
    recognise,
    verify_document,
)

DATA = b"plugin bundle bytes"


@pytest.fixture(scope="module")
def key() -> object:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def request(key: object, source: str = "sig") -> VerificationRequest:
    pub = public_key_from_pem(public_pem(key.public_key()), source="test.pub")  # type: ignore[attr-defined]
    artifact = Artifact(name="b.tgz", digests={"sha256": hashlib.sha256(DATA).hexdigest()})
    return VerificationRequest(
        artifact, [TrustedSigner(name="test-key", key=pub)], TrustSettings(offline=True), source=source
    )


def envelope(key: object, digest: str) -> dict[str, object]:
    from plugingate.dsse import sign_envelope

    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "b.tgz", "digest": {"sha256": digest}}],
        "predicateType": "https://example.test/v1",
        "predicate": {},
    }
    return sign_envelope(json.dumps(statement).encode(), "application/vnd.in-toto+json", key)  # type: ignore[arg-type]


def test_the_registries_have_one_verifier_per_form_in_order() -> None:
    assert [v.form for v in VERIFIERS] == list(SignatureForm)
    assert [f.kind for f in SIGNATURE_FILES] == list(SignatureFileKind)
    assert {SignatureForm.KEY_BUNDLE, SignatureForm.KEYLESS_BUNDLE} == BUNDLE_FORMS


def test_a_dsse_envelope_goes_to_the_dsse_verifier(key: object) -> None:
    verified = verify_document(envelope(key, hashlib.sha256(DATA).hexdigest()), request(key))
    assert verified.trusted_signer.name == "test-key"
    assert verified.verified is not None and verified.verified.payload_type == "application/vnd.in-toto+json"
    assert verified.verified.transparency_log is False


def test_a_dsse_envelope_about_another_artifact_is_refused(key: object) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_document(envelope(key, "0" * 64), request(key))
    assert caught.value.rule_id == rules.ARTIFACT_MISMATCH.id


def test_a_dsse_envelope_cannot_pass_where_only_bundles_are_allowed(key: object) -> None:
    # NOTE: given as a Sigstore bundle, an envelope is read as one (and is not a valid one).
    with pytest.raises(VerificationError) as caught:
        verify_document(envelope(key, hashlib.sha256(DATA).hexdigest()), request(key), BUNDLE_FORMS)
    assert caught.value.rule_id == rules.INVALID_BUNDLE.id


def test_a_dsse_envelope_signed_by_another_key_is_refused(key: object) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(VerificationError) as caught:
        verify_document(envelope(other, hashlib.sha256(DATA).hexdigest()), request(key))
    assert caught.value.rule_id == rules.SIGNATURE_INVALID.id


def test_files_beside_a_bundle_are_found_in_the_registrys_order(tmp_path: Path) -> None:
    bundle = tmp_path / "b.tgz"
    bundle.write_bytes(DATA)
    assert find_beside(bundle) is None
    (tmp_path / "b.tgz.sig").write_text("c2ln\n")
    found = find_beside(bundle)
    assert found is not None and found.kind is SignatureFileKind.COSIGN_SIGNATURE
    (tmp_path / "b.tgz.sigstore").write_text("{}")
    found = find_beside(bundle)
    assert found is not None and (found.path.name, found.kind) == ("b.tgz.sigstore", SignatureFileKind.SIGSTORE_BUNDLE)
    (tmp_path / "b.tgz.sigstore.json").write_text("{}")
    found = find_beside(bundle)
    assert found is not None and found.path.name == "b.tgz.sigstore.json"


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b'{"mediaType": "x"}', SignatureFileKind.SIGSTORE_BUNDLE),
        (b'  \n {"mediaType": "x"}', SignatureFileKind.SIGSTORE_BUNDLE),
        (b"MEUCIQ==\n", SignatureFileKind.COSIGN_SIGNATURE),
        (b"", SignatureFileKind.COSIGN_SIGNATURE),
    ],
)
def test_a_given_file_is_recognised_by_its_first_bytes(tmp_path: Path, content: bytes, kind: SignatureFileKind) -> None:
    path = tmp_path / "given"
    path.write_bytes(content)
    assert recognise(path).kind is kind
    assert recognise(tmp_path / "missing").kind is SignatureFileKind.COSIGN_SIGNATURE


def test_a_raw_signature_verifies_through_its_file_kind(tmp_path: Path, key: object) -> None:
    path = tmp_path / "b.tgz.sig"
    path.write_text(base64.b64encode(sign_bytes(key, DATA)).decode())  # type: ignore[arg-type]
    found = recognise(path)
    assert found.verify(request(key, str(path))).trusted_signer.name == "test-key"
    # NOTE: the same bytes named a Sigstore bundle are read as one, and refused as one.
    bundle = tmp_path / "b.tgz.sigstore.json"
    bundle.write_bytes(path.read_bytes())
    with pytest.raises(VerificationError) as caught:
        type(found)(bundle, SignatureFileKind.SIGSTORE_BUNDLE).verify(request(key, str(bundle)))
    assert caught.value.rule_id == rules.INVALID_BUNDLE.id
