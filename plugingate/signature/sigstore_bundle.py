"""Sigstore bundles: keyless ones with the ``sigstore`` library, managed-key ones verified here.

The library verifies keyless bundles v0.1 to v0.3 (message signatures and DSSE). Three gaps are
closed by a small subclass of its ``Verifier`` (in ``sigstore_adapter``, with every other use of the
library's private API):

- ``intoto/0.0.2`` log entries (older npm provenance, some DSSE bundles): the integrated time is
  accepted and the entry body is checked against the envelope (payload hash, signatures, certificate).
- A timestamp exactly at the end of its authority's validity is valid (the trusted root's ``validFor``
  is a closed interval; the library treats the end as open).

Bundles whose verification material is a public-key hint (``cosign sign-blob --key --bundle``, the
managed-key cases of sigstore-conformance) are not verified by the library at all; they are here:
the signature against the trusted key, the message digest against the artifact, and each log entry
(inclusion proof, checkpoint, promise) against the trusted root with a body consistent with the rest.

The cryptographic verification accepts any certificate identity; the identity is matched against
the trusted signers afterwards (``identity.match_signer``), so that a denial can name who signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from plugingate.errors import InputError, VerificationError
from plugingate.keys import LoadedPublicKey, key_hint, public_key_from_pem, same_key, verify_bytes
from plugingate.signature import rules
from plugingate.signature.artifact import Artifact, signature_matches
from plugingate.signature.identity import SignerIdentity, SignerKind, certificate_claims
from plugingate.signature.sigstore_adapter import (
    load_promise_only_bundle,
    log_entry_body,
    log_entry_kind,
    rekor_keyring,
    verified_signing_times,
    verifier_class,
    verify_log_entry,
    verify_signed_timestamp,
)

if TYPE_CHECKING:
    from cryptography.x509 import Certificate
    from sigstore.models import Bundle, TrustedRoot

MAX_BUNDLE_BYTES = 8 * 1024 * 1024
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_MAX_TLOG_ENTRIES = 8


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    """A bundle whose signature verified: its signer, and for DSSE bundles the payload."""

    signer: SignerIdentity
    payload_type: str | None = None
    payload: bytes | None = None
    transparency_log: bool = True


def read_bundle(data: bytes, *, source: str) -> dict[str, Any]:
    """Parse a bundle's JSON (bounded); not JSON at all is an input error (exit 2)."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise InputError(f"the Sigstore bundle is larger than {MAX_BUNDLE_BYTES} bytes", path=source)
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VerificationError(
            f"{source}: not a Sigstore bundle: invalid JSON ({exc})", rule_id=rules.INVALID_BUNDLE.id
        ) from exc
    if not isinstance(doc, dict):
        raise VerificationError(f"{source}: a Sigstore bundle must be a JSON object", rule_id=rules.INVALID_BUNDLE.id)
    return doc


def uses_public_key(doc: dict[str, Any]) -> bool:
    """Whether the bundle names a public key (managed key) rather than carrying a certificate."""
    material = doc.get("verificationMaterial")
    return isinstance(material, dict) and "publicKey" in material


def _invalid(source: str, what: str, exc: BaseException | None = None) -> VerificationError:
    detail = f": {exc}" if exc is not None else ""
    return VerificationError(f"{source}: {what}{detail}", rule_id=rules.INVALID_BUNDLE.id)


_BUNDLE_V01 = "application/vnd.dev.sigstore.bundle+json;version=0.1"


def _load_bundle(doc: dict[str, Any]) -> Bundle:
    from sigstore.models import Bundle

    return Bundle.from_json(json.dumps(doc))


def _is_v01_promise_only(doc: dict[str, Any]) -> bool:
    """A v0.1 bundle whose log entry has a promise and no inclusion proof (slsa-github-generator < 2)."""
    if doc.get("mediaType") != _BUNDLE_V01:
        return False
    entries = _get_entries(doc)
    return (
        len(entries) == 1
        and isinstance(entries[0], dict)
        and "inclusionPromise" in entries[0]
        and not isinstance(entries[0].get("inclusionProof"), dict)
    )


def _get_entries(doc: dict[str, Any]) -> list[Any]:
    material = doc.get("verificationMaterial")
    entries = material.get("tlogEntries") if isinstance(material, dict) else None
    return entries if isinstance(entries, list) else []


