"""DSSE envelopes signed and verified with keys, in the form cosign writes and reads.

An envelope is ``{"payloadType", "payload" (base64), "signatures": [{"keyid": "", "sig"}]}``; the
signature covers the pre-authentication encoding (PAE) of the type and the payload. cosign writes
``"keyid": ""``, and securesystemslib only tries keys whose id equals the signature's, so the
envelope is verified here with ``cryptography`` directly: every trusted key is tried against every
signature (bounded), and the first match wins.

The attestation step signs with ``sign_envelope``; the provenance step verifies with
``verify_envelope``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plugingate.errors import InputError, VerificationError
from plugingate.keys import LoadedPublicKey, sign_bytes, verify_bytes

if TYPE_CHECKING:
    from plugingate.keys import PrivateKey

# NOTE: an envelope holds one statement; provenance and gate attestations are tens of kilobytes.
MAX_ENVELOPE_BYTES = 8 * 1024 * 1024
MAX_SIGNATURES = 16
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """The DSSE v1 pre-authentication encoding of ``payload_type`` and ``payload``."""
    type_bytes = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def sign_envelope(payload: bytes, payload_type: str, key: PrivateKey) -> dict[str, Any]:
    """A DSSE envelope of ``payload`` signed with ``key``, as cosign writes it (``keyid: ""``)."""
    signature = sign_bytes(key, pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
    }


@dataclass(frozen=True, slots=True)
class VerifiedEnvelope:
    """A verified envelope: its payload type, payload, and the key that signed it."""

    payload_type: str
    payload: bytes
    key: LoadedPublicKey


def parse_envelope(envelope: dict[str, Any] | bytes, *, source: str = "<envelope>") -> dict[str, Any]:
    """Parse and shape-check an envelope (bounded); raises ``InputError`` naming the field."""
    if isinstance(envelope, bytes | bytearray):
        if len(envelope) > MAX_ENVELOPE_BYTES:
            raise InputError(f"DSSE envelope is larger than {MAX_ENVELOPE_BYTES} bytes", path=source)
        try:
            doc = json.loads(envelope)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            line = getattr(exc, "lineno", None)
            raise InputError(f"not JSON: {exc}", path=source, line=line) from exc
    else:
        doc = envelope
    if not isinstance(doc, dict):
        raise InputError("a DSSE envelope must be a JSON object", path=source)
    if not isinstance(doc.get("payloadType"), str):
        raise InputError("missing or non-string", path=source, field="payloadType")
    if not isinstance(doc.get("payload"), str):
        raise InputError("missing or non-string", path=source, field="payload")
    sigs = doc.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise InputError("must be a non-empty list", path=source, field="signatures")
    if len(sigs) > MAX_SIGNATURES:
        raise InputError(f"more than {MAX_SIGNATURES} signatures", path=source, field="signatures")
    for i, sig in enumerate(sigs):
        if not isinstance(sig, dict) or not isinstance(sig.get("sig"), str):
            raise InputError("missing or non-string", path=source, field=f"signatures[{i}].sig")
    return doc


def _b64(value: str, *, source: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InputError("not base64", path=source, field=field) from exc


def verify_envelope_with(
    envelope: dict[str, Any] | bytes, keys: Iterable[LoadedPublicKey], *, source: str = "<envelope>"
) -> VerifiedEnvelope:
    """Verify an envelope against trusted keys; any one key's valid signature is enough.

    Raises ``VerificationError`` (PG-SIG-003) naming the keys tried when no signature verifies.
    """
    doc = parse_envelope(envelope, source=source)
    payload_type: str = doc["payloadType"]
    payload = _b64(doc["payload"], source=source, field="payload")
    message = pae(payload_type, payload)
    key_list = list(keys)
    if not key_list:
        raise VerificationError(f"{source}: no trusted key to verify the DSSE envelope with", rule_id="PG-SIG-003")
    signatures = [_b64(s["sig"], source=source, field=f"signatures[{i}].sig") for i, s in enumerate(doc["signatures"])]
    for key in key_list:
        for sig in signatures:
            if verify_bytes(key.key, sig, message):
                return VerifiedEnvelope(payload_type=payload_type, payload=payload, key=key)
    tried = ", ".join(k.describe() for k in key_list)
    raise VerificationError(
        f"{source}: no signature of the DSSE envelope ({len(signatures)} found) verifies with a trusted key;"
        f" expected a signature by one of: {tried}",
        rule_id="PG-SIG-003",
        hint="the envelope was signed by another key, or it was altered after signing",
    )


def verify_envelope(envelope: dict[str, Any] | bytes, keys: Iterable[LoadedPublicKey]) -> tuple[str, bytes]:
    """Verify an envelope against trusted keys; returns ``(payload_type, payload)``.

    The caller must still check the payload type and the statement inside (subject, predicate).
    """
    verified = verify_envelope_with(envelope, keys)
    return verified.payload_type, verified.payload
