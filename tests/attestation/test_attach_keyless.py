"""cosign's keyless annotations on an ``.att`` layer, from a Sigstore bundle (offline).

The annotated layers are verified by Kyverno's ClusterPolicy, policy-controller and cosign against a
private Sigstore in tests/keyless/test_keyless_admission.py; these check what is written, and what
cannot be written (a bundle without a Rekor inclusion promise).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from plugingate.oci.attach import (
    CERTIFICATE_ANNOTATION,
    CHAIN_ANNOTATION,
    REKOR_BUNDLE_ANNOTATION,
    read_attestations,
)

DER = b"\x30\x03\x02\x01\x01"  # not parsed: copied into PEM as it is
STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "predicateType": "https://plugingate.dev/attestation/gate/v2",
    "subject": [{"name": "i", "digest": {"sha256": "a" * 64}}],
    "predicate": {},
}


def _bundle(material: dict[str, Any]) -> bytes:
    envelope = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64.b64encode(json.dumps(STATEMENT).encode()).decode(),
        "signatures": [{"sig": "AA=="}],
    }
    return json.dumps(
        {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": material,
         "dsseEnvelope": envelope}
    ).encode()  # fmt: skip


def _entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "logIndex": "7",
        "logId": {"keyId": base64.b64encode(bytes(range(32))).decode()},
        "kindVersion": {"kind": "dsse", "version": "0.0.1"},
        "integratedTime": "1700000000",
        "inclusionPromise": {"signedEntryTimestamp": "c2V0"},
        "canonicalizedBody": "Ym9keQ==",
    }
    entry.update(changes)
    return entry


def test_certificate_and_signed_entry_timestamp() -> None:
    cert = {"rawBytes": base64.b64encode(DER).decode()}
    (att,) = read_attestations(_bundle({"certificate": cert, "tlogEntries": [_entry()]}), source="b.json")
    annotations = att.legacy_annotations
    assert annotations is not None
    assert annotations[CERTIFICATE_ANNOTATION].startswith("-----BEGIN CERTIFICATE-----\n")
    assert CHAIN_ANNOTATION not in annotations
    rekor = json.loads(annotations[REKOR_BUNDLE_ANNOTATION])
    assert rekor == {
        "SignedEntryTimestamp": "c2V0",
        "Payload": {"body": "Ym9keQ==", "integratedTime": 1700000000, "logIndex": 7, "logID": bytes(range(32)).hex()},
    }


def test_a_v01_chain_gives_the_chain_annotation() -> None:
    chain = {"certificates": [{"rawBytes": base64.b64encode(DER).decode()}] * 2}
    (att,) = read_attestations(_bundle({"x509CertificateChain": chain, "tlogEntries": [_entry()]}), source="b.json")
    assert att.legacy_annotations is not None and CHAIN_ANNOTATION in att.legacy_annotations


def test_what_cannot_be_written_in_the_legacy_layout() -> None:
    cert = {"rawBytes": base64.b64encode(DER).decode()}
    no_promise = _entry()
    del no_promise["inclusionPromise"]
    for material in (
        {"certificate": cert, "tlogEntries": [no_promise]},  # a Rekor v2 entry: no signed entry timestamp
        {"certificate": cert, "tlogEntries": []},
        {"publicKey": {"hint": "k"}, "tlogEntries": [_entry()]},  # a key-signed bundle: no certificate
    ):
        (att,) = read_attestations(_bundle(material), source="b.json")
        assert att.legacy_annotations is None