class _AcceptAnyIdentity:
    """A verification policy that records the certificate and accepts it.

    # NOTE: only ever used inside ``verify_keyless``, whose caller matches the recorded identity
    # against the trusted signers before anything is trusted.
    """

    def __init__(self) -> None:
        self.certificate: Certificate | None = None

    def verify(self, cert: Certificate) -> None:
        self.certificate = cert


def _statement_subject_matches(payload: bytes, artifact: Artifact) -> tuple[bool, list[str]]:
    try:
        statement = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False, []
    found: list[str] = []
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    if not isinstance(subjects, list):
        return False, []
    for subject in subjects[:1000]:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        if not isinstance(digest, dict):
            continue
        for alg, value in digest.items():
            if not isinstance(value, str):
                continue
            found.append(f"{alg}:{value}")
            if artifact.digests.get(alg) == value.lower():
                return True, found
    return False, found


def check_subject(payload_type: str, payload: bytes, artifact: Artifact, *, source: str) -> None:
    """A DSSE bundle signs a statement: it must be in-toto and name the artifact as a subject."""
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise VerificationError(
            f"{source}: the DSSE payload type is {payload_type!r}; expected {IN_TOTO_PAYLOAD_TYPE!r}",
            rule_id=rules.INVALID_BUNDLE.id,
        )
    ok, found = _statement_subject_matches(payload, artifact)
    if not ok:
        raise VerificationError(
            f"{source}: the signed statement is about {', '.join(found[:5]) or 'no subject'};"
            f" expected the artifact {artifact.display_digest()}",
            rule_id=rules.ARTIFACT_MISMATCH.id,
            hint="the artifact was changed after signing, or this signature belongs to another artifact",
        )


def _message_digest(doc: dict[str, Any]) -> tuple[str | None, bytes | None]:
    sig = doc.get("messageSignature")
    if not isinstance(sig, dict):
        return None, None
    md = sig.get("messageDigest")
    if not isinstance(md, dict):
        return None, None
    try:
        return str(md.get("algorithm")), base64.b64decode(str(md.get("digest")), validate=True)
    except (binascii.Error, ValueError):
        return None, None


def _check_message_digest(doc: dict[str, Any], artifact: Artifact, source: str) -> None:
    algorithm, digest = _message_digest(doc)
    if digest is None:
        return
    want = artifact.sha256
    if algorithm != "SHA2_256" or want is None:
        return
    if digest.hex() != want:
        raise VerificationError(
            f"{source}: the signature is for an artifact with digest sha256:{digest.hex()};"
            f" expected the artifact {artifact.name} with sha256:{want}",
            rule_id=rules.ARTIFACT_MISMATCH.id,
            hint="the artifact was changed after signing, or this signature belongs to another artifact",
        )


def certificate_validity_problem(bundle: Bundle, verifier: Any, trusted_root: TrustedRoot) -> str | None:
    """Why the signing certificate was not valid when the bundle proves it signed, or None.

    # NOTE: the library refuses such a bundle while building the chain at the signing time ("cert is
    # not valid at validation time"), which says nothing a person can act on; this names it. Only
    # verified times count (``verified_signing_times``): a forged log time stays a log problem.
    """
    cert = bundle.signing_certificate
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    window = f"{cert.not_valid_before_utc.strftime(stamp)} to {cert.not_valid_after_utc.strftime(stamp)}"
    for when in verified_signing_times(verifier, bundle, trusted_root):
        if when > cert.not_valid_after_utc:
            return f"it was signed at {when.strftime(stamp)}, after its certificate expired (valid {window})"
        if when < cert.not_valid_before_utc:
            return f"it was signed at {when.strftime(stamp)}, before its certificate was valid (valid {window})"
    return None


