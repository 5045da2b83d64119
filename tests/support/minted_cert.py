"""Keyless signatures made with a certificate outside its validity, through the real private Sigstore.

``mint_certificate`` copies a certificate the private Fulcio really issued (its Fulcio profile:
SAN, OIDC issuer extensions, key usages) onto a new key with chosen dates, signs it with the file
CA's key under the same root, and gets it an SCT from the real CT log (a precertificate with the
poison extension, then the final certificate with the SCT list). ``sign_with`` then signs through
sigstore-python's own signing flow with that certificate instead of asking Fulcio: the real TSA
timestamps the signature and the real Rekor logs it (neither checks the certificate's dates), so
the bundle is genuine in every respect but one — the certificate was not valid when it signed.
"""

from __future__ import annotations

import base64
import json
import struct
import urllib.request
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.sigstore_local import LocalSigstore

SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")


def _der_octet_string(data: bytes) -> bytes:
    size = len(data)
    if size < 0x80:
        length = bytes([size])
    else:
        raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return b"\x04" + length + data


def _sct_list(response: dict[str, Any]) -> bytes:
    """RFC 6962 SignedCertificateTimestampList (TLS encoding) holding one SCT from add-pre-chain's answer."""
    extensions = base64.b64decode(response.get("extensions") or "")
    sct = (
        bytes([int(response["sct_version"])])
        + base64.b64decode(response["id"])
        + struct.pack(">Q", int(response["timestamp"]))
        + struct.pack(">H", len(extensions))
        + extensions
        + base64.b64decode(response["signature"])
    )
    entry = struct.pack(">H", len(sct)) + sct
    return struct.pack(">H", len(entry)) + entry


def _builder(
    template: x509.Certificate, key: ec.EllipticCurvePrivateKey, serial: int, not_before: datetime, not_after: datetime
) -> x509.CertificateBuilder:
    builder = (
        x509.CertificateBuilder()
        .subject_name(template.subject)
        .issuer_name(template.issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for extension in template.extensions:
        if extension.oid == SCT_LIST_OID:
            continue
        value: x509.ExtensionType = extension.value
        if isinstance(value, x509.SubjectKeyIdentifier):
            value = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = builder.add_extension(value, critical=extension.critical)
    return builder


def mint_certificate(
    sigstore: LocalSigstore, template: x509.Certificate, *, not_before: datetime, not_after: datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A new key and a certificate for it like ``template`` but valid from ``not_before`` to ``not_after``."""
    ca_key, root = sigstore.ca_key, sigstore.ca_root
    key = ec.generate_private_key(ec.SECP256R1())
    serial = x509.random_serial_number()
    precert = (
        _builder(template, key, serial, not_before, not_after)
        .add_extension(x509.PrecertPoison(), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    chain = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in (precert, root)]
    request = urllib.request.Request(
        f"{sigstore.ct_url}/ct/v1/add-pre-chain",
        data=json.dumps({"chain": chain}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        sct = json.loads(answer.read())
    extension = x509.UnrecognizedExtension(SCT_LIST_OID, _der_octet_string(_sct_list(sct)))
    cert = (
        _builder(template, key, serial, not_before, not_after)
        .add_extension(extension, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def sign_with(
    sigstore: LocalSigstore, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, *, artifact: bytes | None = None,
    statement: dict[str, Any] | None = None,
) -> str:  # fmt: skip
    """A Sigstore bundle (JSON) of ``artifact`` (message signature) or ``statement`` (DSSE) signed with
    ``key`` under ``cert``, timestamped and logged by the private instance."""
    from sigstore import dsse
    from sigstore.models import ClientTrustConfig
    from sigstore.sign import Signer, SigningContext

    class _MintedSigner(Signer):
        # NOTE: sigstore-python's flow with Fulcio's part replaced: the key and certificate are ours.
        def __init__(self, context: SigningContext) -> None:
            self._identity_token = None  # type: ignore[assignment]
            self._signing_ctx = context
            self._Signer__cached_private_key = key
            self._Signer__cached_signing_certificate = None

        def _signing_cert(self) -> x509.Certificate:
            return cert

    config = ClientTrustConfig.from_json(sigstore.trust_config.read_text())
    signer = _MintedSigner(SigningContext.from_trust_config(config))
    if statement is not None:
        bundle = signer.sign_dsse(dsse.Statement(json.dumps(statement).encode()))
    else:
        assert artifact is not None
        bundle = signer.sign_artifact(artifact)
    return bundle.to_json()
