"""Every use of the sigstore library's private API, in one adapter.

plugingate closes gaps the library leaves (``intoto/0.0.2`` log entries, a timestamp at the very end
of its authority's validity, v0.1 bundles with an inclusion promise only, managed-key bundles' log
entries) by reaching into it: a subclass of ``Verifier`` overriding private methods, private
attributes of ``Bundle``, ``TransparencyLogEntry`` and ``Envelope``, private modules. None of that is
promised to hold across versions, so all of it is here, and ``INTERNALS`` lists what is relied on.
``check_internals`` compares that list with the installed library (names, and the parameters of the
methods called or overridden); ``tests/signature/test_sigstore_adapter.py`` runs it, so an upgrade
that moves any of them fails with a message naming what changed, not with a wrong verification.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import inspect
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sigstore.models import Bundle, TransparencyLogEntry, TrustedRoot


@dataclass(frozen=True, slots=True)
class Internal:
    """One private name of the library relied on: where it lives, and the parameters it must take.

    ``params`` is ``None`` for a name that is not called or overridden (a class, an enum, a module);
    ``source_mentions`` are attributes that must appear in the owner's source (instance attributes set
    in ``__init__``, which only the source shows).
    """

    module: str
    name: str
    params: tuple[str, ...] | None = None
    source_mentions: tuple[str, ...] = ()

    def describe(self) -> str:
        """``sigstore.verify.Verifier._establish_time``."""
        return f"{self.module}.{self.name}"


INTERNALS: tuple[Internal, ...] = (
    Internal("sigstore.verify", "Verifier.__init__", ("self", "trusted_root"), ("self._trusted_root",)),
    Internal("sigstore.verify", "Verifier._verify_signed_timestamp", ("self", "timestamp_response", "message")),
    Internal("sigstore.verify", "Verifier._establish_time", ("self", "bundle")),
    Internal("sigstore.verify", "Verifier._verify_timestamp_authority", ("self", "bundle")),
    Internal("sigstore.verify", "Verifier._verify_common_signing_cert", ("self", "bundle", "policy")),
    Internal("sigstore.verify", "Verifier.verify_dsse", ("self", "bundle", "policy")),
    Internal("sigstore.dsse", "_verify", ("key", "evp")),
    Internal("sigstore.dsse", "Envelope", None, ("self._inner",)),
    Internal("sigstore._utils", "cert_is_leaf", ("cert",)),
    Internal("sigstore._internal.timestamp", "TimestampSource"),
    Internal("sigstore._internal.timestamp", "TimestampVerificationResult"),
    Internal("sigstore._internal.trust", "KeyringPurpose"),
    Internal(
        "sigstore.models",
        "Bundle",
        None,
        ("self._inner", "self._signing_certificate", "self._log_entry", "self._dsse_envelope"),
    ),
    Internal("sigstore.models", "TransparencyLogEntry.__init__", ("self", "inner"), ("self._inner",)),
    Internal("sigstore.models", "TransparencyLogEntry._validate", ("self",)),
    Internal("sigstore.models", "TransparencyLogEntry._verify", ("self", "keyring")),
    Internal("sigstore.models", "TransparencyLogEntry._verify_set", ("self", "keyring")),
    Internal("sigstore._store", "__name__"),  # the embedded trusted roots, read as package data
)


def _resolve(internal: Internal) -> Any:
    target: Any = importlib.import_module(internal.module)
    for part in internal.name.split("."):
        target = getattr(target, part)
    return target


def check_internals() -> list[str]:
    """What of ``INTERNALS`` the installed sigstore no longer has as relied on (empty: all of it holds)."""
    from importlib.metadata import version

    where = "plugingate/signature/sigstore_adapter.py"
    problems: list[str] = []
    for internal in INTERNALS:
        try:
            target = _resolve(internal)
        except (ImportError, AttributeError) as exc:
            problems.append(f"{internal.describe()} is gone ({exc})")
            continue
        if internal.params is not None:
            try:
                found = tuple(inspect.signature(target).parameters)
            except (TypeError, ValueError) as exc:
                problems.append(f"{internal.describe()} has no inspectable signature ({exc})")
                continue
            if found != internal.params:
                problems.append(f"{internal.describe()} takes {found}, not {internal.params}")
        if internal.source_mentions:
            try:
                source = inspect.getsource(target)
            except (TypeError, OSError) as exc:
                problems.append(f"{internal.describe()}: its source cannot be read ({exc})")
                continue
            problems.extend(
                f"{internal.describe()} no longer mentions {mention}"
                for mention in internal.source_mentions
                if mention not in source
            )
    release = version("sigstore")
    return [f"sigstore {release} changed {p}; the adapter in {where} must be revisited" for p in problems]


def bundled_trusted_root(folder: str) -> bytes:
    """The library's embedded ``trusted_root.json`` of a TUF repository (its private ``_store`` data)."""
    from importlib import resources

    return resources.files("sigstore._store").joinpath(folder, "trusted_root.json").read_bytes()