def _classify_failure(
    exc: BaseException, bundle: Bundle, verifier: Any, trusted_root: TrustedRoot, source: str
) -> VerificationError:
    """The library's refusal as a finding: an invalid signature, a certificate not valid when it
    signed, or else a bundle the trusted root does not cover (chain, log entry, timestamps)."""
    text = str(exc)
    if "Signature is invalid for input" in text or "DSSE: invalid signature" in text:
        return VerificationError(
            f"{source}: the Sigstore bundle does not verify: {text}", rule_id=rules.SIGNATURE_INVALID.id
        )
    problem = certificate_validity_problem(bundle, verifier, trusted_root)
    if problem is not None:
        return VerificationError(
            f"{source}: the signing certificate was not valid when it signed: {problem}",
            rule_id=rules.CERTIFICATE_NOT_VALID.id,
            hint="sign again: a keyless certificate is valid for minutes, and the signature must be made, "
            "timestamped and logged while it is",
        )
    return VerificationError(f"{source}: the Sigstore bundle does not verify: {text}", rule_id=rules.INVALID_BUNDLE.id)


def _bundle_and_verifier(doc: dict[str, Any], trusted_root: TrustedRoot, source: str) -> tuple[Bundle, Any]:
    """The bundle as sigstore reads it and a verifier over ``trusted_root`` (``VerificationError`` if either fails)."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import InvalidBundle

    try:
        bundle = load_promise_only_bundle(doc, _get_entries(doc)[0]) if _is_v01_promise_only(doc) else _load_bundle(doc)
    except (InvalidBundle, ValueError) as exc:
        raise _invalid(source, "not a valid Sigstore bundle", exc) from exc
    except Exception as exc:  # NOTE: the model layer raises assorted errors on hostile input
        raise _invalid(source, "not a valid Sigstore bundle", exc) from exc
    try:
        verifier = verifier_class()(trusted_root=trusted_root)
    except SigstoreError as exc:
        raise _invalid(source, "the trusted root cannot verify bundles", exc) from exc
    return bundle, verifier


@dataclass(frozen=True, slots=True)
class VerifiedEnvelope:
    """A certificate-carrying DSSE bundle that verified against the trusted root, any identity."""

    payload_type: str
    payload: bytes
    certificate: Certificate


def verify_dsse_bundle(doc: dict[str, Any], trusted_root: TrustedRoot, *, source: str) -> VerifiedEnvelope:
    """Verify a keyless DSSE bundle (chain, SCT, log entry, timestamps, signature); the identity is
    returned, not judged. Raises ``VerificationError`` with PG-SIG-001, PG-SIG-005 or PG-SIG-009."""
    from sigstore.errors import Error as SigstoreError

    if doc.get("dsseEnvelope") is None:
        raise _invalid(source, "the Sigstore bundle holds no DSSE envelope (an attestation is one)")
    bundle, verifier = _bundle_and_verifier(doc, trusted_root, source)
    policy = _AcceptAnyIdentity()
    try:
        payload_type, payload = verifier.verify_dsse(bundle, policy)
    except SigstoreError as exc:
        raise _classify_failure(exc, bundle, verifier, trusted_root, source) from exc
    except (ValueError, TypeError) as exc:
        raise _invalid(source, "the Sigstore bundle does not verify", exc) from exc
    if policy.certificate is None:
        raise _invalid(source, "the verifier did not examine a signing certificate")
    return VerifiedEnvelope(payload_type=payload_type, payload=payload, certificate=policy.certificate)


def verify_keyless(
    doc: dict[str, Any], artifact: Artifact, trusted_root: TrustedRoot, *, source: str
) -> VerifiedBundle:
    """Verify a certificate-carrying bundle against the trusted root; the identity is not yet trusted."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    bundle, verifier = _bundle_and_verifier(doc, trusted_root, source)
    policy = _AcceptAnyIdentity()
    payload_type: str | None = None
    payload: bytes | None = None
    try:
        if doc.get("dsseEnvelope") is not None:
            payload_type, payload = verifier.verify_dsse(bundle, policy)
        else:
            _check_message_digest(doc, artifact, source)
            data: bytes | Hashed
            if artifact.sha256 is not None:
                data = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(artifact.sha256))
            else:
                raise InputError(
                    f"{source}: a message signature can only be checked against a sha256 digest or the file",
                    hint="pass the artifact file, or its sha256:<hex> digest",
                )
            verifier.verify_artifact(data, bundle, policy)
    except SigstoreError as exc:
        raise _classify_failure(exc, bundle, verifier, trusted_root, source) from exc
    except (ValueError, TypeError) as exc:
        raise _invalid(source, "the Sigstore bundle does not verify", exc) from exc
    if payload_type is not None and payload is not None:
        check_subject(payload_type, payload, artifact, source=source)
    cert = policy.certificate
    if cert is None:
        raise _invalid(source, "the verifier did not examine a signing certificate")
    return VerifiedBundle(
        signer=SignerIdentity(kind=SignerKind.KEYLESS, claims=certificate_claims(cert)),
        payload_type=payload_type,
        payload=payload,
    )


