"""Revocation: a signed list of bundle and image digests that no attestation may vouch for any more.

An attestation stays valid until its ``validUntil``; a plugin found to be malicious must be
quarantined sooner. ``plugingate revoke DIGEST… --key KEY -o revoked.json`` writes a DSSE envelope
(payload type ``application/vnd.plugingate.revocations+json``) over a ``RevocationList`` document,
signed like the attestations; ``verify-attestation --revoked FILE --revocation-key PUB`` refuses
any statement one of whose subjects (the bundle or an image) is listed.

A list that does not verify against the revocation key cannot be honoured, and a verifier that was
asked to honour one must not go on without it: that is exit 3 (fail closed), not a pass.

In the cluster the same digests are published as a ConfigMap (``--configmap``) that the admission
policies read; there, who may write the ConfigMap (RBAC) is what protects it (docs/attestation.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugingate.attestation.predicate import parse_rfc3339, rfc3339
from plugingate.attestation.statement import parse_digest
from plugingate.errors import InputError, UndecidedError, VerificationError
from plugingate.files import read_bounded

if TYPE_CHECKING:
    from plugingate.keys import LoadedPublicKey, PrivateKey

PAYLOAD_TYPE = "application/vnd.plugingate.revocations+json"
API_VERSION = "plugingate.dev/v1"
KIND = "RevocationList"
CONFIGMAP_NAME = "plugingate-revocations"
CONFIGMAP_KEY = "digests"
MAX_FILE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Revoked:
    """One revoked digest (``sha256:<hex>``) and why."""

    digest: str
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"digest": self.digest}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class RevocationList:
    """The revoked digests, as signed; ``digests`` is normalised to ``algorithm:hex`` lower case."""

    issued_at: datetime
    entries: Sequence[Revoked]

    @property
    def digests(self) -> frozenset[str]:
        return frozenset(e.digest for e in self.entries)

    def find(self, algorithm: str, hexdigest: str) -> Revoked | None:
        """The entry revoking ``algorithm:hexdigest``, if any."""
        wanted = f"{algorithm}:{hexdigest.lower()}"
        return next((e for e in self.entries if e.digest == wanted), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "issuedAt": rfc3339(self.issued_at),
            "revoked": [e.to_dict() for e in sorted(self.entries, key=lambda e: e.digest)],
        }


def normalise_digest(value: str, *, field: str = "DIGEST") -> str:
    """``sha256:<hex>`` (also ``IMAGE@sha256:<hex>``, bare hex) → ``sha256:<hex>``; ``InputError`` otherwise."""
    text = value.strip()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    try:
        algorithm, hexdigest = parse_digest(text)
    except ValueError as exc:
        raise InputError(str(exc), field=field) from exc
    return f"{algorithm}:{hexdigest}"


def make_list(digests: Iterable[str], *, issued_at: datetime, reason: str | None = None) -> RevocationList:
    """A revocation list of ``digests`` (deduplicated), each with ``reason``."""
    seen = sorted({normalise_digest(d) for d in digests})
    if not seen:
        raise InputError("no digest to revoke", field="DIGEST")
    return RevocationList(issued_at=issued_at, entries=tuple(Revoked(d, reason) for d in seen))


def sign_list(revocations: RevocationList, key: PrivateKey) -> dict[str, Any]:
    """The DSSE envelope over the list's canonical JSON."""
    from plugingate.dsse import sign_envelope

    payload = json.dumps(revocations.to_dict(), sort_keys=True, separators=(",", ":")).encode()
    return sign_envelope(payload, PAYLOAD_TYPE, key)


def configmap(revocations: RevocationList, *, namespace: str) -> dict[str, Any]:
    """The ConfigMap the admission policies look up: ``data.digests`` is a JSON array of ``sha256:<hex>``."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIGMAP_NAME,
            "namespace": namespace,
            "annotations": {"plugingate.dev/issued-at": rfc3339(revocations.issued_at)},
        },
        "data": {CONFIGMAP_KEY: json.dumps(sorted(revocations.digests))},
    }


def load_list(path: Path, keys: Sequence[LoadedPublicKey]) -> RevocationList:
    """Read and verify a signed revocation list.

    Unreadable or not an envelope: ``InputError`` (exit 2). Not signed by one of ``keys``, or another
    payload type: ``UndecidedError`` (exit 3): the list cannot be honoured, so nothing is verified.
    """
    from plugingate.dsse import verify_envelope_with

    source = str(path)
    data = read_bounded(path, MAX_FILE_BYTES, "the revocation list")
    try:
        envelope = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not JSON: {exc}", path=source, hint="give the file plugingate revoke -o wrote") from exc
    if not isinstance(envelope, dict) or "payloadType" not in envelope or "signatures" not in envelope:
        raise InputError("not a DSSE envelope (payloadType, payload, signatures)", path=source)
    try:
        verified = verify_envelope_with(envelope, keys, source=source)
    except VerificationError as exc:
        raise UndecidedError(
            f"{source}: the revocation list is not signed by the revocation key ({exc.message}); "
            "it cannot be honoured, so nothing is admitted",
            hint="check --revocation-key against the key that ran plugingate revoke",
        ) from exc
    if verified.payload_type != PAYLOAD_TYPE:
        raise UndecidedError(f"{source}: payload type {verified.payload_type!r} is not {PAYLOAD_TYPE!r}")
    return _parse(verified.payload, source)


def _parse(payload: bytes, source: str) -> RevocationList:
    try:
        doc = json.loads(payload)
        if not isinstance(doc, dict) or doc.get("apiVersion") != API_VERSION or doc.get("kind") != KIND:
            raise ValueError(f"expected apiVersion {API_VERSION}, kind {KIND}")
        revoked = doc["revoked"]
        if not isinstance(revoked, list):
            raise ValueError("revoked must be a list")
        entries = tuple(
            Revoked(normalise_digest(str(item["digest"]), field="revoked[].digest"), item.get("reason"))
            for item in revoked
        )
        return RevocationList(issued_at=parse_rfc3339(str(doc["issuedAt"])), entries=entries)
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError, InputError) as exc:
        message = exc.message if isinstance(exc, InputError) else str(exc)
        raise UndecidedError(f"{source}: the signed revocation list is malformed: {message}") from exc