def log_entry_kind(entry: TransparencyLogEntry) -> tuple[str, str]:
    """A log entry's ``(kind, version)``, as its private inner model records them."""
    kind_version = entry._inner.kind_version
    return kind_version.kind, kind_version.version


def log_entry_body(entry: TransparencyLogEntry) -> dict[str, Any]:
    """A log entry's canonicalized body, parsed."""
    body = json.loads(entry._inner.canonicalized_body)
    if not isinstance(body, dict):
        raise ValueError("the log entry body is not an object")
    return body


def rekor_keyring(root: TrustedRoot) -> Any:
    """The trusted root's Rekor keys, for verifying log entries."""
    from sigstore._internal.trust import KeyringPurpose

    return root.rekor_keyring(KeyringPurpose.VERIFY)


def verify_log_entry(raw_entry: Any, keyring: Any) -> TransparencyLogEntry:
    """A log entry of a bundle's model, verified against the keyring (proof, checkpoint, promise)."""
    from sigstore.models import TransparencyLogEntry

    entry = TransparencyLogEntry(raw_entry)
    entry._verify(keyring)
    return entry


def verify_signed_timestamp(verifier: Any, response: Any, message: bytes) -> bool:
    """Whether an RFC 3161 timestamp over ``message`` verifies against the verifier's authorities."""
    return verifier._verify_signed_timestamp(response, message) is not None


def verified_signing_times(verifier: Any, bundle: Bundle, root: TrustedRoot) -> list[datetime]:
    """The times at which the bundle proves it was signed: its RFC 3161 timestamps that verify
    against the root's authorities, and the log's integrated time when the log entry verifies.

    # NOTE: used only to explain a failed verification (a certificate not valid at those times); an
    # unverifiable time is left out, so that a forged time cannot pass for an expired certificate.
    """
    from sigstore._internal.timestamp import TimestampSource

    try:
        established = verifier._establish_time(bundle)
    except Exception:  # NOTE: only an explanation is at stake; the bundle is refused whatever happens here
        return []
    times: list[datetime] = []
    log_verified: bool | None = None
    for result in established:
        if result.source is TimestampSource.TRANSPARENCY_SERVICE:
            if log_verified is None:
                try:
                    bundle.log_entry._verify(rekor_keyring(root))
                    log_verified = True
                except Exception:  # NOTE: as above; an unverifiable log time is simply not used
                    log_verified = False
            if not log_verified:
                continue
        times.append(result.time)
    return times