# ---------------------------------------------------------------------------------------------
# Managed-key bundles


def _check_key_entry_body(
    entry: Any,
    key: LoadedPublicKey,
    *,
    signature: bytes,
    sha256_hex: str | None,
    envelope: dict[str, Any] | None,
    envelope_payload: bytes | None,
    envelope_pae: bytes | None,
) -> None:
    """The log entry must record this signature, this key and this artifact (or envelope)."""
    kind, version = log_entry_kind(entry)
    body = log_entry_body(entry)
    spec = body.get("spec", {})
    if (kind, version) == ("hashedrekord", "0.0.1"):
        if envelope is not None:
            raise ValueError("a hashedrekord/0.0.1 entry cannot record a DSSE envelope")
        data_hash = spec["data"]["hash"]
        if data_hash.get("algorithm") != "sha256" or data_hash.get("value") != sha256_hex:
            raise ValueError("the log entry records another artifact digest")
        if base64.b64decode(spec["signature"]["content"], validate=True) != signature:
            raise ValueError("the log entry records another signature")
        recorded = public_key_from_pem(base64.b64decode(spec["signature"]["publicKey"]["content"], validate=True))
        if not same_key(recorded.key, key.key):
            raise ValueError("the log entry records another public key")
        return
    if (kind, version) == ("hashedrekord", "0.0.2"):
        hr = spec["hashedRekordV002"]
        digest = base64.b64decode(hr["data"]["digest"], validate=True)
        expected = (
            hashlib.sha256(envelope_pae).digest()
            if envelope_pae is not None
            else (bytes.fromhex(sha256_hex) if sha256_hex else None)
        )
        if digest != expected:
            raise ValueError("the log entry records another digest")
        if base64.b64decode(hr["signature"]["content"], validate=True) != signature:
            raise ValueError("the log entry records another signature")
        verifier = hr["signature"]["verifier"]
        raw = base64.b64decode(verifier["publicKey"]["rawBytes"], validate=True)
        from cryptography.hazmat.primitives import serialization

        if not same_key(serialization.load_der_public_key(raw), key.key):  # type: ignore[arg-type]
            raise ValueError("the log entry records another public key")
        return
    if (kind, version) == ("dsse", "0.0.1"):
        if envelope_payload is None:
            raise ValueError("a dsse entry needs a DSSE envelope")
        ph = spec["payloadHash"]
        if ph.get("algorithm") != "sha256" or ph.get("value") != hashlib.sha256(envelope_payload).hexdigest():
            raise ValueError("the log entry records another payload")
        recorded_sigs = spec["signatures"]
        if len(recorded_sigs) != 1 or base64.b64decode(recorded_sigs[0]["signature"], validate=True) != signature:
            raise ValueError("the log entry records another signature")
        recorded = public_key_from_pem(base64.b64decode(recorded_sigs[0]["verifier"], validate=True))
        if not same_key(recorded.key, key.key):
            raise ValueError("the log entry records another public key")
        return
    raise ValueError(f"unsupported log entry kind {kind}/{version}")


_BUNDLE_MEDIA_TYPES = (
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
)
_HASH_ALGORITHMS = frozenset({"SHA2_256", "SHA2_384", "SHA2_512", "SHA3_256", "SHA3_384"})


def simple_key_bundle(doc: dict[str, Any]) -> tuple[str, str | None, bytes] | None:
    """``(media type, key hint, signature)`` of a key bundle of the one common shape, else None.

    ``plugingate sign --key`` and ``cosign sign-blob --key --tlog-upload=false`` write a message
    signature, a key hint and no log entry. Such a bundle is read here as ``sigstore_models`` (strict,
    no unknown field, lenient base64) would read it, because that pydantic model costs more to import
    than the rest of a cached re-gate; any other shape (log entries, a DSSE envelope, a certificate,
    snake_case or unknown fields, a null where an object is expected) returns None and goes to the model.
    """
    if doc.keys() != {"mediaType", "verificationMaterial", "messageSignature"}:
        return None
    media_type, material, message = doc["mediaType"], doc["verificationMaterial"], doc["messageSignature"]
    if not isinstance(media_type, str) or media_type not in _BUNDLE_MEDIA_TYPES:
        return None
    if not isinstance(material, dict) or material.keys() != {"publicKey", "tlogEntries"}:
        return None
    if not isinstance(material["tlogEntries"], list) or material["tlogEntries"]:
        return None
    key = material["publicKey"]
    if not isinstance(key, dict) or key.keys() != {"hint"} or not isinstance(key["hint"], str | None):
        return None
    if not isinstance(message, dict) or not {"signature"} <= message.keys() <= {"signature", "messageDigest"}:
        return None
    encoded = [message["signature"]]
    digest = message.get("messageDigest")
    if "messageDigest" in message:
        if not isinstance(digest, dict) or digest.keys() != {"algorithm", "digest"}:
            return None
        if not isinstance(digest["algorithm"], str) or digest["algorithm"] not in _HASH_ALGORITHMS:
            return None
        encoded.append(digest["digest"])
    if not all(isinstance(value, str) for value in encoded):
        return None
    try:
        decoded = [base64.b64decode(value) for value in encoded]
    except (binascii.Error, ValueError):
        return None
    return media_type, key["hint"], decoded[0]