def verifier_class() -> type:
    """The library's ``Verifier`` with the gaps closed (built lazily: the library is heavy).

    - ``intoto/0.0.2`` log entries: the integrated time is accepted and the entry body is checked
      against the envelope (payload hash, signatures, certificate);
    - a timestamp exactly at the end of its authority's validity is valid (``validFor`` is closed).
    """
    from cryptography.hazmat.primitives.asymmetric import ec
    from rfc3161_client import VerificationError as Rfc3161VerificationError
    from rfc3161_client import VerifierBuilder
    from sigstore import dsse as sigstore_dsse
    from sigstore._internal.timestamp import TimestampSource, TimestampVerificationResult
    from sigstore.errors import VerificationError as SigstoreVerificationError
    from sigstore.verify import Verifier

    class _Verifier(Verifier):
        def _verify_signed_timestamp(self, timestamp_response: Any, message: bytes) -> Any:
            # NOTE: the authority's validFor is a closed interval: a timestamp equal to its end is in.
            for authority in self._trusted_root.get_timestamp_authorities():
                certs = authority.certificates(allow_expired=True)
                if len(certs) < 2:
                    continue
                builder = VerifierBuilder().tsa_certificate(certs[0]).add_root_certificate(certs[-1])
                for cert in certs[1:-1]:
                    builder = builder.add_intermediate_certificate(cert)
                try:
                    builder.build().verify_message(timestamp_response, message)
                except Rfc3161VerificationError:
                    continue
                when = timestamp_response.tst_info.gen_time
                end = authority.validity_period_end
                if authority.validity_period_start <= when and (not end or when <= end):
                    return TimestampVerificationResult(source=TimestampSource.TIMESTAMP_AUTHORITY, time=when)
            return None

        def _establish_time(self, bundle: Bundle) -> list[Any]:
            times: list[Any] = []
            if bundle.verification_material.timestamp_verification_data:
                if not self._trusted_root.get_timestamp_authorities():
                    raise SigstoreVerificationError(
                        "the bundle has a signed timestamp but the trusted root has no timestamp authority"
                    )
                times.extend(self._verify_timestamp_authority(bundle))
            entry = bundle.log_entry._inner
            if entry.integrated_time and entry.inclusion_promise:
                kind = (entry.kind_version.kind, entry.kind_version.version)
                if kind not in (("dsse", "0.0.1"), ("hashedrekord", "0.0.1"), ("intoto", "0.0.2")):
                    raise SigstoreVerificationError(f"integrated time is not supported for {kind[0]}/{kind[1]}")
                times.append(
                    TimestampVerificationResult(
                        source=TimestampSource.TRANSPARENCY_SERVICE,
                        time=datetime.fromtimestamp(entry.integrated_time, tz=UTC),
                    )
                )
            return times

        def verify_dsse(self, bundle: Bundle, policy: Any) -> tuple[str, bytes]:
            kv = bundle.log_entry._inner.kind_version
            if (kv.kind, kv.version) != ("intoto", "0.0.2"):
                result: tuple[str, bytes] = super().verify_dsse(bundle, policy)
                return result
            self._verify_common_signing_cert(bundle, policy)
            envelope = bundle._dsse_envelope
            if envelope is None:
                raise SigstoreVerificationError("the bundle has no DSSE envelope")
            signing_key = bundle.signing_certificate.public_key()
            if not isinstance(signing_key, ec.EllipticCurvePublicKey):
                raise SigstoreVerificationError("the signing certificate's key is not ECDSA")
            sigstore_dsse._verify(signing_key, envelope)
            _check_intoto_v002_body(bundle)
            return envelope._inner.payload_type, envelope._inner.payload

    return _Verifier


def _b64_twice(value: str) -> bytes:
    return base64.b64decode(base64.b64decode(value, validate=True), validate=True)