def verify_with_key(
    doc: dict[str, Any],
    artifact: Artifact,
    keys: Sequence[LoadedPublicKey],
    trusted_root: Callable[[], TrustedRoot] | None,
    *,
    source: str,
    require_tlog: bool = False,
) -> VerifiedBundle:
    """Verify a managed-key bundle against trusted keys (and its log entries against the trusted root).

    A key bundle without log entries (``plugingate sign --key``, ``cosign sign-blob --tlog-upload=false``)
    verifies unless ``require_tlog``; one with entries must have every entry verify, since an entry that
    doesn't is evidence of tampering.
    """
    # NOTE: sigstore.models (TUF, Rekor types) costs half a second to import; a key bundle without log
    # entries, the common case for key-signed plugins, never needs it.

    # NOTE: protobuf JSON omits an empty repeated field: cosign writes no "tlogEntries" at all when it
    # did not upload to a log, which the model requires.
    material_doc = doc.get("verificationMaterial")
    if isinstance(material_doc, dict) and "tlogEntries" not in material_doc:
        doc = {**doc, "verificationMaterial": {**material_doc, "tlogEntries": []}}
    inner: Any = None
    hint: str | None
    message_signature: bytes | None
    simple = simple_key_bundle(doc)
    if simple is not None:
        media_type, hint, message_signature = simple
        entries: list[Any] = []
    else:
        from sigstore_models.bundle.v1 import Bundle as InnerBundle

        try:
            inner = InnerBundle.from_json(json.dumps(doc))
        except Exception as exc:  # NOTE: the model layer raises assorted errors on hostile input
            raise _invalid(source, "not a valid Sigstore bundle", exc) from exc
        media_type = inner.media_type
        material = inner.verification_material
        hint = material.public_key.hint if material.public_key is not None else None
        message_signature = inner.message_signature.signature if inner.message_signature is not None else None
        entries = list(material.tlog_entries or [])
    if media_type not in _BUNDLE_MEDIA_TYPES:
        raise _invalid(source, f"unsupported bundle media type {media_type!r}")
    if not keys:
        raise VerificationError(
            f"{source}: the bundle is signed with a managed key (hint {hint!r}) and no trusted key was given",
            rule_id=rules.UNTRUSTED_SIGNER.id,
            hint="pass --key PUB, or list the key in the policy's trustedSigners",
        )

    envelope_doc = doc.get("dsseEnvelope")
    payload_type: str | None = None
    payload: bytes | None = None
    message_pae: bytes | None = None
    if envelope_doc is not None:
        from plugingate.dsse import pae, parse_envelope

        env = parse_envelope(envelope_doc, source=source)
        payload_type = env["payloadType"]
        payload = base64.b64decode(env["payload"])
        message_pae = pae(payload_type, payload)
        signatures = [base64.b64decode(s["sig"]) for s in env["signatures"]]
        if len(signatures) != 1:
            raise _invalid(source, f"expected exactly one DSSE signature, found {len(signatures)}")
        signature = signatures[0]
    else:
        if message_signature is None:
            raise _invalid(source, "the bundle has neither a message signature nor a DSSE envelope")
        _check_message_digest(doc, artifact, source)
        signature = message_signature

    signer: LoadedPublicKey | None = None
    for key in keys:
        if message_pae is not None:
            ok = verify_bytes(key.key, signature, message_pae)
        else:
            ok = signature_matches(artifact, key.key, signature)
        if ok:
            signer = key
            break
    if signer is None:
        tried = ", ".join(k.describe() for k in keys)
        names = [k for k in keys if k.hint == hint]
        if hint is not None and not names:
            raise VerificationError(
                f"{source}: signed by a key with hint {hint!r}; expected one of: {tried}",
                rule_id=rules.UNTRUSTED_SIGNER.id,
            )
        raise VerificationError(
            f"{source}: the signature does not verify with {tried}",
            rule_id=rules.SIGNATURE_INVALID.id,
            hint="the signature or the artifact was altered, or it was made with another key",
        )
    if payload_type is not None and payload is not None:
        check_subject(payload_type, payload, artifact, source=source)

    if len(entries) > _MAX_TLOG_ENTRIES:
        raise _invalid(source, f"more than {_MAX_TLOG_ENTRIES} transparency log entries")
    if not entries and require_tlog:
        raise _invalid(source, "the bundle has no transparency log entry and one is required")
    if entries and trusted_root is None:
        raise _invalid(source, "the bundle has a transparency log entry but no trusted root was given")
    if entries:
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import InvalidBundle

        root = trusted_root()  # type: ignore[misc]
        keyring = rekor_keyring(root)
        for raw_entry in entries:
            try:
                entry = verify_log_entry(raw_entry, keyring)
                if raw_entry.inclusion_promise is not None and raw_entry.integrated_time is None:
                    raise ValueError("an inclusion promise without an integrated time")
                _check_key_entry_body(
                    entry,
                    signer,
                    signature=signature,
                    sha256_hex=artifact.sha256,
                    envelope=envelope_doc,
                    envelope_payload=payload,
                    envelope_pae=message_pae,
                )
            except (SigstoreError, InvalidBundle, KeyError, TypeError, ValueError, binascii.Error) as exc:
                raise _invalid(source, "the transparency log entry does not verify", exc) from exc
        _check_timestamps(inner, signature, root, source)
    if hint is not None and hint != key_hint(signer.key):
        # NOTE: the hint is advisory (the spec lets clients ignore it); a valid signature by a trusted
        # key decides, but a hint that names another key is odd enough to refuse.
        raise _invalid(source, f"the key hint {hint!r} does not name the key that signed ({signer.hint!r})")
    return VerifiedBundle(
        signer=SignerIdentity(kind=SignerKind.KEY, key=signer),
        payload_type=payload_type,
        payload=payload,
        transparency_log=bool(entries),
    )


def _check_timestamps(inner: Any, signature: bytes, trusted_root: TrustedRoot, source: str) -> None:
    """Signed timestamps present in a key bundle must verify against the trusted root's authorities."""
    data = inner.verification_material.timestamp_verification_data
    if data is None or not data.rfc3161_timestamps:
        return
    from rfc3161_client import decode_timestamp_response

    verifier = verifier_class()(trusted_root=trusted_root)
    if not trusted_root.get_timestamp_authorities():
        raise _invalid(source, "the bundle has a signed timestamp but the trusted root has no timestamp authority")
    for ts in data.rfc3161_timestamps[:32]:
        try:
            response = decode_timestamp_response(ts.signed_timestamp)
        except Exception as exc:  # NOTE: a malformed timestamp is a bundle that does not verify
            raise _invalid(source, "a signed timestamp is malformed", exc) from exc
        if not verify_signed_timestamp(verifier, response, signature):
            raise _invalid(source, "a signed timestamp does not verify against the trusted root")