def _check_intoto_v002_body(bundle: Bundle) -> None:
    """The ``intoto/0.0.2`` entry must record this envelope: payload hash, signatures, certificate."""
    from cryptography import x509
    from sigstore.errors import VerificationError as SigstoreVerificationError

    envelope = bundle._dsse_envelope
    assert envelope is not None
    try:
        body = json.loads(bundle.log_entry._inner.canonicalized_body)
        content = body["spec"]["content"]
        if body.get("kind") != "intoto" or body.get("apiVersion") != "0.0.2":
            raise ValueError("not an intoto/0.0.2 entry")
        payload_hash = content["payloadHash"]
        recorded = content["envelope"]
        if payload_hash.get("algorithm") != "sha256":
            raise ValueError("payload hash is not sha256")
        if payload_hash.get("value") != hashlib.sha256(envelope._inner.payload).hexdigest():
            raise ValueError("the payload hash does not match the envelope's payload")
        if recorded.get("payloadType") != envelope._inner.payload_type:
            raise ValueError("the payload type does not match the envelope's")
        if "payload" in recorded and _b64_twice(recorded["payload"]) != envelope._inner.payload:
            raise ValueError("the recorded payload does not match the envelope's")
        signatures = recorded["signatures"]
        if len(signatures) != len(envelope._inner.signatures):
            raise ValueError("the recorded signatures do not match the envelope's")
        leaf = bundle.signing_certificate
        for got, want in zip(signatures, envelope._inner.signatures, strict=True):
            if _b64_twice(got["sig"]) != want.sig:
                raise ValueError("a recorded signature does not match the envelope's")
            cert = x509.load_pem_x509_certificate(base64.b64decode(got["publicKey"], validate=True))
            if cert != leaf:
                raise ValueError("the recorded certificate is not the bundle's")
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise SigstoreVerificationError(f"transparency log entry is inconsistent with the bundle: {exc}") from exc


def load_promise_only_bundle(doc: dict[str, Any], entry: dict[str, Any]) -> Bundle:
    """A v0.1 bundle with only an inclusion promise, which the library refuses to load.

    # NOTE: the bundle specification makes the inclusion promise (Rekor's signed entry timestamp)
    # the required proof for v0.1, and the inclusion proof optional; the library requires the proof
    # for every version. Such bundles are loaded here with a log entry that verifies its promise
    # against the trusted root's Rekor keys (and has no proof to verify); everything else (the
    # certificate chain at the integrated time, the SCT, the signature, the body) is the library's.
    """
    from cryptography.x509 import load_der_x509_certificate
    from sigstore._utils import cert_is_leaf
    from sigstore.models import Bundle, InvalidBundle, TransparencyLogEntry
    from sigstore_models.bundle.v1 import Bundle as InnerBundle

    class _PromiseOnlyEntry(TransparencyLogEntry):
        def _validate(self) -> None:
            if self._inner.inclusion_promise is None or not self._inner.integrated_time:
                raise InvalidBundle("a v0.1 bundle needs an inclusion promise with an integrated time")

        def _verify(self, keyring: Any) -> None:
            self._verify_set(keyring)

    # NOTE: the model requires an inclusion proof field; a placeholder lets it load. It is never read:
    # the entry class below verifies the promise only.
    entry_doc = dict(entry)
    entry_doc["inclusionProof"] = {
        "logIndex": "0",
        "rootHash": "",
        "treeSize": "1",
        "hashes": [],
        "checkpoint": {"envelope": ""},
    }
    material = dict(doc["verificationMaterial"])
    material["tlogEntries"] = [entry_doc]
    inner = InnerBundle.from_json(json.dumps({**doc, "verificationMaterial": material}))
    chain = inner.verification_material.x509_certificate_chain
    if chain is None or not chain.certificates:
        raise InvalidBundle("expected a non-empty certificate chain in a v0.1 bundle")
    leaf = load_der_x509_certificate(chain.certificates[0].raw_bytes)
    if not cert_is_leaf(leaf):
        raise InvalidBundle("the first certificate of the chain is not a leaf certificate")
    entries = inner.verification_material.tlog_entries
    if len(entries) != 1:
        raise InvalidBundle("expected exactly one log entry in the bundle")
    bundle: Bundle = Bundle.__new__(Bundle)
    bundle._inner = inner
    bundle._signing_certificate = leaf
    bundle._log_entry = _PromiseOnlyEntry(entries[0])
    return bundle
